#!/usr/bin/env python3
"""PyTorch side of the ResNet-20 NTK benchmark (TestNTKBenchResNet20).

Usage: ntk_bench.py n [threads]

threads sets torch.set_num_threads (and interop threads); give the thread
count of the repdyn run it is compared with, and compare with PyTorch's best
of 1 and 2 threads (bench/ntk_compare.sh does both).

Eval-mode empirical NTK K = J J^T of the CIFAR ResNet-20 (He et al., option-B
projection shortcuts, as lib/models) with 10 outputs on n random 3x32x32
inputs, float64, by the per-sample backward approach (torch 1.13 has no
torch.func; functorch's jacrev/vmap is used instead when importable and
REPDYN_TORCH_VMAP=1): one forward per example and one
torch.autograd.grad per output, rows stored in J (N x D), K by one GEMM.
Prints time and peak RSS.
"""
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from parity import CIFARResNet  # noqa: E402

torch.set_default_dtype(torch.float64)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    if len(sys.argv) > 2:
        torch.set_num_threads(int(sys.argv[2]))
        try:
            torch.set_num_interop_threads(int(sys.argv[2]))
        except RuntimeError:
            pass
    torch.manual_seed(0)
    model = CIFARResNet({"in": 3, "depth": 20, "widths": [16, 32, 64], "classes": 10}).eval()
    params = [p for p in model.parameters()]
    D = sum(p.numel() for p in params)
    x = torch.randn(n, 3, 32, 32)
    N = n * 10
    t0 = time.time()
    J = torch.empty(N, D)
    for a in range(n):
        out = model(x[a:a + 1])[0]
        for j in range(10):
            g = torch.autograd.grad(out[j], params, retain_graph=j < 9)
            J[a * 10 + j] = torch.cat([t.reshape(-1) for t in g])
    t1 = time.time()
    K = J @ J.T
    t2 = time.time()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print("torch %s per-sample backward: ResNet-20 NTK n=%d N=%d D=%d: %.1f s (J %.1f s, K %.1f s), peak RSS %.1f MiB, threads %d, trace %.6e"
          % (torch.__version__, n, N, D, t2 - t0, t1 - t0, t2 - t1, rss / 2**20, torch.get_num_threads(), K.trace().item()))
    print(json.dumps({"bench": "ntk-torch", "torch": torch.__version__, "n": n, "rows": N, "params": D,
                      "threads": torch.get_num_threads(), "s": t2 - t0, "j_s": t1 - t0, "k_s": t2 - t1,
                      "peak_rss_mb": rss / 2**20, "trace": K.trace().item()}))


if __name__ == "__main__":
    main()
