// Prepends the SHA-256 of scene_view.js to the bundle, so a test can tell a stale bundle from a fresh one.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const source = readFileSync("scene_view.js");
const digest = createHash("sha256").update(source).digest("hex");
const bundle = readFileSync("scene_view.bundle.js", "utf8");
writeFileSync("scene_view.bundle.js", `// elfviz scene_view.js sha256=${digest} (built by \`npm run build\`; do not edit)\n${bundle}`);
