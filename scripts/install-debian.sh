#!/usr/bin/env bash
# Everything elfviz's main job and its default tests need on Debian/Ubuntu, from a fresh clone:
#   Quantum ESPRESSO (reference ELF), Chromium (dashboard browser tests), then elfviz with every extra.
# Run from anywhere: bash scripts/install-debian.sh   (root, or a user with sudo for apt-get)
# conda users: mamba env create -f environment.yml (the same packages, from conda-forge).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y quantum-espresso quantum-espresso-data chromium

pip install torch==2.13.0 && pip install -e ".[all,dev]"
