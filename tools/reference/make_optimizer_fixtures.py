#!/usr/bin/env python3
"""Golden numbers for the optimizers, gradient clipping and learning-rate schedules.

Writes Tests/RecurrentTests/Fixtures/optimizers.safetensors (float32 tensors) with metadata:
  "cases"         JSON list of optimizer cases, every hyperparameter spelled out
  "torch_version" the torch that produced the numbers
  "problem"       a description of the fixed problem

The problem, shared by every case: linear regression with x [5,3], y [5,4] (randn),
W [3,4] and b [4] (randn * 0.5), loss = mse_loss(x @ W + b, y) (mean over all 20 elements).
Each case runs 3 steps of (zero_grad, loss, backward, step) from W0, b0 and stores
  {name}.loss{t} [1]   the loss before step t (t = 1, 2, 3)
  {name}.W{t} [3,4], {name}.b{t} [4]   the parameters after step t

Clipping: clip.g0 [3,4], clip.g1 [4] (randn * 3); clip_grad_norm_(max_norm=0.5) gives
clip.norm_total [1] (the norm before clipping), clip.norm_g0, clip.norm_g1;
clip_grad_value_(clip_value=1.0) gives clip.value_g0, clip.value_g1.

Schedules (base lr 0.1, lr read from param_groups[0]['lr'] before each scheduler.step()):
sched.step [8]   StepLR(step_size=2, gamma=0.5), epochs 0..7
sched.cosine [10] CosineAnnealingLR(T_max=6, eta_min=0.001), epochs 0..9
"""
import json
import os

import torch
from safetensors.torch import save_file
from fixture_io import write_fixture  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "Tests", "RecurrentTests", "Fixtures", "optimizers.safetensors")

CASES = [
    dict(name="sgd", optimizer="sgd", lr=0.1, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0),
    dict(name="sgd_momentum", optimizer="sgd", lr=0.1, momentum=0.9, dampening=0.0, nesterov=False,
         weight_decay=0.0),
    dict(name="sgd_nesterov", optimizer="sgd", lr=0.1, momentum=0.9, dampening=0.0, nesterov=True,
         weight_decay=0.0),
    dict(name="sgd_wd_momentum", optimizer="sgd", lr=0.1, momentum=0.9, dampening=0.0, nesterov=False,
         weight_decay=0.01),
    dict(name="adam", optimizer="adam", lr=0.01, betas=[0.9, 0.999], eps=1e-7, weight_decay=0.0, amsgrad=False),
    dict(name="adam_wd", optimizer="adam", lr=0.01, betas=[0.9, 0.999], eps=1e-7, weight_decay=0.01,
         amsgrad=False),
    dict(name="adamw", optimizer="adamw", lr=0.01, betas=[0.9, 0.999], eps=1e-7, weight_decay=0.004,
         amsgrad=False),
    dict(name="rmsprop", optimizer="rmsprop", lr=0.01, alpha=0.9, eps=1e-7, momentum=0.0, centered=False,
         weight_decay=0.0),
    dict(name="rmsprop_momentum", optimizer="rmsprop", lr=0.01, alpha=0.9, eps=1e-7, momentum=0.5,
         centered=False, weight_decay=0.0),
    dict(name="rmsprop_centered", optimizer="rmsprop", lr=0.01, alpha=0.9, eps=1e-7, momentum=0.0,
         centered=True, weight_decay=0.0),
    dict(name="adagrad", optimizer="adagrad", lr=0.1, initial_accumulator_value=0.1, eps=1e-7, lr_decay=0.0,
         weight_decay=0.0),
]


def make_optimizer(case, params):
    kind = case["optimizer"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=case["lr"], momentum=case["momentum"], dampening=case["dampening"],
                               nesterov=case["nesterov"], weight_decay=case["weight_decay"])
    if kind in ("adam", "adamw"):
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return cls(params, lr=case["lr"], betas=tuple(case["betas"]), eps=case["eps"],
                   weight_decay=case["weight_decay"], amsgrad=case["amsgrad"])
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=case["lr"], alpha=case["alpha"], eps=case["eps"],
                                   momentum=case["momentum"], centered=case["centered"],
                                   weight_decay=case["weight_decay"])
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=case["lr"], lr_decay=case["lr_decay"],
                                   initial_accumulator_value=case["initial_accumulator_value"],
                                   eps=case["eps"], weight_decay=case["weight_decay"])
    raise ValueError(kind)




def main():
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float32)
    x = torch.randn(5, 3)
    y = torch.randn(5, 4)
    W0 = torch.randn(3, 4) * 0.5
    b0 = torch.randn(4) * 0.5
    out = {"x": x, "y": y, "W0": W0, "b0": b0}

    for case in CASES:
        W = W0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        opt = make_optimizer(case, [W, b])
        name = case["name"]
        for t in (1, 2, 3):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(x @ W + b, y)
            loss.backward()
            opt.step()
            out[f"{name}.loss{t}"] = loss.detach().reshape(1)
            out[f"{name}.W{t}"] = W.detach().clone()
            out[f"{name}.b{t}"] = b.detach().clone()

    # Gradient clipping.
    g0 = torch.randn(3, 4) * 3
    g1 = torch.randn(4) * 3
    out["clip.g0"] = g0
    out["clip.g1"] = g1
    p0 = torch.zeros(3, 4, requires_grad=True)
    p1 = torch.zeros(4, requires_grad=True)
    p0.grad, p1.grad = g0.clone(), g1.clone()
    total = torch.nn.utils.clip_grad_norm_([p0, p1], max_norm=0.5)
    out["clip.norm_total"] = total.detach().reshape(1)
    out["clip.norm_g0"] = p0.grad.clone()
    out["clip.norm_g1"] = p1.grad.clone()
    p0.grad, p1.grad = g0.clone(), g1.clone()
    torch.nn.utils.clip_grad_value_([p0, p1], clip_value=1.0)
    out["clip.value_g0"] = p0.grad.clone()
    out["clip.value_g1"] = p1.grad.clone()

    # Learning-rate schedules.
    def lrs(make_scheduler, epochs):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make_scheduler(opt)
        values = []
        for _ in range(epochs):
            values.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return torch.tensor(values, dtype=torch.float32)

    out["sched.step"] = lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5), 8)
    out["sched.cosine"] = lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.001), 10)

    out = {k: v.contiguous().to(torch.float32) for k, v in out.items()}
    metadata = {
        "cases": json.dumps(CASES),
        "torch_version": torch.__version__,
        "problem": "x [5,3], y [5,4] randn; W0 [3,4], b0 [4] randn*0.5 (torch.manual_seed(0)); "
                   "loss = mse_loss(x @ W + b, y); 3 steps per case",
        "generator": "tools/reference/make_optimizer_fixtures.py",
    }
    write_fixture(save_file, out, metadata, OUT, f"{len(CASES)} optimizer cases")


if __name__ == "__main__":
    main()
