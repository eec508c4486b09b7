#!/usr/bin/env bash
# Everything elfviz checks on a CUDA machine, in one run (the device tool's budget is ~15 min per task):
#   1. the gpu-marked tests;  2. the model benchmark on CUDA, both candidates beside the bundled model;
#   3. issue #21's variant with the head inside the sigmoid, messages+lowk-logit (VARIANT=messages+lowk for
#      elfnet-msg@2.0's head; 3000 points per frame, 20 epochs: its per-atom terms fit memory there),
#      seeds 0-3, one resumable run each (a second session continues them: rerun this script),
#      then joined into one 4-network model, $OUT/elfnet-msg-4 (scored on whole validation frames; the test
#      split is for the shipped model's card).
# Results go to $OUT (default ./gpu-results). QUICK=1 runs a seconds-long version of each step (CPU check).
# Run from the repository root: bash scripts/gpu-session.sh
set -uo pipefail
OUT="${OUT:-gpu-results}"
mkdir -p "$OUT"
DEVICE=cuda; ABLATION=(--epochs 20 --points-per-frame 3000); CASES="64:64,1000:128"; SEEDS="0 1 2 3"
if [ "${QUICK:-0}" = "1" ]; then
    DEVICE=cpu; ABLATION=(--epochs 1 --points-per-frame 200 --max-frames 6); CASES="16:32"; SEEDS="0 1"
fi
status=0
step() { echo "== $1 ($(date +%T))"; }

step "gpu-marked tests"
python -m pytest -m gpu -q -p no:cacheprovider 2>&1 | tail -15 | tee "$OUT/pytest-gpu.txt" || status=1

step "model benchmark on $DEVICE, with the atom-channel candidate"
python benchmarks/bench_model.py --device "$DEVICE" --cases "$CASES" --repeats 3 --atom-channels --messages \
    --json "$OUT/bench_model.json" 2>&1 | grep -v Warning | tee "$OUT/bench_model.txt" || status=1

VARIANT="${VARIANT:-messages+lowk-logit}"
step "$VARIANT, seeds $SEEDS, on $DEVICE"
runs=()
for seed in $SEEDS; do
    run="$OUT/${VARIANT}-s$seed"; runs+=("$run")
    [ -f "$run/ablation.json" ] && continue  # finished in an earlier session
    resume=(); [ -f "$run/budget.json" ] && resume=(--resume)
    timeout 900 python -m elfviz.cli.programs.atom_ablation --out "$run" --device "$DEVICE" --seeds "$seed" \
        --variants "$VARIANT" "${ABLATION[@]}" "${resume[@]}" 2>&1 | grep -v Warning | tail -8 \
        | tee -a "$OUT/messages-lowk.txt" || status=1
done
if [ ! -f "$OUT/elfnet-msg-4.pt" ] && [ -f "${runs[-1]}/ablation.json" ]; then
    python -m elfviz.cli.programs.atom_ablation --from-run "${runs[0]}" --join "${runs[@]:1}" --device "$DEVICE" \
        --export "$OUT/elfnet-msg-4" --version elfnet-msg@candidate-4 2>&1 | tail -2 | tee -a "$OUT/messages-lowk.txt"
fi
step "done (status $status)"
exit "$status"
