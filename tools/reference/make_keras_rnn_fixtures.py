#!/usr/bin/env python3
"""Golden numbers for Keras 3 SimpleRNN / LSTM / GRU / Bidirectional (TensorFlow backend).

Writes Tests/RecurrentTests/Fixtures/keras_rnn.safetensors (float32 tensors) with metadata:
  "cases"          JSON list, one object per case, every setting spelled out
  "generator"      this script's path
  "keras_version", "tensorflow_version"
  "loss"           the scalar whose gradients are stored
  "param_counts"   JSON object: layer.count_params() for a few layers built on 5 input features

The full naming scheme is documented in tools/reference/RNN_FIXTURES.md. In short, for a case
called NAME (names never contain a dot), with P = "NAME" for a plain layer and P in
{"NAME.forward", "NAME.backward"} for the two halves of a Bidirectional:
  P.kernel [I, G*units], P.recurrent_kernel [units, G*units], P.bias ([G*units], or [2, 3*units] for
  GRU reset_after)   exactly as layer.get_weights() returns them (Keras layout and gate order)
  P.initial_bias     the bias as Keras initialised it, before it was overwritten (use_bias only)
  NAME.input [B, T, I], NAME.mask [B, T] (0/1, masked cases only)
  NAME.output        the layer's first return value
  NAME.state0, NAME.state1, ...   the returned states in Keras order (return_state only)
  NAME.w_output, NAME.w_state0, ...   uniform(-1, 1) loss weights
  NAME.grad.input, P.grad... i.e. NAME.grad.kernel / NAME.grad.forward.kernel / ...
where L = sum(output * w_output) + sum_k sum(state_k * w_state_k); gradients by tf.GradientTape.

Per case: keras.utils.set_random_seed(seed) with seed = zlib.crc32(name) & 0x7fffffff, the layer is
built by calling it once (Keras default initializers), then a numpy RandomState(seed) draws, in
this order: the biases (uniform(-0.5, 0.5), forward then backward), the input (randn), and the loss
weights (uniform(-1, 1), output first, then states in order). Inference mode (training=False).
Runs with one TF thread and oneDNN optimisations off.
"""
import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import json  # noqa: E402
import zlib  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

import keras  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402
from fixture_io import write_fixture  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "Tests", "RecurrentTests", "Fixtures", "keras_rnn.safetensors")

B, T, I, UNITS = 3, 5, 3, 4
RIGHT_LENGTHS = [5, 2, 4]  # mask[b, t] = t < length[b]
LEFT_LENGTHS = [5, 3, 4]   # mask[b, t] = t >= T - length[b]

LAYER_TYPES = [  # (name token, layer, reset_after)
    ("simplernn", "SimpleRNN", None),
    ("lstm", "LSTM", None),
    ("gru_ra", "GRU", True),
    ("gru_rb", "GRU", False),
]


def make_case(token, layer, reset_after, return_sequences, return_state=False, go_backwards=False,
              bidirectional=None, padding=None, use_bias=True, activation="tanh", unit_forget_bias=None,
              recurrent_activation="sigmoid"):
    if layer == "LSTM" and unit_forget_bias is None:
        unit_forget_bias = True
    parts = [token]
    if bidirectional is not None:
        parts += ["bi", bidirectional]
    parts.append("seq" if return_sequences else "last")
    if return_state:
        parts.append("state")
    if go_backwards:
        parts.append("back")
    if padding == "right":
        parts.append("mask")
    elif padding == "left":
        parts.append("lmask")
    if not use_bias:
        parts.append("nobias")
    if activation != "tanh":
        parts.append(activation)
    if recurrent_activation != "sigmoid":
        parts.append("rec_" + recurrent_activation)
    if layer == "LSTM" and not unit_forget_bias:
        parts.append("noforgetbias")
    name = "_".join(parts)
    lengths = {None: None, "right": RIGHT_LENGTHS, "left": LEFT_LENGTHS}[padding]
    return dict(name=name, layer=layer, units=UNITS, reset_after=reset_after, activation=activation,
                recurrent_activation=recurrent_activation if layer != "SimpleRNN" else None,
                use_bias=use_bias, return_sequences=return_sequences, return_state=return_state,
                go_backwards=go_backwards, bidirectional=bidirectional, masked=padding is not None,
                unit_forget_bias=unit_forget_bias if layer == "LSTM" else None,
                mask_padding=padding, lengths=lengths, input_size=I, seq_len=T, batch=B,
                seed=zlib.crc32(name.encode()) & 0x7FFFFFFF)


def build_cases():
    cases = []
    for token, layer, ra in LAYER_TYPES:
        def add(**kw):
            cases.append(make_case(token, layer, ra, **kw))
        for seq in (False, True):
            for state in (False, True):
                add(return_sequences=seq, return_state=state)
        add(return_sequences=True, return_state=True, go_backwards=True)
        add(return_sequences=True, return_state=True, padding="right")
        add(return_sequences=False, return_state=True, padding="right")
        add(return_sequences=True, return_state=True, padding="left")
        add(return_sequences=True, return_state=True, go_backwards=True, padding="right")
        add(return_sequences=True, use_bias=False)
        for merge in ("concat", "sum", "mul", "ave"):
            add(return_sequences=True, bidirectional=merge)
        add(return_sequences=True, return_state=True, bidirectional="concat", padding="right")
    cases.append(make_case("simplernn", "SimpleRNN", None, return_sequences=True, return_state=True,
                           activation="relu"))
    cases.append(make_case("lstm", "LSTM", None, return_sequences=True, return_state=True,
                           unit_forget_bias=False))
    # Non-default activations, which the fused kernels take as options.
    cases.append(make_case("simplernn", "SimpleRNN", None, return_sequences=True, return_state=True,
                           activation="sigmoid"))
    cases.append(make_case("lstm", "LSTM", None, return_sequences=True, return_state=True,
                           activation="relu", recurrent_activation="hard_sigmoid"))
    cases.append(make_case("gru_ra", "GRU", True, return_sequences=True, return_state=True,
                           activation="sigmoid", recurrent_activation="hard_sigmoid"))
    cases.append(make_case("gru_rb", "GRU", False, return_sequences=True, return_state=True,
                           activation="linear", recurrent_activation="hard_sigmoid"))
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    assert all("." not in n for n in names)
    return cases


def make_layer(c):
    kw = dict(units=c["units"], use_bias=c["use_bias"], return_sequences=c["return_sequences"],
              return_state=c["return_state"], go_backwards=c["go_backwards"])
    if c["layer"] == "SimpleRNN":
        rnn = keras.layers.SimpleRNN(activation=c["activation"], **kw)
    elif c["layer"] == "LSTM":
        rnn = keras.layers.LSTM(activation=c["activation"], recurrent_activation=c["recurrent_activation"],
                                unit_forget_bias=c["unit_forget_bias"], **kw)
    else:
        rnn = keras.layers.GRU(activation=c["activation"], recurrent_activation=c["recurrent_activation"],
                               reset_after=c["reset_after"], **kw)
    if c["bidirectional"] is not None:
        return keras.layers.Bidirectional(rnn, merge_mode=c["bidirectional"])
    return rnn


def named_weights(c, layer):
    """[(prefix-free name, variable)] in layer.get_weights() order."""
    if c["bidirectional"] is not None:
        halves = [("forward.", layer.forward_layer), ("backward.", layer.backward_layer)]
    else:
        halves = [("", layer)]
    out = []
    for prefix, rnn in halves:
        cell = rnn.cell
        out.append((prefix + "kernel", cell.kernel))
        out.append((prefix + "recurrent_kernel", cell.recurrent_kernel))
        if c["use_bias"]:
            out.append((prefix + "bias", cell.bias))
    return out


def run_case(c):
    name = c["name"]
    keras.utils.set_random_seed(c["seed"])
    layer = make_layer(c)
    rng = np.random.RandomState(c["seed"])
    x_np = rng.standard_normal((B, T, I)).astype(np.float32)
    mask_np = None
    if c["masked"]:
        t_idx = np.arange(T)[None, :]
        lengths = np.array(c["lengths"])[:, None]
        if c["mask_padding"] == "right":
            mask_np = (t_idx < lengths).astype(np.float32)
        else:
            mask_np = (t_idx >= T - lengths).astype(np.float32)
    x = tf.constant(x_np)
    mask = None if mask_np is None else tf.constant(mask_np > 0.5)

    layer(x, mask=mask, training=False)  # builds the weights
    weights = named_weights(c, layer)
    got = layer.get_weights()
    assert len(got) == len(weights)
    for g, (_, v) in zip(got, weights):
        assert np.array_equal(g, v.numpy())

    t = {}
    for wname, v in weights:
        if wname.endswith("bias"):
            t[f"{name}.{wname[:-4]}initial_bias"] = v.numpy().copy()
            v.assign(rng.uniform(-0.5, 0.5, size=tuple(v.shape)).astype(np.float32))

    with tf.GradientTape() as tape:
        tape.watch(x)
        res = layer(x, mask=mask, training=False)
        if c["return_state"]:
            output, states = res[0], list(res[1:])
        else:
            output, states = res, []
        w_output = rng.uniform(-1, 1, size=tuple(output.shape)).astype(np.float32)
        w_states = [rng.uniform(-1, 1, size=tuple(s.shape)).astype(np.float32) for s in states]
        loss = tf.reduce_sum(output * w_output)
        for s, w in zip(states, w_states):
            loss = loss + tf.reduce_sum(s * w)
    variables = [v for _, v in weights]
    grads = tape.gradient(loss, [x] + variables)
    assert all(g is not None for g in grads), name

    for (wname, v), g in zip(weights, grads[1:]):
        t[f"{name}.{wname}"] = v.numpy().copy()
        t[f"{name}.grad.{wname}"] = np.asarray(g)
    t[f"{name}.input"] = x_np
    if mask_np is not None:
        t[f"{name}.mask"] = mask_np
    t[f"{name}.output"] = output.numpy()
    t[f"{name}.w_output"] = w_output
    for k, (s, w) in enumerate(zip(states, w_states)):
        t[f"{name}.state{k}"] = s.numpy()
        t[f"{name}.w_state{k}"] = w
    t[f"{name}.grad.input"] = np.asarray(grads[0])

    # Shape sanity against the documented layouts.
    width = UNITS * (2 if c["bidirectional"] == "concat" else 1)
    want = (B, T, width) if c["return_sequences"] else (B, width)
    assert tuple(output.shape) == want, (name, output.shape)
    n_states = (2 if c["layer"] == "LSTM" else 1) * (2 if c["bidirectional"] else 1)
    assert len(states) == (n_states if c["return_state"] else 0)
    return t


def param_counts():
    def count(*layers):
        model = keras.Sequential([keras.Input((None, 5))] + list(layers))
        counts = [layer.count_params() for layer in model.layers]
        return counts[0] if len(counts) == 1 else counts
    keras.utils.set_random_seed(0)
    L = keras.layers
    return {
        "input_features": 5,
        "SimpleRNN(64)": count(L.SimpleRNN(64)),
        "LSTM(64)": count(L.LSTM(64)),
        "GRU(64, reset_after=True)": count(L.GRU(64, reset_after=True)),
        "GRU(64, reset_after=False)": count(L.GRU(64, reset_after=False)),
        "Bidirectional(LSTM(64))": count(L.Bidirectional(L.LSTM(64))),
        "LSTM(64, return_sequences=True) -> LSTM(32)": count(L.LSTM(64, return_sequences=True), L.LSTM(32)),
    }




def main():
    cases = build_cases()
    out = {}
    for c in cases:
        tensors = run_case(c)
        assert not (set(tensors) & set(out)), c["name"]
        out.update(tensors)
    out = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}
    metadata = {
        "cases": json.dumps(cases),
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "generator": "tools/reference/make_keras_rnn_fixtures.py",
        "loss": "L = sum(output * w_output) + sum_k sum(state_k * w_state_k)",
        "param_counts": json.dumps(param_counts()),
    }
    write_fixture(save_file, out, metadata, OUT, f"{len(cases)} cases")


if __name__ == "__main__":
    main()
