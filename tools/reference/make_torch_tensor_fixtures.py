#!/usr/bin/env python3
"""Golden numbers for the PyTorch face's tensor vocabulary: indexing and slicing, permute,
stack, cat, reductions over a dimension with keepdim, max with its indices, argmax.

Writes Tests/RecurrentTests/Fixtures/torch_tensor_ops.safetensors (float32) with metadata
"cases" (JSON: name -> the Python expression) and "torch_version".

Inputs: x [2, 3, 4] = randn (seed 0); ties [2, 3] with repeated maxima.
Each case stores
  {name}          the result of the expression on x (indices as float32)
  {name}.w        fixed weights (randn) of the result's shape, for the differentiable ones
  {name}.grad     the gradient of (result * w).sum() with respect to x

The nn loss modules with their default (mean) reduction, on logits [4, 3] (randn) with
labels [4], and on pred / target [4, 3] (target in [0, 1] for BCE):
  loss.logits, loss.labels, loss.pred, loss.target
  loss.cross_entropy, loss.mse, loss.bce_with_logits   (each [1]) and .grad (of the input)
torch.optim.Adam(params, lr=0.1) with every other argument at its default, three steps of
(loss.pred * loss.target).sum() ** 2 on p = loss.pred: adam.p1, adam.p2, adam.p3.
"""
import json
import os

import torch
from safetensors.torch import save_file
from fixture_io import write_fixture  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "Tests", "RecurrentTests", "Fixtures", "torch_tensor_ops.safetensors")

# name -> (expression on x, differentiable)
CASES = {
    "last_step": ("x[:, -1, :]", True),
    "slice": ("x[:, 1:3]", True),
    "negative": ("x[-1, :, -3:-1]", True),
    "mixed": ("x[0, 1:, 2]", True),
    "clamped": ("x[:, 1:100]", True),
    "from": ("x[:, :, 2:]", True),
    "permute": ("x.permute(2, 0, 1)", True),
    "stack1": ("torch.stack([x[0], x[1]], dim=1)", True),
    "stack_last": ("torch.stack([x[0], x[1] * 2], dim=-1)", True),
    "cat": ("torch.cat([x, x * 2], dim=2)", True),
    "sum_keep": ("x.sum(1, keepdim=True)", True),
    "mean_last": ("x.mean(-1)", True),
    "max1": ("x.max(dim=1).values", True),
    "max1_indices": ("x.max(dim=1).indices.float()", False),
    "max_keep": ("x.max(dim=-1, keepdim=True).values", True),
    "argmax_keep": ("x.argmax(dim=2, keepdim=True).float()", False),
    "ties_max": ("ties.max(dim=1).values", False),
    "ties_indices": ("ties.max(dim=1).indices.float()", False),
    "squeeze": ("x[:, 1:2, :].squeeze(1)", True),
    "unsqueeze": ("x.unsqueeze(-1)", True),
}


def main():
    torch.manual_seed(0)
    x0 = torch.randn(2, 3, 4)
    ties = torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])
    tensors = {"x": x0.clone(), "ties": ties}
    weights = torch.Generator().manual_seed(1)
    for name, (expression, differentiable) in CASES.items():
        x = x0.clone().requires_grad_(differentiable)
        result = eval(expression, {"torch": torch, "x": x, "ties": ties})
        tensors[name] = result.detach().clone().contiguous()
        if differentiable:
            w = torch.randn(result.shape, generator=weights)
            (result * w).sum().backward()
            tensors[name + ".w"] = w
            tensors[name + ".grad"] = x.grad.clone()
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(4, 3, generator=g)
    labels = torch.tensor([0, 2, 1, 2])
    pred = torch.randn(4, 3, generator=g)
    target = torch.rand(4, 3, generator=g)
    tensors.update({"loss.logits": logits, "loss.labels": labels.float(), "loss.pred": pred, "loss.target": target})
    for name, module, a, b in [("cross_entropy", torch.nn.CrossEntropyLoss(), logits, labels),
                               ("mse", torch.nn.MSELoss(), pred, target),
                               ("bce_with_logits", torch.nn.BCEWithLogitsLoss(), pred, target)]:
        a = a.clone().requires_grad_(True)
        loss = module(a, b)
        loss.backward()
        tensors["loss." + name] = loss.detach().reshape(1)
        tensors["loss." + name + ".grad"] = a.grad.clone()
    p = torch.nn.Parameter(pred.clone())
    adam = torch.optim.Adam([p], lr=0.1)
    for step in range(1, 4):
        adam.zero_grad()
        ((p * target).sum() ** 2).backward()
        adam.step()
        tensors[f"adam.p{step}"] = p.detach().clone()
    metadata = {
        "cases": json.dumps({k: v[0] for k, v in CASES.items()}, sort_keys=True),
        "torch_version": torch.__version__,
        "generator": "tools/reference/make_torch_tensor_fixtures.py",
    }
    write_fixture(save_file, tensors, metadata, OUT, f"{len(CASES)} tensor cases")


if __name__ == "__main__":
    main()
