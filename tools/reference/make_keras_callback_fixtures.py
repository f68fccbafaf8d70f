#!/usr/bin/env python3
"""Golden behaviour of Keras callbacks on scripted logs (keras 3.15.1, torch backend).

Writes Tests/RecurrentTests/Fixtures/keras_callbacks.json:
  "reduce_lr": cases of ReduceLROnPlateau — the arguments, the scripted monitored values
               (one per epoch) and the learning rate after each epoch's on_epoch_end
               (starting from 1.0, SGD).
  "csv_logger": the text CSVLogger writes for scripted per-epoch logs (float32-exact values,
               as fit reports them; with and without
               validation keys, and appending a second run to the first).
  "terminate_on_nan": the batch after which TerminateOnNaN stops, for scripted running losses.
"""
import json
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "Tests", "RecurrentTests", "Fixtures", "keras_callbacks.json")

VALUES = [1.0, 0.9, 0.95, 0.94, 0.96, 0.899, 0.8999, 0.9, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75]
ACCURACY = [0.5, 0.6, 0.58, 0.59, 0.6, 0.7, 0.69, 0.69, 0.69, 0.71]


def model():
    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
    return m


def reduce_lr_case(values, **arguments):
    m = model()
    callback = keras.callbacks.ReduceLROnPlateau(**arguments)
    callback.set_model(m)
    callback.on_train_begin()
    monitor = arguments.get("monitor", "val_loss")
    rates = []
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {monitor: value})
        rates.append(float(keras.ops.convert_to_numpy(m.optimizer.learning_rate)))
    return {"arguments": arguments, "values": values, "rates": rates}


def csv_case(runs, append=False):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "log.csv")
        for i, run in enumerate(runs):
            callback = keras.callbacks.CSVLogger(path, append=append or i > 0)
            callback.set_model(model())
            callback.on_train_begin()
            for epoch, logs in enumerate(run):
                callback.on_epoch_end(epoch, dict(logs))
            callback.on_train_end()
        with open(path, newline="") as f:  # the bytes as written (csv's \r\n line ends)
            text = f.read()
    return {"runs": runs, "append": append, "text": text}


def terminate_case(losses):
    m = model()
    callback = keras.callbacks.TerminateOnNaN()
    callback.set_model(m)
    for batch, loss in enumerate(losses):
        callback.on_batch_end(batch, {"loss": loss})
        if m.stop_training:
            return {"losses": [str(x) for x in losses], "stopped_after": batch}
    return {"losses": [str(x) for x in losses], "stopped_after": None}


def main():
    fixture = {
        "keras_version": keras.__version__,
        "reduce_lr": [
            reduce_lr_case(VALUES, factor=0.5, patience=2),
            reduce_lr_case(VALUES, factor=0.5, patience=1, cooldown=2, min_delta=0.01),
            reduce_lr_case(VALUES, factor=0.1, patience=1, min_lr=0.005),
            reduce_lr_case(ACCURACY, monitor="val_accuracy", mode="max", factor=0.5, patience=2),
            reduce_lr_case(ACCURACY, monitor="accuracy", factor=0.5, patience=1, mode="min"),
        ],
        "csv_logger": [
            csv_case([[{"loss": 0.6931471824645996, "accuracy": 0.5, "val_loss": 0.6875, "val_accuracy": 0.25},
                       {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "val_accuracy": 0.5}]]),
            csv_case([[{"loss": 1.25, "mae": 3.0517578125e-05}, {"loss": 0.125, "mae": 3.0}]]),
            csv_case([[{"loss": 2.0}], [{"loss": 1.0}, {"loss": 0.5}]]),
        ],
        "terminate_on_nan": [
            terminate_case([0.7, 0.6, float("nan"), 0.5]),
            terminate_case([0.7, float("inf")]),
            terminate_case([0.7, 0.6]),
        ],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
