#!/usr/bin/env python3
"""PyTorch parity for repdyn's lib/theory Jacobians and NTKs.

Usage: parity.py case.json  -> prints a JSON object with the max relative
errors of repdyn's J and K against torch.autograd.functional.jacobian.

case.json (written by TestTorchParity in parity_test.go) holds the model
architecture ("mlp" or "cifar-resnet"), its configuration, the state dict
(parameters and batch-norm buffers, by PyTorch state_dict names), the input
batch, the parameter order and repdyn's J (N x D, example-major rows) and K.
The model is evaluated in eval mode (running statistics), float64.
"""
import json
import sys

import torch
import torch.nn as nn
from torch.nn.utils import stateless

torch.set_default_dtype(torch.float64)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[cfg.get("act", "relu")]
        layers, prev = [], cfg["in"]
        for h in cfg["hidden"]:
            layers += [nn.Linear(prev, h), act()]
            prev = h
        layers.append(nn.Linear(prev, cfg["classes"]))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x.flatten(1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        sc = x if self.downsample is None else self.downsample(x)
        return torch.relu(h + sc)


class CIFARResNet(nn.Module):
    """He et al. CIFAR ResNet with option-B projection shortcuts (as lib/models)."""

    def __init__(self, cfg):
        super().__init__()
        n = (cfg["depth"] - 2) // 6
        w = cfg["widths"]
        self.conv1 = nn.Conv2d(cfg["in"], w[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        cin = w[0]
        for s in range(3):
            blocks = []
            for i in range(n):
                stride = 2 if (i == 0 and s > 0) else 1
                blocks.append(BasicBlock(cin, w[s], stride))
                cin = w[s]
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, cfg["classes"])

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = self.layer3(self.layer2(self.layer1(h)))
        return self.fc(h.mean(dim=(2, 3)))


def main(path):
    case = json.load(open(path))
    model = {"mlp": MLP, "cifar-resnet": CIFARResNet}[case["arch"]](case["config"])
    sd = {}
    for k, v in case["state"].items():
        shape = case["shapes"][k]
        t = torch.tensor(v, dtype=torch.float64).reshape(shape)
        if k.endswith("num_batches_tracked"):
            t = t.to(torch.long).reshape(())
        sd[k] = t
    model.load_state_dict(sd, strict=True)
    model.eval()
    names = case["param_names"]
    mine = [n for n, _ in model.named_parameters()]
    assert mine == names, ("parameter order differs", mine, names)
    x = torch.tensor(case["x"]).reshape(case["x_shape"])
    params = tuple(dict(model.named_parameters())[n].detach() for n in names)

    def f(*ps):
        out = stateless.functional_call(model, {n: p for n, p in zip(names, ps)}, (x,))
        return out.reshape(-1)  # example-major stacking, as repdyn

    jac = torch.autograd.functional.jacobian(f, params)
    J = torch.cat([j.reshape(j.shape[0], -1) for j in jac], dim=1)
    K = J @ J.T
    Jg = torch.tensor(case["J"]).reshape(J.shape)
    Kg = torch.tensor(case["K"]).reshape(K.shape)
    out = {
        "N": J.shape[0],
        "D": J.shape[1],
        "j_rel": ((J - Jg).abs().max() / J.abs().max()).item(),
        "k_rel": ((K - Kg).abs().max() / K.abs().max()).item(),
        "yhat_rel": ((f(*params) - torch.tensor(case["yhat"])).abs().max() / f(*params).abs().max()).item(),
        "torch": torch.__version__,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
