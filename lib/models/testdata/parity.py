#!/usr/bin/python3
"""PyTorch side of lib/models' parity test (TestPyTorchParity).

Reads a JSON request written by the Go test (architecture, widths, dtype,
state_dict, input, labels), builds the same model in PyTorch with the same
module structure and state_dict names as torchvision's ResNet, He et al.'s
CIFAR ResNets (option B shortcuts), Kuang Liu's pytorch-cifar PreActResNet18
and repdyn's MLP, runs ONE train-mode forward/backward with
F.cross_entropy(label_smoothing=...), and writes a JSON reply with logits,
loss, input gradient, every parameter gradient and every buffer after the step.

Usage: parity.py request.json reply.json [request2.json reply2.json ...]
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):  # torchvision.models.resnet.ResNet (+ CIFAR stem option)
    def __init__(self, blocks, widths, in_ch, num_classes, stem):
        super().__init__()
        c0 = widths[0]
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_ch, c0, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_ch, c0, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c0)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1) if stem == "imagenet" else None
        inp = c0
        for s, (n, w) in enumerate(zip(blocks, widths)):
            layers = []
            for i in range(n):
                layers.append(BasicBlock(inp, w, 2 if (i == 0 and s > 0) else 1))
                inp = w
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*layers))
        self.nstages = len(blocks)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inp, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for s in range(self.nstages):
            x = getattr(self, "layer%d" % (s + 1))(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


class PreActBlock(nn.Module):  # kuangliu/pytorch-cifar models/preact_resnet.py
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        out += shortcut
        return out


class PreActResNet(nn.Module):
    def __init__(self, blocks, widths, in_ch, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, widths[0], kernel_size=3, stride=1, padding=1, bias=False)
        inp = widths[0]
        for s, (n, w) in enumerate(zip(blocks, widths)):
            layers = []
            for i in range(n):
                layers.append(PreActBlock(inp, w, 2 if (i == 0 and s > 0) else 1))
                inp = w
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*layers))
        self.linear = nn.Linear(inp, num_classes)

    def forward(self, x):
        out = self.conv1(x)
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1)  # F.avg_pool2d(out, 4) on 32x32 inputs
        out = out.view(out.size(0), -1)
        return self.linear(out)


class MLP(nn.Module):
    def __init__(self, in_features, hidden, num_classes, act, slope, bias):
        super().__init__()
        mods, inp = [], in_features
        for h in hidden:
            mods.append(nn.Linear(inp, h, bias=bias))
            mods.append({"ReLU": nn.ReLU(), "LeakyReLU": nn.LeakyReLU(slope), "Tanh": nn.Tanh(),
                         "Sigmoid": nn.Sigmoid(), "Identity": nn.Identity()}[act])
            inp = h
        mods.append(nn.Linear(inp, num_classes, bias=bias))
        self.layers = nn.Sequential(*mods)

    def forward(self, x):
        return self.layers(torch.flatten(x, 1))


def build(req):
    kind = req["kind"]
    if kind == "resnet":
        return ResNet(req["blocks"], req["widths"], req["in_channels"], req["num_classes"], req["stem"])
    if kind == "preact":
        return PreActResNet(req["blocks"], req["widths"], req["in_channels"], req["num_classes"])
    if kind == "mlp":
        return MLP(req["in_features"], req["widths"], req["num_classes"], req["activation"],
                   req["slope"], req["bias"])
    raise ValueError("unknown kind " + kind)


def main():
    args = sys.argv[1:]
    if len(args) == 0 or len(args) % 2:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    for i in range(0, len(args), 2):
        run(args[i], args[i + 1])


def step(req, dtype):
    """One train-mode forward/backward in dtype; returns the reply dict."""
    torch.manual_seed(0)
    model = build(req).to(dtype)
    sd = model.state_dict()
    names = set(sd.keys())
    given = set(req["state"].keys())
    if names != given:
        raise SystemExit("state_dict names differ: only in PyTorch %s, only in Go %s" %
                         (sorted(names - given), sorted(given - names)))
    new = {}
    for k, v in req["state"].items():
        t = torch.tensor(v["data"], dtype=torch.float64).reshape(v["shape"])
        if list(t.shape) != list(sd[k].shape):
            raise SystemExit("%s: Go shape %s, PyTorch shape %s" % (k, list(t.shape), list(sd[k].shape)))
        new[k] = t.to(sd[k].dtype)
    model.load_state_dict(new)
    model.train()
    x = torch.tensor(req["input"]["data"], dtype=torch.float64).reshape(req["input"]["shape"]).to(dtype)
    x.requires_grad_(True)
    labels = torch.tensor(req["labels"], dtype=torch.long)
    logits = model(x)
    loss = F.cross_entropy(logits, labels, label_smoothing=req["smoothing"])
    loss.backward()
    flat = lambda t: t.detach().to(torch.float64).reshape(-1).tolist()
    model.eval()  # eval-mode forward with the updated running statistics
    with torch.no_grad():
        eval_logits = model(x)
    return {
        "eval_logits": flat(eval_logits),
        "logits": flat(logits),
        "loss": float(loss),
        "input_grad": flat(x.grad),
        "grads": {n: flat(p.grad) for n, p in model.named_parameters()},
        "param_order": [n for n, _ in model.named_parameters()],
        "buffers": {n: flat(b) for n, b in model.named_buffers()},
        "torch": torch.__version__,
    }


def run(req_path, reply_path):
    req = json.load(open(req_path))
    dtype = {"float32": torch.float32, "float64": torch.float64}[req["dtype"]]
    reply = step(req, dtype)
    if dtype == torch.float32:
        # the same float32-representable weights and inputs in float64: tells
        # how far each float32 implementation is from the exact result
        reply["ref64"] = step(req, torch.float64)
    json.dump(reply, open(reply_path, "w"))


if __name__ == "__main__":
    main()
