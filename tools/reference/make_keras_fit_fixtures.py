#!/usr/bin/env python3
"""Golden numbers for `fit` options (keras 3.15.1, torch backend): per-example sample weights,
Keras's "sum over batch size" reduction (Keras refuses sample and class weights together).

Writes Tests/RecurrentTests/Fixtures/keras_fit.json: a Dense(2 -> 1) (and a Dense(2 -> 2)
softmax classifier) with given initial weights, SGD(learning_rate=0.1), one epoch of batch
size 4 over 8 examples without shuffling; the kernel (Keras layout [in, out]) and bias after
the epoch, and the epoch's loss. And "functional_cnn_lstm": a two-input functional model
(Conv1D, MaxPooling1D, LayerNormalization, LSTM; Dense; Concatenate) trained one epoch the same
way from Keras's seeded initial weights (both weight lists in get_weights() order and layout).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "Tests", "RecurrentTests", "Fixtures", "keras_fit.json")

X = [[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0], [1.0, 1.0], [0.0, -0.5], [2.0, 0.5], [-1.0, -1.0], [0.25, 0.75]]
Y = [[1.0], [-0.5], [2.0], [0.0], [0.5], [1.5], [-1.0], [0.25]]
LABELS = [0, 1, 1, 0, 1, 0, 0, 1]
SAMPLE_WEIGHT = [1.0, 2.0, 0.5, 0.0, 1.0, 3.0, 1.0, 0.25]


def run(units, activation, loss, y, sample_weight=None, class_weight=None):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(units, activation=activation)])
    kernel = np.arange(2 * units, dtype="float32").reshape(2, units) * 0.25 - 0.5
    bias = np.full((units,), 0.125, dtype="float32")
    model.layers[0].set_weights([kernel, bias])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=loss)
    history = model.fit(np.array(X, dtype="float32"), np.array(y, dtype="float32"), batch_size=4, epochs=1,
                        shuffle=False, verbose=0,
                        sample_weight=None if sample_weight is None else np.array(sample_weight, dtype="float32"),
                        class_weight=class_weight)
    k, b = model.layers[0].get_weights()
    return {"initial_kernel": kernel.tolist(), "initial_bias": bias.tolist(), "kernel": k.tolist(),
            "bias": b.tolist(), "loss": float(history.history["loss"][0])}


def functional_run():
    """A two-input functional model with the CNN-LSTM layers, one epoch of SGD from Keras's own
    initial weights (seeded): the weights before and after, in get_weights() order."""
    keras.utils.set_random_seed(7)
    L = keras.layers
    series, static = keras.Input((8, 3), name="series"), keras.Input((2,), name="static")
    x = L.Conv1D(4, 3, padding="causal", activation="relu")(series)
    x = L.MaxPooling1D(2)(x)
    x = L.LayerNormalization()(x)
    x = L.LSTM(4)(x)
    s = L.Dense(4, activation="tanh")(static)
    out = L.Dense(1)(L.Concatenate()([x, s]))
    model = keras.Model([series, static], out)
    rng = np.random.RandomState(7)
    xs = rng.standard_normal((8, 8, 3)).astype("float32")
    ss = rng.standard_normal((8, 2)).astype("float32")
    y = (xs[:, -1, :1] + ss[:, :1]).astype("float32")
    initial = [w.tolist() for w in model.get_weights()]
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    history = model.fit([xs, ss], y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    return {"series": xs.tolist(), "static": ss.tolist(), "y": y.tolist(), "initial": initial,
            "final": [w.tolist() for w in model.get_weights()], "loss": float(history.history["loss"][0])}


def main():
    fixture = {
        "keras_version": keras.__version__,
        "x": X, "y": Y, "labels": LABELS, "sample_weight": SAMPLE_WEIGHT,
        "regression_weighted": run(1, None, "mse", Y, sample_weight=SAMPLE_WEIGHT),
        "classifier_weighted": run(2, "softmax", "sparse_categorical_crossentropy", [[l] for l in LABELS],
                               sample_weight=SAMPLE_WEIGHT),
        "functional_cnn_lstm": functional_run(),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
