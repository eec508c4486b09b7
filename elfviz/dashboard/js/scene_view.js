// The dashboard's 3-D view: one three.js scene and one WebGL context for the life of the page.
//
// The server sends the whole scene as one binary `payload` (see elfviz/dashboard/scene_payload.py):
//   bytes 0-3    little-endian uint32 N, the length of the JSON header
//   bytes 4-4+N  UTF-8 JSON {revision, view_key, meshes: [{name, kind, n_points, n_indices,
//                 points_offset, indices_offset, colours_offset, opacity, line_width}]}
//   then, at 4-byte aligned offsets from the start of the payload, per mesh: float32 points (n_points x 3),
//   uint32 indices (n_indices: triangles x 3 or line segments x 2), uint8 RGB colours (n_points x 3).
// A new payload replaces the geometry of the meshes in place (objects and materials are reused); the
// renderer, canvas, camera and controls are kept. A new `view_key` (another structure or another set of
// periodic images) resets the camera the way VTK's `reset_camera` does from pyvista's "iso" direction, so
// the server can render the same picture. The camera the user chose is reported back as `camera` (vtk-style keys) when a gesture ends.
//
// Tests read `window.elfvizScenes[i].summary()` (what is drawn) in the page.

import {
  AmbientLight,
  Box3,
  BufferAttribute,
  BufferGeometry,
  Color,
  ColorManagement,
  DirectionalLight,
  DoubleSide,
  LinearSRGBColorSpace,
  Mesh,
  MeshPhongMaterial,
  PerspectiveCamera,
  Scene,
  Vector3,
  WebGLRenderer,
} from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { LineMaterial } from "three/examples/jsm/lines/LineMaterial.js";
import { LineSegments2 } from "three/examples/jsm/lines/LineSegments2.js";
import { LineSegmentsGeometry } from "three/examples/jsm/lines/LineSegmentsGeometry.js";

const VIEW_ANGLE = 30; // degrees, vertical: VTK's default, so the server renders the same projection
const ISO_DIRECTION = new Vector3(1, 1, 1).normalize(); // pyvista's camera_position = "iso"
const ISO_UP = new Vector3(0, 0, 1);
const REMOVE_GRACE_MS = 2000; // a view re-rendered within this time keeps its context
// Smooth edges cost little on a GPU but MSAA doubles the frame time of software WebGL (SwiftShader,
// llvmpipe: headless browsers, remote desktops). So: no MSAA, and on a hardware GPU the scene is drawn at
// twice the resolution (supersampling); software renderers draw at one pixel per CSS pixel.
const SUPERSAMPLE = 2;
const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software/i;
// Colours are used as sent (8-bit RGB, lit without a linear/sRGB round trip), as VTK does on the server,
// so the browser and an exported PNG show the same colours. three.js divides diffuse light by pi.
ColorManagement.enabled = false;
const AMBIENT = 0.35 * Math.PI;
const HEADLIGHT = 0.75 * Math.PI;

const live = new Map(); // uid -> view state (survives a re-render of the Bokeh view)

function registry() {
  if (!window.elfvizScenes) {
    window.elfvizScenes = [];
  }
  return window.elfvizScenes;
}

function toBytes(payload) {
  if (payload == null) return null;
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  if (ArrayBuffer.isView(payload)) return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  if (typeof payload === "string") { // base64 (Bokeh's fallback encoding)
    const binary = atob(payload);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }
  if (payload.buffer instanceof ArrayBuffer) return new Uint8Array(payload.buffer);
  throw new Error(`elfviz scene view: unsupported payload type ${Object.prototype.toString.call(payload)}`);
}

export function decodePayload(payload) {
  const bytes = toBytes(payload);
  if (bytes === null || bytes.byteLength < 4) return null;
  // copy into a fresh, aligned buffer so every typed view below is aligned
  const buffer = bytes.slice().buffer;
  const headerLength = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  const meshes = header.meshes.map((m) => ({
    ...m,
    points: new Float32Array(buffer, m.points_offset, m.n_points * 3),
    indices: new Uint32Array(buffer, m.indices_offset, m.n_indices),
    colours: new Uint8Array(buffer, m.colours_offset, m.n_points * 3),
  }));
  return { ...header, meshes };
}

function makeGeometry(mesh) {
  if (mesh.kind === "lines") { // wide lines (WebGL draws GL lines 1 px wide whatever the width asked)
    const n = mesh.indices.length;
    const positions = new Float32Array(n * 3);
    const colours = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const p = mesh.indices[i];
      for (let k = 0; k < 3; k++) {
        positions[3 * i + k] = mesh.points[3 * p + k];
        colours[3 * i + k] = mesh.colours[3 * p + k] / 255;
      }
    }
    const lines = new LineSegmentsGeometry();
    lines.setPositions(positions);
    lines.setColors(colours);
    return lines;
  }
  const geometry = new BufferGeometry();
  geometry.setAttribute("position", new BufferAttribute(mesh.points, 3));
  geometry.setAttribute("color", new BufferAttribute(mesh.colours, 3, true));
  geometry.setIndex(new BufferAttribute(mesh.indices, 1));
  geometry.computeVertexNormals();
  return geometry;
}

function makeObject(mesh, geometry) {
  const transparent = mesh.opacity < 1;
  if (mesh.kind === "lines") {
    const material = new LineMaterial({ vertexColors: true, transparent, opacity: mesh.opacity,
                                        linewidth: mesh.line_width || 1, worldUnits: false });
    return new LineSegments2(geometry, material);
  }
  const material = new MeshPhongMaterial({
    vertexColors: true, side: DoubleSide, transparent, opacity: mesh.opacity, depthWrite: !transparent,
    shininess: 20, specular: new Color(0x222222),
  });
  const object = new Mesh(geometry, material);
  object.renderOrder = transparent ? 1 : 0;
  return object;
}

function sameStyle(object, mesh) {
  const isLines = object.isLineSegments2 === true;
  return isLines === (mesh.kind === "lines") && object.material.opacity === mesh.opacity;
}

function disposeObject(object) {
  object.geometry.dispose();
  object.material.dispose();
}

function glRendererName(gl) {
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
}

function createView(uid) {
  const canvas = document.createElement("canvas");
  canvas.className = "elfviz-scene-canvas";
  canvas.style.display = "block";
  canvas.style.width = "100%";
  canvas.style.height = "100%";
  canvas.style.touchAction = "none";
  const renderer = new WebGLRenderer({ canvas, antialias: false });
  const software = SOFTWARE_GL.test(glRendererName(renderer.getContext()));
  renderer.setPixelRatio(software ? 1 : Math.min(SUPERSAMPLE * (window.devicePixelRatio || 1), 3));
  renderer.setClearColor(0xffffff, 1);
  renderer.outputColorSpace = LinearSRGBColorSpace;
  const scene = new Scene();
  scene.add(new AmbientLight(0xffffff, AMBIENT));
  const camera = new PerspectiveCamera(VIEW_ANGLE, 1, 0.01, 1000);
  const headlight = new DirectionalLight(0xffffff, HEADLIGHT); // follows the camera, like VTK's headlight
  camera.add(headlight);
  headlight.position.set(0.3, 0.4, 1);
  scene.add(camera);
  const controls = new OrbitControls(camera, canvas);
  controls.enableDamping = false;
  controls.screenSpacePanning = true;

  const view = {
    uid, canvas, renderer, scene, camera, controls,
    objects: new Map(), // name -> three object
    counts: {}, // name -> {points, triangles, lines, opacity}
    revision: -1,
    viewKey: null,
    renders: 0,
    applyMs: 0, // time to decode a payload and build its geometry (ms)
    renderMs: 0, // time of the last render call (ms)
    pending: false,
    model: null,
    removeTimer: null,
    resizeObserver: null,
  };

  view.draw = () => {
    if (view.pending) return;
    view.pending = true;
    requestAnimationFrame(() => {
      view.pending = false;
      const { clientWidth: w, clientHeight: h } = canvas;
      const ratio = renderer.getPixelRatio();
      if (w > 0 && h > 0 && (canvas.width !== Math.floor(w * ratio) || canvas.height !== Math.floor(h * ratio))) {
        renderer.setSize(w, h, false);
        camera.aspect = w / h;
        camera.updateProjectionMatrix();
      }
      for (const object of view.objects.values()) {
        if (object.material.isLineMaterial) object.material.resolution.set(w, h); // line width in CSS px
      }
      const start = performance.now();
      renderer.render(scene, camera);
      view.renderMs = performance.now() - start;
      view.renders += 1;
    });
  };

  view.reportCamera = () => {
    if (view.model === null) return;
    view.model.camera = cameraState(view);
  };

  controls.addEventListener("change", view.draw);
  controls.addEventListener("end", view.reportCamera);

  view.summary = () => ({
    uid,
    revision: view.revision,
    viewKey: view.viewKey,
    meshes: JSON.parse(JSON.stringify(view.counts)),
    camera: cameraState(view),
    size: [canvas.clientWidth, canvas.clientHeight], // CSS pixels (the drawing buffer is pixelRatio times that)
    pixelRatio: renderer.getPixelRatio(),
    glRenderer: glRendererName(renderer.getContext()),
    renders: view.renders,
    applyMs: view.applyMs,
    renderMs: view.renderMs,
  });
  registry().push(view);
  return view;
}

function cameraState(view) {
  const { camera, controls } = view;
  const up = camera.up.clone();
  // VTK's view-up is orthogonal to the view direction
  const direction = new Vector3().subVectors(controls.target, camera.position).normalize();
  up.sub(direction.clone().multiplyScalar(up.dot(direction))).normalize();
  return {
    position: camera.position.toArray(),
    focalPoint: controls.target.toArray(),
    viewUp: up.toArray(),
    viewAngle: camera.fov,
  };
}

function resetCamera(view) {
  // VTK's reset_camera: look at the centre of the bounds from a distance at which the bounding sphere
  // (radius = half the diagonal of the bounds) fills the view angle.
  const box = new Box3();
  for (const object of view.objects.values()) {
    object.geometry.computeBoundingBox();
    box.union(object.geometry.boundingBox);
  }
  if (box.isEmpty()) return;
  const centre = box.getCenter(new Vector3());
  const radius = Math.max(box.getSize(new Vector3()).length() / 2, 1e-3);
  const distance = radius / Math.sin((VIEW_ANGLE * Math.PI) / 360);
  view.camera.up.copy(ISO_UP);
  view.camera.position.copy(centre).addScaledVector(ISO_DIRECTION, distance);
  view.controls.target.copy(centre);
  view.camera.near = Math.max(distance / 1000, 1e-3);
  view.camera.far = distance * 10;
  view.camera.updateProjectionMatrix();
  view.controls.update();
}

function applyPayload(view, payload) {
  const start = performance.now();
  const decoded = decodePayload(payload);
  if (decoded === null) return;
  // update in place: a mesh keeps its three.js object and material, only its geometry is replaced
  const names = new Set(decoded.meshes.map((m) => m.name));
  for (const [name, object] of view.objects) {
    if (!names.has(name)) {
      view.scene.remove(object);
      disposeObject(object);
      view.objects.delete(name);
    }
  }
  view.counts = {};
  for (const mesh of decoded.meshes) {
    const geometry = makeGeometry(mesh);
    let object = view.objects.get(mesh.name);
    if (object !== undefined && sameStyle(object, mesh)) {
      object.geometry.dispose();
      object.geometry = geometry;
    } else {
      if (object !== undefined) {
        view.scene.remove(object);
        disposeObject(object);
      }
      object = makeObject(mesh, geometry);
      object.name = mesh.name;
      view.objects.set(mesh.name, object);
      view.scene.add(object);
    }
    const perPrimitive = mesh.kind === "lines" ? 2 : 3;
    view.counts[mesh.name] = {
      points: mesh.n_points,
      triangles: mesh.kind === "lines" ? 0 : mesh.n_indices / perPrimitive,
      lines: mesh.kind === "lines" ? mesh.n_indices / perPrimitive : 0,
      opacity: mesh.opacity,
    };
  }
  if (decoded.view_key !== view.viewKey) {
    resetCamera(view);
    view.viewKey = decoded.view_key;
    view.reportCamera();
  }
  view.revision = decoded.revision;
  view.applyMs = performance.now() - start;
  view.draw();
}

export function render({ model, el }) {
  const uid = model.uid;
  let view = live.get(uid);
  if (view === undefined) {
    view = createView(uid);
    live.set(uid, view);
  } else if (view.removeTimer !== null) {
    clearTimeout(view.removeTimer);
    view.removeTimer = null;
  }
  view.model = model;
  el.style.width = "100%";
  el.style.height = "100%";
  el.appendChild(view.canvas);
  if (view.resizeObserver) view.resizeObserver.disconnect();
  view.resizeObserver = new ResizeObserver(() => view.draw());
  view.resizeObserver.observe(view.canvas);

  applyPayload(view, model.payload);
  model.on("payload", () => applyPayload(view, model.payload));
  model.on("remove", () => {
    if (view.resizeObserver) view.resizeObserver.disconnect();
    view.resizeObserver = null;
    view.model = null;
    view.removeTimer = setTimeout(() => {
      live.delete(uid);
      const scenes = registry();
      const index = scenes.indexOf(view);
      if (index >= 0) scenes.splice(index, 1);
      for (const object of view.objects.values()) disposeObject(object);
      view.controls.dispose();
      view.renderer.dispose();
      view.renderer.forceContextLoss();
    }, REMOVE_GRACE_MS);
  });
}
