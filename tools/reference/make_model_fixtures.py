#!/usr/bin/env python3
"""Model-level golden files: whole Keras 3 Sequential models and small PyTorch modules.

Writes into Tests/RecurrentTests/Fixtures/models/ (see the README.md there):

  keras_NAME.npz            np.savez(path, *model.get_weights()): members arr_0, arr_1, ... in
                            get_weights() order (Keras layout and gate order, float32); member
                            timestamps pinned to 1980-01-01 so that reruns give identical bytes
  keras_models.safetensors  for each Keras model NAME (names never contain a dot):
      NAME.x  [3, ...]      the input batch (float32; token ids as float32 for Embedding models)
      NAME.y                model.predict(x) (inference: dropout off)
    metadata:
      NAME.summary          JSON list, one object per layer of model.layers:
                            {"name", "class", "output_shape" (as summary() prints it, e.g.
                            "(None, 10, 64)"), "params" (layer.count_params())}
      NAME.total_params, NAME.trainable_params, NAME.non_trainable_params   decimal integers
      NAME.summary_text     the exact text of model.summary(print_fn=..., line_length=100)
                            (rich box-drawing table, no colour or markup; ends with a newline)
      NAME.summary_text_default   the same with the default line length (88 for Sequential)
      NAME.layers           JSON object describing how the model was built (the Python source line)
      "models", "generator", "keras_version", "tensorflow_version"
  torch_models.safetensors
      classifier.<state_dict key>, classifier.x [4, 9] (token ids as float32), classifier.y [4, 3]
      seq2seq.<state_dict key>  (encoder.*, decoder.*, head.*), seq2seq.source [2, 5, 4],
      seq2seq.target [2, 6, 3], seq2seq.y [2, 6, 3]
    metadata:
      repr.NAME, count.NAME  repr() and parameter count of reference modules (see REPRS)
      "classifier.forward", "seq2seq.forward"   the forward passes in Python
      "generator", "torch_version"

Each Keras model is built after keras.backend.clear_session() (so layer names restart at
"lstm", "dense", ... and every model is called "sequential", as in a fresh Python session) and
keras.utils.set_random_seed(seed), seed = zlib.crc32(NAME) & 0x7fffffff; weights are the Keras
default initialisation except that every bias is then overwritten by uniform(-0.5, 0.5) from
np.random.RandomState(seed) (so that wrong bias handling shows), after which the same RandomState
draws the input. Torch modules are built under torch.manual_seed. One thread everywhere, oneDNN off.
"""
import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
# rich (which renders model.summary) sizes its console from COLUMNS; without a wide console a
# table wider than 80 columns loses its last column when output is not a terminal.
os.environ["COLUMNS"] = "200"

import json  # noqa: E402
import re  # noqa: E402
import zlib  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

import keras  # noqa: E402
import rich.text  # noqa: E402
import torch  # noqa: E402
from keras.src.utils.summary_utils import count_params, format_layer_shape  # noqa: E402
from safetensors.numpy import save_file as save_numpy  # noqa: E402
from safetensors.torch import save_file as save_torch  # noqa: E402
from fixture_io import write_fixture  # noqa: E402
from make_numpy_fixtures import pin_zip_timestamps  # noqa: E402

tf.get_logger().setLevel("ERROR")  # predict() on 14 differently shaped models warns about retracing

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "Tests", "RecurrentTests", "Fixtures", "models")
BATCH = 3
L = keras.layers


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


# ----------------------------------------------------------------------------- Keras models
# name -> (input spec, layer-building source). The source is evaluated with L = keras.layers, so
# the metadata records exactly what was built. Input spec: ("float", shape) or ("int", shape, vocab).

KERAS_MODELS = {
    "simple_rnn": (("float", (10, 5)), "[L.SimpleRNN(64), L.Dense(1)]"),
    "lstm": (("float", (10, 5)), "[L.LSTM(64), L.Dense(1)]"),
    "gru": (("float", (10, 5)), "[L.GRU(64), L.Dense(1)]"),
    "stacked_lstm": (("float", (10, 5)), "[L.LSTM(64, return_sequences=True), L.LSTM(32), L.Dense(1)]"),
    "bidirectional": (("float", (10, 5)), "[L.Bidirectional(L.LSTM(64)), L.Dense(1)]"),
    "time_distributed": (("float", (10, 5)),
                         "[L.LSTM(64, return_sequences=True), L.TimeDistributed(L.Dense(1))]"),
    "dropout_lstm": (("float", (10, 5)),
                     "[L.LSTM(64, dropout=0.2, recurrent_dropout=0.2), L.Dropout(0.5), L.Dense(1)]"),
    "gru_classic": (("float", (10, 5)), "[L.GRU(16, reset_after=False), L.Dense(3, activation='softmax')]"),
    "simple_rnn_classifier": (("float", (10, 5)),
                              "[L.SimpleRNN(32, return_sequences=True), L.SimpleRNN(32), "
                              "L.Dense(4, activation='softmax')]"),
    "masking": (("masked", (6, 3)), "[L.Masking(mask_value=0.0), L.LSTM(8), L.Dense(1)]"),
    "sentiment": (("int", (8,), 100, None),
                  "[L.Embedding(100, 16), L.LSTM(32), L.Dense(24, activation='relu'), "
                  "L.Dense(1, activation='sigmoid')]"),
    "sentiment_masked": (("int", (8,), 100, "pre"),
                         "[L.Embedding(100, 16, mask_zero=True), L.LSTM(32), L.Dense(24, activation='relu'), "
                         "L.Dense(1, activation='sigmoid')]"),
    "flatten": (("float", (4, 3)),
                "[L.SimpleRNN(5, return_sequences=True), L.Flatten(), L.Activation('relu'), L.Dense(2)]"),
    "embedding_gru_bidir": (("int", (7,), 30, "post"),
                            "[L.Embedding(30, 6, mask_zero=True), "
                            "L.Bidirectional(L.GRU(5, return_sequences=True), merge_mode='sum'), "
                            "L.TimeDistributed(L.Dense(4, activation='softmax'))]"),
    "cnn_lstm": (("float", (20, 3)),
                 "[L.Conv1D(8, 3, padding='same', activation='relu'), L.MaxPooling1D(2), L.LayerNormalization(), "
                 "L.LSTM(16), L.Dense(1)]"),
    "conv_causal": (("float", (12, 4)),
                    "[L.Conv1D(6, 3, padding='causal', dilation_rate=2), L.Conv1D(5, 4, strides=2), "
                    "L.MaxPooling1D(3, strides=2, padding='same'), L.GlobalMaxPooling1D(), L.Dense(2)]"),
    "layer_norm_gru": (("float", (9, 5)),
                       "[L.GRU(10, return_sequences=True), L.LayerNormalization(epsilon=1e-5, center=False), "
                       "L.GlobalAveragePooling1D(), L.Dense(3, activation='softmax')]"),
    "masked_pooling": (("int", (8,), 100, "post"),
                       "[L.Embedding(100, 12, mask_zero=True), L.LayerNormalization(), "
                       "L.LSTM(8, return_sequences=True), L.GlobalAveragePooling1D(), L.Dense(1, activation='sigmoid')]"),
}

# Expected parameter counts from the brief (checked, so a Keras change is noticed).
EXPECTED_TOTALS = {"simple_rnn": 4545, "lstm": 17985, "gru": 13697, "stacked_lstm": 30369,
                   "bidirectional": 35969, "time_distributed": 17985}

# Per-row lengths of the non-padding part, for the padded inputs.
INT_LENGTHS = {"sentiment_masked": [8, 5, 2], "embedding_gru_bidir": [7, 4, 1], "masked_pooling": [8, 3, 1]}
# masking: time steps that are all zeros per row (leading and trailing).
MASKED_STEPS = [[4, 5], [0, 1], [0, 5]]


def make_input(name, spec, rng):
    kind = spec[0]
    if kind == "float":
        return rng.standard_normal((BATCH,) + spec[1]).astype(np.float32)
    if kind == "masked":
        x = rng.standard_normal((BATCH,) + spec[1]).astype(np.float32)
        for b, steps in enumerate(MASKED_STEPS):
            x[b, steps, :] = 0.0
        return x
    _, shape, vocab, padding = spec
    ids = rng.randint(1, vocab, size=(BATCH,) + shape).astype(np.int32)
    if padding is not None:
        T = shape[0]
        for b, length in enumerate(INT_LENGTHS[name]):
            if padding == "pre":
                ids[b, :T - length] = 0
            else:
                ids[b, length:] = 0
    return ids


def plain(markup):
    """rich markup (as in format_layer_shape) to plain text."""
    return rich.text.Text.from_markup(markup).plain


def capture_summary(model, **kw):
    parts = []
    model.summary(print_fn=lambda text, **_: parts.append(text), **kw)
    text = "".join(parts)
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # no ANSI (none expected with print_fn)
    return text


def run_keras(name, spec, source):
    keras.backend.clear_session()
    seed = seed_of(name)
    keras.utils.set_random_seed(seed)
    layers = eval(source, {"L": L})
    if spec[0] == "int":
        inp = keras.Input(spec[1], dtype="int32")
    else:
        inp = keras.Input(spec[1])
    model = keras.Sequential([inp] + layers)
    rng = np.random.RandomState(seed)
    for v in model.weights:
        if v.path.endswith("bias") or v.name == "bias":
            v.assign(rng.uniform(-0.5, 0.5, size=tuple(v.shape)).astype(np.float32))
    x = make_input(name, spec, rng)
    y = model.predict(x, verbose=0)
    # predict and a direct inference call agree (no training-mode behaviour leaks in)
    np.testing.assert_allclose(y, np.asarray(model(x, training=False)), rtol=1e-5, atol=1e-6)

    weights = model.get_weights()
    npz = os.path.join(OUT_DIR, f"keras_{name}.npz")
    np.savez(npz, *weights)
    pin_zip_timestamps(npz)

    summary = [{"name": layer.name, "class": type(layer).__name__,
                "output_shape": plain(format_layer_shape(layer)), "params": int(layer.count_params())}
               for layer in model.layers]
    total = int(model.count_params())
    trainable = int(count_params(model.trainable_weights))
    non_trainable = int(count_params(model.non_trainable_weights))
    assert trainable + non_trainable == total
    assert sum(s["params"] for s in summary) == total
    if name in EXPECTED_TOTALS:
        assert total == EXPECTED_TOTALS[name], (name, total)
    metadata = {
        f"{name}.summary": json.dumps(summary),
        f"{name}.total_params": str(total),
        f"{name}.trainable_params": str(trainable),
        f"{name}.non_trainable_params": str(non_trainable),
        f"{name}.summary_text": capture_summary(model, line_length=100),
        f"{name}.summary_text_default": capture_summary(model),
        f"{name}.layers": json.dumps({"input": list(spec[1]),
                                      "input_dtype": "int32" if spec[0] == "int" else "float32",
                                      "layers": source}),
    }
    tensors = {f"{name}.x": x.astype(np.float32), f"{name}.y": np.asarray(y, dtype=np.float32)}
    print(f"  {name}: {total} params, y {tuple(y.shape)}, {len(weights)} weight arrays")
    return tensors, metadata


def keras_fixtures():
    tensors, metadata = {}, {}
    for name, (spec, source) in KERAS_MODELS.items():
        assert "." not in name
        t, m = run_keras(name, spec, source)
        tensors.update(t)
        metadata.update(m)
    metadata.update({
        "models": json.dumps(list(KERAS_MODELS)),
        "generator": "tools/reference/make_model_fixtures.py",
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "bias_init": "every bias overwritten by RandomState(seed).uniform(-0.5, 0.5) in model.weights order",
    })
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
    write_fixture(save_numpy, tensors, metadata, os.path.join(OUT_DIR, "keras_models.safetensors"),
                  f"{len(KERAS_MODELS)} Keras models")


# ----------------------------------------------------------------------------- Keras functional models
# name -> (inputs: [(input name or None, spec)], source of `build(*inputs)` returning the output).
# Keras numbers layers of a kind in the order they are created, the library in the order they are
# first called: each layer here is created where it is first called, so the two agree.
# Written to keras_functional.safetensors: NAME.x0, NAME.x1, ... (one batch per input), NAME.y,
# and the same metadata as the Sequential models; weights in keras_NAME.npz.

FUNCTIONAL_MODELS = {
    "two_inputs": ([("series", ("float", (10, 3))), ("static", ("float", (4,)))], """
def build(series, static):
    x = L.LSTM(8)(series)
    y = L.Dense(8, activation="relu")(static)
    joined = L.Concatenate()([x, y])
    summed = L.Add()([x, y])
    return L.Dense(1)(L.Concatenate()([joined, summed]))
"""),
    "chain": ([(None, ("float", (10, 3)))], """
def build(a):
    return L.Dense(1)(L.GRU(8)(L.LSTM(8, return_sequences=True)(a)))
"""),
    "residual": ([(None, ("float", (12, 6)))], """
def build(a):
    c = L.Conv1D(6, 3, padding="same", activation="relu")(a)
    r = L.LayerNormalization()(L.Add()([a, c]))
    return L.Dense(2, activation="softmax")(L.LSTM(5)(r))
"""),
    "shared_masked": ([("question", ("int", (7,), 40, "post")), ("answer", ("int", (7,), 40, "post"))], """
def build(question, answer):
    embed = L.Embedding(40, 6, mask_zero=True)
    encode = L.LSTM(5)
    return L.Dense(1, activation="sigmoid")(L.Concatenate()([encode(embed(question)), encode(embed(answer))]))
"""),
    "merges": ([("left", ("float", (5,))), ("right", ("float", (5,)))], """
def build(left, right):
    a = L.Dense(4, activation="tanh")(left)
    b = L.Dense(4, activation="tanh")(right)
    return L.Dense(1)(L.Concatenate()([L.Multiply()([a, b]), L.Average()([a, b]), L.Subtract()([a, b])]))
"""),
}
FUNCTIONAL_LENGTHS = {"shared_masked": [[7, 4, 1], [2, 7, 5]]}


def run_functional(name, inputs_spec, source):
    keras.backend.clear_session()
    seed = seed_of(name)
    keras.utils.set_random_seed(seed)
    inputs = [keras.Input(spec[1], name=input_name, dtype="int32" if spec[0] == "int" else "float32")
              for input_name, spec in inputs_spec]
    scope = {"L": L}
    exec(source, scope)
    model = keras.Model(inputs, scope["build"](*inputs))
    rng = np.random.RandomState(seed)
    for v in model.weights:
        if v.path.endswith("bias") or v.name == "bias":
            v.assign(rng.uniform(-0.5, 0.5, size=tuple(v.shape)).astype(np.float32))
    xs = []
    for index, (_, spec) in enumerate(inputs_spec):
        if spec[0] == "int":
            _, shape, vocab, _ = spec
            ids = rng.randint(1, vocab, size=(BATCH,) + shape).astype(np.int32)
            for b, length in enumerate(FUNCTIONAL_LENGTHS[name][index]):
                ids[b, length:] = 0
            xs.append(ids)
        else:
            xs.append(rng.standard_normal((BATCH,) + spec[1]).astype(np.float32))
    y = model.predict(xs, verbose=0)
    np.testing.assert_allclose(y, np.asarray(model(xs, training=False)), rtol=1e-5, atol=1e-6)
    npz = os.path.join(OUT_DIR, f"keras_{name}.npz")
    np.savez(npz, *model.get_weights())
    pin_zip_timestamps(npz)
    metadata = {
        f"{name}.total_params": str(int(model.count_params())),
        f"{name}.summary_text": capture_summary(model, line_length=100),
        f"{name}.summary_text_default": capture_summary(model),
        f"{name}.source": source.strip(),
        f"{name}.inputs": json.dumps([[n, list(spec[1])] for n, spec in inputs_spec]),
    }
    tensors = {f"{name}.x{i}": x.astype(np.float32) for i, x in enumerate(xs)}
    tensors[f"{name}.y"] = np.asarray(y, dtype=np.float32)
    print(f"  {name}: {model.count_params()} params, y {tuple(y.shape)}")
    return tensors, metadata


def functional_fixtures():
    tensors, metadata = {}, {}
    for name, (inputs_spec, source) in FUNCTIONAL_MODELS.items():
        t, m = run_functional(name, inputs_spec, source)
        tensors.update(t)
        metadata.update(m)
    metadata.update({
        "models": json.dumps(list(FUNCTIONAL_MODELS)),
        "generator": "tools/reference/make_model_fixtures.py",
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "bias_init": "every bias overwritten by RandomState(seed).uniform(-0.5, 0.5) in model.weights order",
    })
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
    write_fixture(save_numpy, tensors, metadata, os.path.join(OUT_DIR, "keras_functional.safetensors"),
                  f"{len(FUNCTIONAL_MODELS)} Keras functional models")


# ----------------------------------------------------------------------------- PyTorch modules

class TextClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(50, 8, padding_idx=0)
        self.lstm = torch.nn.LSTM(8, 16, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = torch.nn.Linear(32, 3)

    def forward(self, x):
        output, _ = self.lstm(self.embedding(x))
        return self.fc(output[:, -1, :])


class Seq2Seq(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.GRU(4, 12, batch_first=True)
        self.decoder = torch.nn.GRU(3, 12, batch_first=True)
        self.head = torch.nn.Linear(12, 3)

    def forward(self, source, target):
        _, h_n = self.encoder(source)
        output, _ = self.decoder(target, h_n)
        return self.head(output)


# The PyTorch tutorial's four modules, as the DocC tutorial "From PyTorch" writes them (the first
# is the tutorial's `SimpleRNN`, renamed because the library has a layer of that name).
class SimpleRNNModel(torch.nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = torch.nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = torch.nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1, :])


class MultiLayerRNN(torch.nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.num_layers, self.hidden_size = num_layers, hidden_size
        self.rnn = torch.nn.RNN(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = torch.nn.Linear(hidden_size, output_size)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        out, _ = self.rnn(x, h0)
        return self.fc(out[:, -1, :])


class RNNWithCell(torch.nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.cell = torch.nn.RNNCell(input_size, hidden_size)
        self.fc = torch.nn.Linear(hidden_size, output_size)

    def forward(self, x):
        h = torch.zeros(x.size(0), self.hidden_size)
        for t in range(x.size(1)):
            h = self.cell(x[:, t, :], h)
        return self.fc(h)


class MultiLayerRNNCell(torch.nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.cells = torch.nn.ModuleList(
            [torch.nn.RNNCell(input_size if i == 0 else hidden_size, hidden_size) for i in range(num_layers)])
        self.fc = torch.nn.Linear(hidden_size, output_size)

    def forward(self, x):
        h = [torch.zeros(x.size(0), self.hidden_size) for _ in self.cells]
        for t in range(x.size(1)):
            inp = x[:, t, :]
            for i, cell in enumerate(self.cells):
                h[i] = cell(inp, h[i])
                inp = h[i]
        return self.fc(h[-1])


SEED_MODULES = {  # name -> constructor source, evaluated with the classes above
    "simple_rnn_model": "SimpleRNNModel(10, 20, 1)",
    "multi_layer_rnn": "MultiLayerRNN(10, 20, 2, 1)",
    "rnn_with_cell": "RNNWithCell(10, 20, 1)",
    "multi_layer_rnn_cell": "MultiLayerRNNCell(10, 20, 3, 1)",
    "sequential": "torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.Tanh(), "
                  "torch.nn.Linear(8, 1), torch.nn.Sigmoid())",
}

REPRS = {  # name -> source, evaluated with nn = torch.nn
    "rnn": "nn.RNN(10, 20, num_layers=3, batch_first=True)",
    "lstm": "nn.LSTM(10, 20)",
    "lstm_bidir": "nn.LSTM(10, 20, num_layers=2, dropout=0.5, bidirectional=True)",
    "gru_nobias": "nn.GRU(8, 16, bias=False, batch_first=True)",
    "rnn_relu": "nn.RNN(4, 8, nonlinearity='relu')",
    "lstm_proj": "nn.LSTM(10, 20, proj_size=5)",
    "linear": "nn.Linear(32, 3)",
    "embedding": "nn.Embedding(50, 8, padding_idx=0)",
    "dropout": "nn.Dropout(p=0.5)",
    "module_list": "nn.ModuleList([nn.Linear(4, 4) for _ in range(3)] + [nn.Linear(4, 2)])",
}


def count(module):
    return sum(p.numel() for p in module.parameters())


def torch_fixtures():
    tensors, metadata = {}, {}

    torch.manual_seed(seed_of("classifier"))
    classifier = TextClassifier().eval()
    # token ids, some rows pre-padded with the padding index 0
    x = torch.randint(1, 50, (4, 9))
    x[1, :3] = 0
    x[2, :6] = 0
    with torch.no_grad():
        y = classifier(x)
    for key, value in classifier.state_dict().items():
        tensors[f"classifier.{key}"] = value
    tensors["classifier.x"] = x.to(torch.float32)
    tensors["classifier.y"] = y
    metadata["classifier.forward"] = ("output, _ = self.lstm(self.embedding(x)); "
                                      "return self.fc(output[:, -1, :])")
    metadata["repr.classifier"] = repr(classifier)
    metadata["count.classifier"] = str(count(classifier))

    torch.manual_seed(seed_of("seq2seq"))
    seq2seq = Seq2Seq().eval()
    source = torch.randn(2, 5, 4)
    target = torch.randn(2, 6, 3)
    with torch.no_grad():
        y = seq2seq(source, target)
    for key, value in seq2seq.state_dict().items():
        tensors[f"seq2seq.{key}"] = value
    tensors["seq2seq.source"] = source
    tensors["seq2seq.target"] = target
    tensors["seq2seq.y"] = y
    metadata["seq2seq.forward"] = ("_, h_n = self.encoder(source); output, _ = self.decoder(target, h_n); "
                                   "return self.head(output)")
    metadata["repr.seq2seq"] = repr(seq2seq)
    metadata["count.seq2seq"] = str(count(seq2seq))

    for name, source_text in SEED_MODULES.items():
        torch.manual_seed(seed_of(name))
        module = eval(source_text, globals()).eval()
        x = torch.randn(3, 5, 10) if name != "sequential" else torch.randn(3, 4)
        with torch.no_grad():
            y = module(x)
        for key, value in module.state_dict().items():
            tensors[f"{name}.{key}"] = value
        tensors[f"{name}.x"] = x
        tensors[f"{name}.y"] = y
        metadata[f"repr.{name}"] = repr(module)
        metadata[f"count.{name}"] = str(count(module))
    metadata["seed_modules"] = json.dumps(SEED_MODULES)

    for name, source_text in REPRS.items():
        module = eval(source_text, {"nn": torch.nn})
        metadata[f"repr.{name}"] = repr(module)
        metadata[f"count.{name}"] = str(count(module))
    metadata["reprs"] = json.dumps(REPRS)
    metadata["generator"] = "tools/reference/make_model_fixtures.py"
    metadata["torch_version"] = torch.__version__
    tensors = {k: v.detach().contiguous().to(torch.float32) for k, v in tensors.items()}
    write_fixture(save_torch, tensors, metadata, os.path.join(OUT_DIR, "torch_models.safetensors"),
                  f"{2 + len(SEED_MODULES)} torch modules")


def main():
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    os.makedirs(OUT_DIR, exist_ok=True)
    keras_fixtures()
    functional_fixtures()
    torch_fixtures()


if __name__ == "__main__":
    main()
