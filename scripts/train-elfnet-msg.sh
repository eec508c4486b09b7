#!/usr/bin/env bash
# Retrain the default model elfnet-msg@2.1 on the bundled dataset: message-passing atom channels with a
# long-wavelength head inside the network's sigmoid (issue #21), 2 networks (seeds 0 and 1), each 3000 points per
# training frame and 20 epochs (atom_ablation's defaults), then joined into one model, OUT/elfnet (scored on whole
# validation frames). 2 CPU cores: about 35 min per network (14 of them for its pools). A stopped run continues:
# rerun the same command.
# Usage (repository root): bash scripts/train-elfnet-msg.sh OUT [VERSION]
#   then: python -m elfviz.cli.programs.evaluate --weights OUT/elfnet   (its test-split card, OUT/elfnet_CARD.md)
# QUICK=1 trains a seconds-long version (a check of the recipe, not a model). VARIANT=messages+lowk trains
# elfnet-msg@2.0's head, added after the sigmoid, instead (docs/model_history.md).
set -euo pipefail
OUT="${1:?usage: bash scripts/train-elfnet-msg.sh OUT [VERSION]}"
VERSION="${2:-elfnet-msg@2.1-retrained}"
BUDGET=(); [ "${QUICK:-0}" = "1" ] && BUDGET=(--epochs 1 --points-per-frame 200 --max-frames 6)
runs=()
for seed in 0 1; do
    run="$OUT/seed$seed"; runs+=("$run")
    [ -f "$run/ablation.json" ] && continue  # finished earlier
    resume=(); [ -f "$run/budget.json" ] && resume=(--resume)
    python -m elfviz.cli.programs.atom_ablation --out "$run" --seeds "$seed" --variants "${VARIANT:-messages+lowk-logit}" \
        --threads "${THREADS:-2}" "${BUDGET[@]}" "${resume[@]}"
done
python -m elfviz.cli.programs.atom_ablation --from-run "${runs[0]}" --join "${runs[1]}" --export "$OUT/elfnet" \
    --version "$VERSION"
