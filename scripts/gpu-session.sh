#!/usr/bin/env bash
# Everything elfviz checks on a CUDA machine, in one run (the device tool's budget is ~15 min per task):
#   1. the gpu-marked tests;  2. the model benchmark on CUDA, the atom-channel candidate beside the bundled model;
#   3. the atom-channel ablation at the recipe's budget (14000 points per frame, 40 epochs) on CUDA, 1.6 vs atoms
#      (not messages: its per-atom terms at that budget are ~37 GB and take longer than this step's 8 minutes),
#      chosen by validation frames, then scored once on the test split and the crystals.
# Results go to $OUT (default ./gpu-results). QUICK=1 runs a seconds-long version of each step (CPU check).
# Run from the repository root: bash scripts/gpu-session.sh
set -uo pipefail
OUT="${OUT:-gpu-results}"
mkdir -p "$OUT"
DEVICE=cuda; ABLATION=(--epochs 40 --points-per-frame 14000); CASES="64:64,1000:128"
if [ "${QUICK:-0}" = "1" ]; then
    DEVICE=cpu; ABLATION=(--epochs 1 --points-per-frame 200 --max-frames 6); CASES="16:32"
fi
status=0
step() { echo "== $1 ($(date +%T))"; }

step "gpu-marked tests"
python -m pytest -m gpu -q -p no:cacheprovider 2>&1 | tail -15 | tee "$OUT/pytest-gpu.txt" || status=1

step "model benchmark on $DEVICE, with the atom-channel candidate"
python benchmarks/bench_model.py --device "$DEVICE" --cases "$CASES" --repeats 3 --atom-channels --messages \
    --json "$OUT/bench_model.json" 2>&1 | grep -v Warning | tee "$OUT/bench_model.txt" || status=1

step "atom-channel ablation on $DEVICE"
timeout 480 python -m elfviz.cli.programs.atom_ablation --out "$OUT/ablation" --device "$DEVICE" \
    --variants 1.6 atoms "${ABLATION[@]}" --test 2>&1 | grep -v Warning | tail -40 | tee "$OUT/ablation.txt" || status=1
step "done (status $status)"
exit "$status"
