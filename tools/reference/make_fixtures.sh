#!/usr/bin/env bash
# Regenerates every golden fixture under Tests/RecurrentTests/Fixtures by running each
# tools/reference/make_*.py with the reference virtualenv's python (default /work/venv;
# override with VENV=/path/to/venv). See README.md in this folder.
#
# The generators it picks up (every tools/reference/make_*.py, in name order):
#   make_keras_callback_fixtures.py -> keras_callbacks.json (ReduceLROnPlateau, CSVLogger, TerminateOnNaN on scripted logs)
#   make_keras_fit_fixtures.py  -> keras_fit.json          (fit with sample weights, one epoch of SGD)
#   make_keras_rnn_fixtures.py  -> keras_rnn.safetensors   (Keras 3 SimpleRNN/LSTM/GRU/Bidirectional; RNN_FIXTURES.md)
#   make_model_fixtures.py      -> models/                 (whole Keras models: keras_*.npz weights, keras_models.safetensors
#                                                           with inputs, predictions, summaries; torch_models.safetensors)
#   make_numpy_fixtures.py      -> numpy/                  (.npy/.npz written by NumPy: every dtype, Fortran order, big-endian,
#                                                           format 2.0/3.0, savez, savez_compressed, ZIP64; expected.safetensors)
#   make_optimizer_fixtures.py  -> optimizers.safetensors  (optimizers, clipping, LR schedules)
#   make_text_fixtures.py       -> text_keras.json         (legacy Keras Tokenizer, keras.utils.pad_sequences)
#   make_torch_rnn_fixtures.py  -> torch_rnn.safetensors   (torch.nn.RNN/LSTM/GRU; RNN_FIXTURES.md)
#   make_torch_tensor_fixtures.py -> torch_tensor_ops.safetensors (indexing, permute, stack, reductions, nn losses, Adam)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${VENV:-/work/venv}"
python="$venv/bin/python"
if [[ ! -x "$python" ]]; then
    echo "no python at $python: create the venv first (see $here/README.md)" >&2
    exit 1
fi
status=0
for script in "$here"/make_*.py; do
    echo "== $(basename "$script")"
    "$python" "$script" || { echo "FAILED: $script" >&2; status=1; }
done
exit $status
