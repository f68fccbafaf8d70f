#!/usr/bin/env bash
# Builds recurrent-bench (release) and runs the side-by-side comparison with PyTorch and ONNX
# Runtime: bench/compare.py interleaves the two sides over several rounds and prints one table.
#   bench/compare.sh [--quick] [--rounds N] [--output FILE.md] [--raw FILE.jsonl] [...]
# Environment: PYTHON (default: python3, or /work/venv/bin/python when present),
#              SCRATCH_PATH (SwiftPM --scratch-path; default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x /work/venv/bin/python ] && echo /work/venv/bin/python || echo python3 )}"
SCRATCH_PATH="${SCRATCH_PATH:-.build}"
swift build -c release --scratch-path "$SCRATCH_PATH" --product recurrent-bench >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH_PATH" --show-bin-path)/recurrent-bench"
exec "$PYTHON" bench/compare.py --ours "$BIN" --python "$PYTHON" "$@"
