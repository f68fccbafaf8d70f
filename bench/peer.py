#!/usr/bin/env python3
"""The peer side of the recurrent benchmark: PyTorch and ONNX Runtime on the same rows as
`recurrent-bench rnn` (see bench/README.md). Two threads, float32, time-major (batch_first=False).

    python bench/peer.py rnn [--frameworks torch,ort] [--configs A,B,C,D,E,F] [--cells rnn,lstm,gru]
                             [--modes inference,training] [--min-time S] [--min-iters N]
    python bench/peer.py sgemm [--min-time S]         two-thread torch.mm, 4480x512 @ 512x2048
    python bench/peer.py memory CONFIG CELL [--steps N]  peak RSS of N training steps (own process)

Every line printed is one JSON object. E (per-example lengths) runs PyTorch on a
pack_padded_sequence; ONNX Runtime has no E row (the exporter does not take packed sequences).
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time
import warnings

THREADS = 2
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))

import torch  # noqa: E402

torch.set_num_threads(THREADS)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from configs import CONFIGS, flops, lengths  # noqa: E402

CELLS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def make_model(config, cell):
    c = CONFIGS[config]
    b, t, i, h = c["batch"], c["steps"], c["input"], c["hidden"]
    bidirectional = bool(c.get("bidirectional"))
    torch.manual_seed(1)
    model = CELLS[cell](i, h, num_layers=c["layers"], batch_first=False, bidirectional=bidirectional)
    g = torch.Generator().manual_seed(7)
    x = torch.randn(t, b, i, generator=g)
    target = torch.randn(b, (2 if bidirectional else 1) * h, generator=g)
    return model, x, target


def run_model(model, x, config):
    """The output sequence [T, B, D·H]; with lengths, through a packed sequence and back."""
    ls = lengths(config)
    if ls is None:
        return model(x)[0]
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(ls), enforce_sorted=False)
    out, _ = model(packed)
    return torch.nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])[0]


def torch_step(config, cell, training):
    model, x, target = make_model(config, cell)
    if not training:
        model.eval()

        def step():
            with torch.inference_mode():
                run_model(model, x, config)
        return step
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        out = run_model(model, x, config)
        loss = loss_fn(out[-1], target)
        loss.backward()
        optimizer.step()
    return step


class Wrapped(torch.nn.Module):
    """Returns the whole output sequence and the final state(s), as our forward does."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        out, state = self.rnn(x)
        if isinstance(state, tuple):
            return (out,) + state
        return out, state


def onnx_path(config, cell):
    directory = os.path.join(tempfile.gettempdir(), f"recurrent-bench-onnx-{torch.__version__}")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{config}-{cell}.onnx")
    if not os.path.exists(path):
        model, x, _ = make_model(config, cell)
        model.eval()
        tmp = path + f".{os.getpid()}.tmp"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(Wrapped(model), (x,), tmp, dynamo=False, opset_version=17,
                              input_names=["x"])
        os.replace(tmp, path)
    return path


def ort_step(config, cell):
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path(config, cell), options, providers=["CPUExecutionProvider"])
    _, x, _ = make_model(config, cell)
    feed = {"x": np.ascontiguousarray(x.numpy())}

    def step():
        session.run(None, feed)
    return step


def measure(step, min_time, min_iters):
    start = time.perf_counter()
    step()
    if time.perf_counter() - start < 0.05:
        for _ in range(3):
            step()
    iterations = 0
    start = time.perf_counter()
    while True:
        step()
        iterations += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and iterations >= min_iters:
            return iterations, elapsed


def emit(obj):
    print(json.dumps(obj), flush=True)


def cmd_rnn(args):
    if args.with_sgemm:
        cmd_sgemm(args)
    for config in args.configs.split(","):
        if CONFIGS[config].get("against"):
            continue  # ours only
        batch = CONFIGS[config]["batch"]
        for cell in args.cells.split(","):
            for mode in args.modes.split(","):
                training = mode == "training"
                for framework in args.frameworks.split(","):
                    if framework == "ort" and (training or lengths(config) is not None):
                        continue  # ONNX Runtime: inference only, full-length sequences
                    step = torch_step(config, cell, training) if framework == "torch" else ort_step(config, cell)
                    iterations, seconds = measure(step, args.min_time, args.min_iters)
                    emit({"side": framework, "config": config, "cell": cell, "mode": mode,
                          "seq_per_s": iterations * batch / seconds,
                          "gflops": flops(config, cell, training) * iterations / seconds / 1e9,
                          "iterations": iterations, "seconds": seconds})


def cmd_sgemm(args):
    g = torch.Generator().manual_seed(3)
    a = torch.randn(4480, 512, generator=g)
    b = torch.randn(512, 2048, generator=g)
    c = torch.empty(4480, 2048)
    iterations, seconds = measure(lambda: torch.mm(a, b, out=c), args.min_time, 5)
    emit({"side": "sgemm", "gflops": 2 * 4480 * 512 * 2048 * iterations / seconds / 1e9,
          "iterations": iterations, "seconds": seconds})


def cmd_memory(args):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step = torch_step(args.config, args.cell, True)
    for _ in range(max(1, args.steps)):
        step()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    emit({"side": "torch", "config": args.config, "cell": args.cell, "baseline_kb": before, "maxrss_kb": after})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("rnn")
    p.add_argument("--frameworks", default="torch,ort")
    p.add_argument("--configs", default="A,B,C,D")
    p.add_argument("--cells", default="rnn,lstm,gru")
    p.add_argument("--modes", default="inference,training")
    p.add_argument("--min-time", type=float, default=0.5)
    p.add_argument("--min-iters", type=int, default=3)
    p.add_argument("--with-sgemm", action="store_true", help="measure the SGEMM reference first")
    p.set_defaults(func=cmd_rnn)
    p = sub.add_parser("sgemm")
    p.add_argument("--min-time", type=float, default=0.5)
    p.set_defaults(func=cmd_sgemm)
    p = sub.add_parser("memory")
    p.add_argument("config")
    p.add_argument("cell")
    p.add_argument("--steps", type=int, default=3)
    p.set_defaults(func=cmd_memory)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
