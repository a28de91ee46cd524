#!/usr/bin/python3
"""PyTorch reference timing for BenchmarkTrainStep* (lib/models/bench_test.go):
one train-mode forward + cross-entropy + backward of the same models, float32.

Usage: bench_torch.py [threads] [steps] [resnets]
(with "resnets": also ResNet-18-CIFAR training and ResNet-20/18 inference, batch 128)
"""
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from parity import MLP, PreActResNet, ResNet  # noqa: E402


def bench(name, model, shape, steps):
    x = torch.randn(*shape)
    y = torch.zeros(shape[0], dtype=torch.long)
    model.train()
    for _ in range(2):
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
    t, c = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
        t.append(time.perf_counter() - t0)
        c.append(time.process_time() - c0)
    report(name, shape, t, c)


def report(name, shape, t, c):
    t.sort()
    print("%-40s median %8.1f ms  min %8.1f ms  (%.0f images/s at the median, %.0f at the min)  cpu min %8.1f ms" % (
        name, 1e3 * t[len(t) // 2], 1e3 * t[0], shape[0] / t[len(t) // 2], shape[0] / t[0], 1e3 * min(c)))


def bench_infer(name, model, shape, steps):
    x = torch.randn(*shape)
    model.eval()
    with torch.no_grad():
        for _ in range(2):
            model(x)
        t, c = [], []
        for _ in range(steps):
            t0, c0 = time.perf_counter(), time.process_time()
            model(x)
            t.append(time.perf_counter() - t0)
            c.append(time.process_time() - c0)
    report(name, shape, t, c)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(threads)
    print("torch", torch.__version__, "threads", threads)
    bench("TrainStepResNet20B128", ResNet([3, 3, 3], [16, 32, 64], 3, 10, "cifar"), (128, 3, 32, 32), steps)
    if len(sys.argv) > 3 and sys.argv[3] == "resnets":
        r20 = ResNet([3, 3, 3], [16, 32, 64], 3, 10, "cifar")
        r18 = ResNet([2, 2, 2, 2], [64, 128, 256, 512], 3, 10, "cifar")
        bench("TrainStepResNet18CIFARB128", r18, (128, 3, 32, 32), steps)
        bench_infer("InferResNet20B128", r20, (128, 3, 32, 32), steps)
        bench_infer("InferResNet18CIFARB128", r18, (128, 3, 32, 32), steps)
        print("peak RSS %.0f MiB" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        return
    bench("TrainStepPreActResNet18W025B32", PreActResNet([2, 2, 2, 2], [16, 32, 64, 128], 3, 10), (32, 3, 32, 32), steps)
    bench("TrainStepMLPB128", MLP(784, [512, 512], 10, "ReLU", 0.01, True), (128, 1, 28, 28), steps)


if __name__ == "__main__":
    main()
