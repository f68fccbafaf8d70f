#!/usr/bin/env python3
"""Golden numbers for torch.nn.RNN / LSTM / GRU: forward, final states and gradients.

Writes Tests/RecurrentTests/Fixtures/torch_rnn.safetensors (float32 tensors) with metadata:
  "cases"         JSON list, one object per case, every setting spelled out (see CASE KEYS)
  "generator"     this script's path
  "torch_version" the torch that produced the numbers
  "loss"          the scalar whose gradients are stored
  "param_counts"  JSON object: parameter counts of nn.LSTM(5, 64) and nn.RNN(10, 20, num_layers=3)

The full naming scheme is documented in tools/reference/RNN_FIXTURES.md. In short, for a case
called NAME (names never contain a dot):
  NAME.<state_dict key>      every parameter under its PyTorch name (weight_ih_l0, weight_hh_l1_reverse,
                             bias_ih_l0, bias_hh_l0, weight_hr_l0 with proj_size, ...)
  NAME.input                 exactly as fed: [T, B, I], or [B, T, I] when batch_first
  NAME.h0, NAME.c0           when initial_state: [L*D, B, H_out] and (LSTM) [L*D, B, H]
  NAME.lengths               [B] (float) when lengths is not null; the module then runs on
                             pack_padded_sequence(input, lengths, batch_first, enforce_sorted=False)
                             and the output is pad_packed_sequence(..., total_length=T)
  NAME.output, NAME.h_n, NAME.c_n (LSTM)
  NAME.w_output, NAME.w_h_n, NAME.w_c_n (LSTM)    uniform(-1, 1) loss weights
  NAME.grad.input, NAME.grad.h0, NAME.grad.c0, NAME.grad.<parameter name>
where L = sum(output * w_output) + sum(h_n * w_h_n) [+ sum(c_n * w_c_n)].

Per case, under torch.manual_seed(seed) with seed = zlib.crc32(name) & 0x7fffffff, in this order:
the module is constructed (default PyTorch init), then input = randn(shape) * input_scale,
then h0 = randn, c0 = randn (when initial_state), then w_output, w_h_n, w_c_n = rand * 2 - 1.
Runs single-threaded with oneDNN disabled so the numbers come from ATen's reference kernels.
"""
import itertools
import json
import os
import zlib

import torch
from safetensors.torch import save_file
from fixture_io import write_fixture  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "Tests", "RecurrentTests", "Fixtures", "torch_rnn.safetensors")

MODE_TOKEN = {"RNN_TANH": "rnn", "RNN_RELU": "relu", "LSTM": "lstm", "GRU": "gru"}
VAR_LENGTHS = [5, 2, 4]  # B = 3, T = 5; unsorted on purpose


def case_name(c):
    """Derives a case name from its settings, so every name says what it tests.

    mode token, l{num_layers}, then only the settings that differ from the defaults, in this order:
    bi, bf, h0, nobias, var, in{input_size}(!=3), hid{hidden_size}(!=4), proj{proj_size}(!=0),
    T{seq_len}(!=5), B{batch}(!=3), scaled (input_scale != 1), ub (unbatched).
    """
    parts = [MODE_TOKEN[c["mode"]], f"l{c['num_layers']}"]
    if c["bidirectional"]:
        parts.append("bi")
    if c["batch_first"]:
        parts.append("bf")
    if c["initial_state"]:
        parts.append("h0")
    if not c["bias"]:
        parts.append("nobias")
    if c["lengths"] is not None:
        parts.append("var")
    if c["input_size"] != 3:
        parts.append(f"in{c['input_size']}")
    if c["hidden_size"] != 4:
        parts.append(f"hid{c['hidden_size']}")
    if c["proj_size"] != 0:
        parts.append(f"proj{c['proj_size']}")
    if c["seq_len"] != 5:
        parts.append(f"T{c['seq_len']}")
    if c["batch"] != 3:
        parts.append(f"B{c['batch']}")
    if c["input_scale"] != 1.0:
        parts.append("scaled")
    if c["unbatched"]:
        parts.append("ub")
    return "_".join(parts)


def make_case(mode, num_layers=1, bidirectional=False, batch_first=False, initial_state=False, bias=True,
              lengths=None, input_size=3, hidden_size=4, proj_size=0, seq_len=5, batch=3, input_scale=1.0,
              unbatched=False):
    c = dict(mode=mode, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, bias=bias,
             batch_first=batch_first, bidirectional=bidirectional, proj_size=proj_size, seq_len=seq_len,
             batch=batch, initial_state=initial_state, lengths=lengths, input_scale=input_scale,
             unbatched=unbatched)
    if lengths is not None:
        assert len(lengths) == batch and max(lengths) == seq_len
    name = case_name(c)
    c = dict(name=name, **c)
    c["seed"] = zlib.crc32(name.encode()) & 0x7FFFFFFF
    return c


def build_cases():
    cases = []
    # The full cross product.
    for mode, layers, bi, bf, h0, bias, var in itertools.product(
            ["RNN_TANH", "LSTM", "GRU"], [1, 2, 3], [False, True], [False, True], [False, True],
            [True, False], [False, True]):
        cases.append(make_case(mode, num_layers=layers, bidirectional=bi, batch_first=bf, initial_state=h0,
                               bias=bias, lengths=VAR_LENGTHS if var else None))
    # RNN with ReLU: 1 and 2 layers, uni and bi, with and without lengths (h0 given for 2 layers).
    for layers, bi, var in itertools.product([1, 2], [False, True], [False, True]):
        cases.append(make_case("RNN_RELU", num_layers=layers, bidirectional=bi, initial_state=(layers == 2),
                               lengths=VAR_LENGTHS if var else None))
    # Small-dimension edges, each mode.
    for mode in ["RNN_TANH", "LSTM", "GRU"]:
        cases.append(make_case(mode, seq_len=1, bidirectional=True, initial_state=True))
        cases.append(make_case(mode, batch=1, num_layers=2, bidirectional=True, batch_first=True,
                               initial_state=True))
        cases.append(make_case(mode, hidden_size=1, num_layers=2, initial_state=True))
        cases.append(make_case(mode, input_size=1, bidirectional=True, batch_first=True))
    # Long sequences: no drift over 500 steps.
    for mode in ["RNN_TANH", "LSTM", "GRU"]:
        cases.append(make_case(mode, seq_len=500, batch=2, input_size=4, hidden_size=8, input_scale=0.5))
    # LSTM with projections.
    for layers, bi in itertools.product([1, 2], [False, True]):
        cases.append(make_case("LSTM", proj_size=2, num_layers=layers, bidirectional=bi, initial_state=True))
    cases.append(make_case("LSTM", proj_size=2, num_layers=2, bidirectional=True, batch_first=True,
                           initial_state=True, lengths=VAR_LENGTHS))
    # Unbatched input: x [T, I], states [layers·directions, H]; batch_first does not apply.
    for mode in ["RNN_TANH", "LSTM", "GRU"]:
        cases.append(make_case(mode, unbatched=True, batch=1))
        cases.append(make_case(mode, unbatched=True, batch=1, num_layers=2, bidirectional=True, batch_first=True,
                               initial_state=True))
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    assert all("." not in n for n in names)
    return cases


def make_module(c):
    common = dict(input_size=c["input_size"], hidden_size=c["hidden_size"], num_layers=c["num_layers"],
                  bias=c["bias"], batch_first=c["batch_first"], bidirectional=c["bidirectional"])
    if c["mode"] == "LSTM":
        return torch.nn.LSTM(proj_size=c["proj_size"], **common)
    if c["mode"] == "GRU":
        return torch.nn.GRU(**common)
    nonlinearity = "tanh" if c["mode"] == "RNN_TANH" else "relu"
    return torch.nn.RNN(nonlinearity=nonlinearity, **common)


def run_case(c):
    name = c["name"]
    torch.manual_seed(c["seed"])
    module = make_module(c)
    T, B, I, H = c["seq_len"], c["batch"], c["input_size"], c["hidden_size"]
    dirs = 2 if c["bidirectional"] else 1
    h_out = c["proj_size"] or H
    is_lstm = c["mode"] == "LSTM"

    ub = c["unbatched"]
    shape = (T, I) if ub else (B, T, I) if c["batch_first"] else (T, B, I)
    x = (torch.randn(*shape) * c["input_scale"]).requires_grad_(True)
    h0 = c0 = None
    state_batch = () if ub else (B,)
    if c["initial_state"]:
        h0 = torch.randn(c["num_layers"] * dirs, *state_batch, h_out).requires_grad_(True)
        if is_lstm:
            c0 = torch.randn(c["num_layers"] * dirs, *state_batch, H).requires_grad_(True)

    if c["lengths"] is not None:
        lengths = torch.tensor(c["lengths"], dtype=torch.int64)
        feed = pack_padded_sequence(x, lengths, batch_first=c["batch_first"], enforce_sorted=False)
    else:
        feed = x
    hx = None
    if c["initial_state"]:
        hx = (h0, c0) if is_lstm else h0
    out, state = module(feed, hx)
    if c["lengths"] is not None:
        out, _ = pad_packed_sequence(out, batch_first=c["batch_first"], total_length=T)
    h_n, c_n = state if is_lstm else (state, None)

    w_output = torch.rand(*out.shape) * 2 - 1
    w_h_n = torch.rand(*h_n.shape) * 2 - 1
    loss = (out * w_output).sum() + (h_n * w_h_n).sum()
    if is_lstm:
        w_c_n = torch.rand(*c_n.shape) * 2 - 1
        loss = loss + (c_n * w_c_n).sum()
    loss.backward()

    t = {}
    for pname, p in module.named_parameters():
        t[f"{name}.{pname}"] = p.detach().clone()
        t[f"{name}.grad.{pname}"] = p.grad.detach().clone()
    assert set(module.state_dict().keys()) == {k for k, _ in module.named_parameters()}
    t[f"{name}.input"] = x.detach().clone()
    if c["initial_state"]:
        t[f"{name}.h0"] = h0.detach().clone()
        t[f"{name}.grad.h0"] = h0.grad.detach().clone()
        if is_lstm:
            t[f"{name}.c0"] = c0.detach().clone()
            t[f"{name}.grad.c0"] = c0.grad.detach().clone()
    if c["lengths"] is not None:
        t[f"{name}.lengths"] = torch.tensor(c["lengths"], dtype=torch.float32)
    t[f"{name}.output"] = out.detach().clone()
    t[f"{name}.h_n"] = h_n.detach().clone()
    t[f"{name}.w_output"] = w_output
    t[f"{name}.w_h_n"] = w_h_n
    if is_lstm:
        t[f"{name}.c_n"] = c_n.detach().clone()
        t[f"{name}.w_c_n"] = w_c_n
    t[f"{name}.grad.input"] = x.grad.detach().clone()

    # Shape sanity against the documented layouts.
    out_shape = (T, dirs * h_out) if ub else (B, T, dirs * h_out) if c["batch_first"] else (T, B, dirs * h_out)
    assert tuple(out.shape) == out_shape, (name, out.shape)
    assert tuple(h_n.shape) == (c["num_layers"] * dirs, *state_batch, h_out)
    return t


def param_counts():
    def count(m):
        return sum(p.numel() for p in m.parameters())
    return {
        "nn.LSTM(5, 64)": count(torch.nn.LSTM(5, 64)),
        "nn.RNN(10, 20, num_layers=3)": count(torch.nn.RNN(10, 20, num_layers=3)),
    }




def main():
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    torch.set_default_dtype(torch.float32)
    cases = build_cases()
    out = {}
    for c in cases:
        tensors = run_case(c)
        assert not (set(tensors) & set(out)), c["name"]
        out.update(tensors)

    out = {k: v.contiguous().to(torch.float32) for k, v in out.items()}
    metadata = {
        "cases": json.dumps(cases),
        "torch_version": torch.__version__,
        "generator": "tools/reference/make_torch_rnn_fixtures.py",
        "loss": "L = sum(output * w_output) + sum(h_n * w_h_n) [+ sum(c_n * w_c_n) for LSTM]",
        "param_counts": json.dumps(param_counts()),
    }
    write_fixture(save_file, out, metadata, OUT, f"{len(cases)} cases")


if __name__ == "__main__":
    main()
