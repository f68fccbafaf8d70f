#!/usr/bin/env python3
"""Runs `recurrent-bench rnn` (ours) and bench/peer.py (PyTorch, ONNX Runtime, torch.mm SGEMM)
interleaved — ours, theirs, ours, theirs… one configuration at a time, for several rounds — then
the peak-memory processes, and prints one table: medians of the rates, and for the ratios the
median over rounds of each round's ratio (ours against the peers and the SGEMM rate measured
right beside it). Usually started through bench/compare.sh, which builds ours.

    python bench/compare.py --ours PATH/TO/recurrent-bench [--rounds 5] [--quick] [--isa avx2]
                            [--configs A,B,C,D,E,F,EK,AD] [--cells rnn,lstm,gru]
                            [--modes inference,training] [--no-memory] [--output FILE.md] [--raw FILE.jsonl]

--isa forces our kernels onto one instruction set and restricts PyTorch the same way
(ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA, MKL_ENABLE_INSTRUCTIONS); ONNX Runtime has no such
switch and runs on the best ISA of the machine.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from configs import CONFIGS, flops  # noqa: E402

CELL_NAMES = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
# What restricts PyTorch (ATen's kernels, oneDNN, MKL) to an ISA, by our ISA's name.
PEER_ISA_ENV = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "MKL_ENABLE_INSTRUCTIONS": "AVX512"},
}


def flops_per_sequence(config, cell, training):
    return flops(config, cell, training) / CONFIGS[config]["batch"]


def run_json(command, env=None):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(command)}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def targets(config, cell, mode, torch_rate, ort_rate, sgemm_gflops, floors):
    """The row's target in sequences per second (bench/README.md, "Targets")."""
    sgemm_rate = sgemm_gflops * 1e9 / flops_per_sequence(config, cell, mode == "training")
    if mode == "training":
        return min(1.5 * torch_rate, 0.75 * sgemm_rate)
    best = max(r for r in (torch_rate, ort_rate) if r is not None)
    if CONFIGS[config]["batch"] == 1:  # streaming latency: against the machine's floor
        return min(1.5 * best, 0.8 * floors[cell])
    return min(1.2 * best, 0.85 * sgemm_rate)


def floor_rate(ours, isa_args, config, cell):
    """Sequences per second at this machine's batch-1 bound (`recurrent-bench floor`)."""
    c = CONFIGS[config]
    command = [ours] + isa_args + ["floor", "--input", str(c["input"]), "--hidden", str(c["hidden"]),
                                   "--gates", str(GATES[cell]), "--steps", str(c["steps"])]
    out = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if "at most" in l)
    return float(line.split("at most", 1)[1].split()[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", required=True, help="path of the built recurrent-bench executable")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.4)
    parser.add_argument("--min-iters", type=int, default=2)
    parser.add_argument("--configs", default="A,B,C,D,E,F,EK,AD")
    parser.add_argument("--isa", help="force our kernels (and restrict PyTorch) to this ISA")
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--modes", default="inference,training")
    parser.add_argument("--memory-steps", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round, short timings, 1 memory step")
    parser.add_argument("--output", help="also write the tables (markdown) to this file")
    parser.add_argument("--raw", help="also write every measurement (JSON lines) to this file")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.min_time, args.min_iters, args.memory_steps = 1, 0.1, 1, 1

    selection = ["--configs", args.configs, "--cells", args.cells, "--modes", args.modes,
                 "--min-time", str(args.min_time), "--min-iters", str(args.min_iters)]
    isa_args = ["--isa", args.isa] if args.isa else []
    ours_cmd = [args.ours] + isa_args + ["rnn", "--json"] + selection
    peer = [args.python, os.path.join(HERE, "peer.py")]
    peer_env = dict(os.environ, **PEER_ISA_ENV.get(args.isa, {})) if args.isa else None
    raw = []
    started = time.time()
    configs = args.configs.split(",")
    floors = {}
    for config in configs:
        if CONFIGS[config]["batch"] == 1:
            for cell in args.cells.split(","):
                floors[cell] = floor_rate(args.ours, isa_args, config, cell)
    for r in range(args.rounds):
        sys.stderr.write(f"round {r + 1}/{args.rounds}:")
        for config in args.configs.split(","):
            sys.stderr.write(f" {config}")
            sys.stderr.flush()
            base = CONFIGS[config].get("against")
            if base:
                # Ours only, with the baseline row measured in the same process seconds before;
                # that measurement is kept apart from the baseline's own group as "A(EK)".
                for m in run_json(ours_cmd + ["--configs", f"{base},{config}"]):
                    if m["config"] == base:
                        m["config"] = f"{base}({config})"
                    m["round"], m["group"] = r, config
                    raw.append(m)
                continue
            theirs = run_json(peer + ["rnn", "--with-sgemm"] + selection + ["--configs", config], env=peer_env)
            for m in run_json(ours_cmd + ["--configs", config]) + theirs:
                m["round"], m["group"] = r, config
                raw.append(m)
        sys.stderr.write(f" ({time.time() - started:.0f} s)\n")

    memory = []
    if not args.no_memory and "training" in args.modes.split(","):
        for config in [c for c in configs if not CONFIGS[c].get("against")]:
            for cell in args.cells.split(","):
                sys.stderr.write(f"memory {config} {cell}\n")
                memory += run_json([args.ours, "rnn", "--memory", config, cell, "--steps", str(args.memory_steps)])
                memory += run_json(peer + ["memory", config, cell, "--steps", str(args.memory_steps)], env=peer_env)
    raw += memory
    elapsed = time.time() - started

    def median(side, config=None, cell=None, mode=None, key="seq_per_s"):
        values = [m[key] for m in raw if m["side"] == side and m.get("config") == config
                  and m.get("cell") == cell and m.get("mode") == mode and key in m]
        return statistics.median(values) if values else None

    sgemm = median("sgemm", key="gflops")

    def rate(side, r, config, cell, mode):
        return next((m["seq_per_s"] for m in raw if m["side"] == side and m["round"] == r and m.get("config") == config
                     and m.get("cell") == cell and m.get("mode") == mode), None)

    def paired(config, cell, mode):
        """Per round: ours / best peer, ours / target, our fraction of that round's SGEMM rate."""
        out = []
        for r in range(args.rounds):
            ours_r, torch_r, ort_r = (rate(side, r, config, cell, mode) for side in ("ours", "torch", "ort"))
            sgemm_r = next((m["gflops"] for m in raw if m["side"] == "sgemm" and m["round"] == r
                            and m["group"] == config), None)
            if ours_r is None or torch_r is None or sgemm_r is None:
                continue
            best_r = max(x for x in (torch_r, ort_r) if x is not None)
            gflops_r = ours_r * flops_per_sequence(config, cell, mode == "training") / 1e9
            out.append((ours_r / best_r, ours_r / targets(config, cell, mode, torch_r, ort_r, sgemm_r, floors),
                        gflops_r / sgemm_r))
        return [statistics.median(column) for column in zip(*out)]

    def gflops_of(r, config, cell, mode):
        return next((m["gflops"] for m in raw if m["side"] == "ours" and m["round"] == r
                     and m.get("config") == config and m.get("cell") == cell and m.get("mode") == mode), None)

    def against_own(config, cell, mode):
        """Median over rounds of our GFLOP/s (real steps) over our own rate on the baseline row
        measured beside it."""
        base = f"{CONFIGS[config]['against']}({config})"
        ratios = [a / b for a, b in ((gflops_of(r, config, cell, mode), gflops_of(r, base, cell, mode))
                                     for r in range(args.rounds)) if a is not None and b]
        return statistics.median(ratios) if ratios else None
    import torch  # noqa: only for its version
    try:
        import onnxruntime
        ort_version = onnxruntime.__version__
    except ImportError:
        ort_version = "absent"
    lines = []
    lines.append(f"Date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}; machine: {cpu_model()}, "
                 f"{os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}; "
                 f"torch {torch.__version__}, onnxruntime {ort_version}; 2 threads each, float32, time-major.")
    lines.append(f"Rounds: {args.rounds} (ours, then theirs, one configuration at a time); rates are medians, "
                 "ratios and \"met\" the median over rounds of each round's ratio; "
                 f"min time per row and round {args.min_time} s; total {elapsed / 60:.1f} min.")
    if args.isa:
        lines.append(f"ISA: ours forced to {args.isa} (`--isa {args.isa}`); PyTorch restricted with "
                     + ", ".join(f"{k}={v}" for k, v in PEER_ISA_ENV.get(args.isa, {}).items())
                     + "; ONNX Runtime cannot be restricted and ran on the machine's best ISA.")
    else:
        lines.append("ISA: the machine's best for every side.")
    if sgemm is not None:
        lines.append(f"Two-thread SGEMM (torch.mm 4480×512 @ 512×2048), median: **{sgemm:.1f} GFLOP/s**.")
    if floors:
        lines.append("Batch-1 floor (`recurrent-bench floor`, C's shapes): "
                     + ", ".join(f"{CELL_NAMES[c]} {v:,.0f} seq/s" for c, v in floors.items()) + ".")
    lines.append("")
    lines.append("| config | cell | mode | ours seq/s | PyTorch seq/s | ONNX RT seq/s | ours / best peer "
                 "| ours GFLOP/s | of SGEMM | target seq/s | ours / target | met |")
    lines.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    met_count = total = 0
    for config in configs:
        for cell in args.cells.split(","):
            for mode in args.modes.split(","):
                ours = median("ours", config, cell, mode)
                torch_rate = median("torch", config, cell, mode)
                ort_rate = median("ort", config, cell, mode)
                if ours is None or torch_rate is None:
                    continue
                gflops = median("ours", config, cell, mode, key="gflops")
                target = targets(config, cell, mode, torch_rate, ort_rate, sgemm, floors)
                over_best, over_target, of_sgemm = paired(config, cell, mode)
                met = over_target >= 1
                met_count += met
                total += 1
                lines.append(
                    f"| {config} | {CELL_NAMES[cell]} | {mode} | {ours:,.0f} | {torch_rate:,.0f} | "
                    + (f"{ort_rate:,.0f}" if ort_rate is not None else "—")
                    + f" | {over_best:.2f}× | {gflops:.1f} | {of_sgemm:.0%} | {target:,.0f} | {over_target:.2f} | "
                    + ("yes" if met else "**no**") + " |")
    own = [(config, cell, mode) for config in configs if CONFIGS[config].get("against")
           for cell in args.cells.split(",") for mode in args.modes.split(",")
           if not (CONFIGS[config].get("recurrent_dropout") and mode == "inference")]
    own = [(c, cell, m, against_own(c, cell, m)) for c, cell, m in own]
    own = [row for row in own if row[3] is not None]
    if own:
        lines.append("")
        lines.append("Ours against our own rate on the same shapes without masks or dropout, measured in the "
                     "same process seconds before (\"A(EK)\"; GFLOP/s of real steps; target ≥ 0.85):")
        lines.append("")
        lines.append("| config | cell | mode | ours seq/s | ours GFLOP/s | against | its GFLOP/s | ratio | met |")
        lines.append("|---|---|---|---:|---:|---|---:|---:|:---:|")
        for config, cell, mode, ratio in own:
            base = f"{CONFIGS[config]['against']}({config})"
            met = ratio >= 0.85
            met_count += met
            total += 1
            lines.append(
                f"| {config} | {CELL_NAMES[cell]} | {mode} | {median('ours', config, cell, mode):,.0f} | "
                f"{median('ours', config, cell, mode, key='gflops'):.1f} | {base} | "
                f"{median('ours', base, cell, mode, key='gflops'):.1f} | {ratio:.2f} | " + ("yes" if met else "**no**") + " |")
    lines.append("")
    lines.append(f"Throughput targets met: {met_count} of {total} rows.")
    if memory:
        lines.append("")
        lines.append("Peak resident memory of a training process (ru_maxrss after "
                     f"{args.memory_steps} training steps; in parentheses the growth over the process's "
                     "footprint before the model was built):")
        lines.append("")
        lines.append("| config | cell | ours MiB | PyTorch MiB | met |")
        lines.append("|---|---|---:|---:|:---:|")
        for config in configs:
            for cell in args.cells.split(","):
                o = next((m for m in memory if m["side"] == "ours" and m["config"] == config and m["cell"] == cell), None)
                t = next((m for m in memory if m["side"] == "torch" and m["config"] == config and m["cell"] == cell), None)
                if not o or not t:
                    continue
                mib = lambda m, k: m[k] / 1024
                lines.append(
                    f"| {config} | {CELL_NAMES[cell]} | {mib(o, 'maxrss_kb'):.0f} "
                    f"(+{mib(o, 'maxrss_kb') - mib(o, 'baseline_kb'):.0f}) | {mib(t, 'maxrss_kb'):.0f} "
                    f"(+{mib(t, 'maxrss_kb') - mib(t, 'baseline_kb'):.0f}) | "
                    + ("yes" if o["maxrss_kb"] <= t["maxrss_kb"] else "**no**") + " |")
    text = "\n".join(lines)
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    if args.raw:
        with open(args.raw, "w") as f:
            for m in raw:
                f.write(json.dumps(m) + "\n")


if __name__ == "__main__":
    main()
