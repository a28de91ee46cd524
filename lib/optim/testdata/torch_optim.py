#!/usr/bin/python3
"""Runs torch.optim on the toy problems described on stdin (JSON) and prints
the final parameters as JSON. Used by optim's TestAgainstTorch."""
import json
import sys

import torch


def run(spec):
    dtype = {"float32": torch.float32, "float64": torch.float64}[spec["dtype"]]
    out = {}
    for case in spec["cases"]:
        run_case(spec, case, dtype, out)
    return out


def run_case(spec, case, dtype, out):
    w = torch.tensor(spec["w"], dtype=dtype).reshape(spec["wshape"]).requires_grad_(False)
    b = torch.tensor(spec["b"], dtype=dtype).requires_grad_(False)
    a = torch.tensor(spec["a"], dtype=dtype).reshape(spec["wshape"])
    w.grad = torch.zeros_like(w)
    b.grad = torch.zeros_like(b)
    kind, cfg = case["kind"], dict(case["cfg"])
    lrs = cfg.pop("lrs")
    groups = [{"params": [w]}, {"params": [b], "weight_decay": 0.0}]
    if kind == "sgd":
        opt = torch.optim.SGD(groups, **cfg)
    elif kind == "adam":
        opt = torch.optim.Adam(groups, **cfg)
    else:
        opt = torch.optim.AdamW(groups, **cfg)
    for k, lr in enumerate(lrs):
        for g in opt.param_groups:
            g["lr"] = lr
        c = torch.tensor(spec["c"][k], dtype=dtype)
        # the same element-wise ops, in the same order, as the Go test
        w.grad.copy_(a * w * w + c[0])
        b.grad.copy_(b * c[1] + c[2])
        opt.step()
    out[case["name"]] = {"w": w.flatten().tolist(), "b": b.tolist()}


# stdin: a list of specs (one per dtype); stdout: the list of results.
json.dump([run(spec) for spec in json.load(sys.stdin)], sys.stdout)
