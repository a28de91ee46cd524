#!/usr/bin/python3
"""PyTorch side of repdyn's interop test (TestPyTorchInterop in lib/cmd/repdyn).

Usage: torch_interop.py jobs.json result.json

jobs.json is a list of jobs; each has "arch" (a model description as in
lib/models/testdata/parity.py: the same torchvision-style modules, or
{"kind": "torchvision", "name": "resnet18", "num_classes": 10}: torchvision's
own model) and "op":

  compare  load "file" (safetensors) with load_state_dict(strict=True),
           check the dtypes (I64 num_batches_tracked, float weights), run the
           model in eval mode on "inputs" (.npy) and compare with "logits"
           (.npy, written by `repdyn eval --save-logits`): the result has the
           normwise relative difference max|a-b|/max|b| against PyTorch in
           float32 ("rel") and in float64 ("rel64").
  write    build the model with seed "seed", randomise its batch-norm
           statistics and counters, and save its state_dict (as
           safetensors.torch.save_file would) in each dtype of "dtypes" to
           "prefix" + dtype + ".safetensors".

The safetensors package is used when installed; otherwise (Debian has no
python3-safetensors) the files are read and written with json, struct and
torch.frombuffer, following the format's documented layout: an 8-byte
little-endian header length, a JSON header {name: {dtype, shape,
data_offsets}}, then the raw little-endian tensor bytes.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "models", "testdata"))
from parity import build as build_mirror  # noqa: E402  (the PyTorch mirrors of lib/models)


def build(arch):
    """The model: torchvision's own ResNet-18/34 for {"kind": "torchvision"},
    else the mirror in lib/models/testdata/parity.py."""
    if arch["kind"] == "torchvision":
        import torchvision.models
        return getattr(torchvision.models, arch["name"])(num_classes=arch["num_classes"])
    return build_mirror(arch)

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
NAMES = {v: k for k, v in DTYPES.items()}

try:
    from safetensors.torch import load_file, save_file  # noqa: F401
    HAVE_ST = True
except ImportError:
    HAVE_ST = False


def read_safetensors(path):
    with open(path, "rb") as f:
        b = f.read()
    (n,) = struct.unpack("<Q", b[:8])
    header = json.loads(b[8:8 + n])
    data = b[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        dt = DTYPES[e["dtype"]]
        if hi == lo:
            t = torch.empty(e["shape"], dtype=dt)
        else:
            t = torch.frombuffer(bytearray(data[lo:hi]), dtype=dt).reshape(e["shape"])
        out[name] = t
    return out


def write_safetensors(path, sd):
    if HAVE_ST:
        save_file(sd, path)
        return
    items = sorted(sd.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, blobs, off = {}, [], 0
    for name, t in items:
        raw = t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def compare(job):
    model = build(job["arch"])
    sd = load_file(job["file"]) if HAVE_ST else read_safetensors(job["file"])
    expect = model.state_dict()
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            if v.dtype != torch.int64 or v.shape != ():
                raise SystemExit("%s: %s %s, want an int64 scalar" % (k, v.dtype, list(v.shape)))
        elif not v.dtype.is_floating_point:
            raise SystemExit("%s: dtype %s, want a float dtype" % (k, v.dtype))
    model.load_state_dict(sd, strict=True)  # raises on missing/unexpected keys or shapes
    model.eval()
    x = torch.from_numpy(np.load(job["inputs"]))
    ours = np.load(job["logits"]).astype(np.float64)
    with torch.no_grad():
        y32 = model(x.float()).double().numpy()
        y64 = model.double()(x.double()).numpy()
    if ours.shape != y32.shape:
        raise SystemExit("logits shape %s, PyTorch %s" % (ours.shape, y32.shape))
    return {"rel": rel(ours, y32), "rel64": rel(ours, y64), "torch_rel64": rel(y32, y64),
            "keys": len(sd), "model_keys": len(expect),
            "nbt": sorted({int(v) for k, v in sd.items() if k.endswith("num_batches_tracked")})}


def write(job):
    torch.manual_seed(job["seed"])
    model = build(job["arch"])
    g = torch.Generator().manual_seed(job["seed"] + 1)
    for name, b in model.named_buffers():
        if name.endswith("running_mean"):
            b.copy_(0.1 * torch.randn(b.shape, generator=g))
        elif name.endswith("running_var"):
            b.copy_(0.5 + torch.rand(b.shape, generator=g))
        elif name.endswith("num_batches_tracked"):
            b.fill_(123)
    for name, p in model.named_parameters():
        if name.endswith("bn1.weight") or name.endswith("bn2.weight"):
            p.data.copy_(0.5 + torch.rand(p.shape, generator=g))
    files = []
    for d in job["dtypes"]:
        sd = {k: (v if not v.dtype.is_floating_point else v.to(DTYPES[d])) for k, v in model.state_dict().items()}
        path = job["prefix"] + d + ".safetensors"
        write_safetensors(path, sd)
        files.append(path)
    return {"files": files}


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    jobs = json.load(open(sys.argv[1]))
    out = []
    for j in jobs:
        r = compare(j) if j["op"] == "compare" else write(j)
        r["op"] = j["op"]
        out.append(r)
    json.dump({"results": out, "torch": torch.__version__, "safetensors_package": HAVE_ST}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
