#!/usr/bin/env python3
"""PyTorch side of `npm run bench -- --compare-torch` (optional; nothing else in the project needs Python).

Trains one of the bench's reference models in PyTorch exactly as lib/bench/specs.ts does in
TensorFlow.js: same layer sizes, activations, losses, Adam(lr), batch size, sample count and
MNIST images (read from the same IDX files with the standard library, no numpy), after the same
number of warm-up steps; prints one JSON object on stdout.

    python3 lib/bench/torch_bench.py --model mlp-ae --samples 12000 --batch 128 --threads 2 \
        --images .../train-images-idx3-ubyte --labels .../train-labels-idx1-ubyte
    python3 lib/bench/torch_bench.py --info     # torch version, BLAS and threads only
"""
import argparse
import gzip
import json
import math
import os
import re
import resource
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = ("mlp-ae", "conv-dae", "cnn", "csae-l", "fsae-classifier")
CONV_DAE_NOISE_FACTOR = 0.2   # lib/bench/specs.ts CONV_DAE_NOISE_FACTOR
CSAE_NOISE_FACTOR = 0.04      # lib/bench/specs.ts CSAE_NOISE_FACTOR
LEAKY_RELU_ALPHA = 0.3        # lib/models/classifiers.ts fsaeClassifier


def read_idx(path):
    """An IDX file as (dims, payload bytes), gzipped or not."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def load_mnist(images_path, labels_path, n):
    """The first n images as float32 [n, 1, 28, 28] in [0, 1] and int64 labels [n]."""
    dims, pixels = read_idx(images_path)
    ldims, labels = read_idx(labels_path)
    if n > dims[0] or n > ldims[0]:
        raise ValueError(f"asked for {n} samples, the files hold {dims[0]}")
    size = dims[1] * dims[2]
    x = torch.frombuffer(bytearray(pixels[: n * size]), dtype=torch.uint8).to(torch.float32).div_(255.0)
    y = torch.frombuffer(bytearray(labels[:n]), dtype=torch.uint8).to(torch.int64)
    return x.view(n, 1, dims[1], dims[2]), y


def mlp_autoencoder():
    encoder = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 40))
    decoder = nn.Sequential(nn.Linear(40, 400), nn.ReLU(), nn.Linear(400, 784), nn.Sigmoid())
    return encoder, decoder


def conv_dae():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.ConvTranspose2d(8, 8, 3, padding=1), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.ConvTranspose2d(8, 1, 3, padding=1), nn.Sigmoid(),
    )


def cnn(leaky):
    act = (lambda: nn.LeakyReLU(LEAKY_RELU_ALPHA)) if leaky else nn.ReLU
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), act(), nn.Conv2d(32, 64, 3), act(), nn.Conv2d(64, 64, 3), act(),
        nn.Flatten(), nn.Linear(22 * 22 * 64, 128), act(), nn.Linear(128, 10),
    )


def prepare(model_id, x, y, generator):
    """(modules, data dict, loss(batch) -> scalar) for one model."""
    n = x.shape[0]
    if model_id == "mlp-ae":
        enc, dec = mlp_autoencoder()
        data = {"xs": x.view(n, 784)}
        return [enc, dec], data, lambda b: F.mse_loss(dec(enc(b["xs"])), b["xs"])
    if model_id == "conv-dae":
        net = conv_dae()
        noisy = (x + CONV_DAE_NOISE_FACTOR * torch.randn(x.shape, generator=generator)).clamp_(0.0, 1.0)
        data = {"noisy": noisy, "clean": x}
        return [net], data, lambda b: F.mse_loss(net(b["noisy"]), b["clean"])
    if model_id in ("cnn", "fsae-classifier"):
        net = cnn(leaky=model_id == "fsae-classifier")
        data = {"xs": x, "labels": y}
        # log-softmax + NLL: the same loss as softmax + categorical cross-entropy on our side
        return [net], data, lambda b: F.cross_entropy(net(b["xs"]), b["labels"])
    if model_id == "csae-l":
        enc, dec = mlp_autoencoder()
        d = 40
        centroids = torch.randn(10, d, generator=generator)
        centroids = centroids / centroids.norm(dim=1, keepdim=True) * math.sqrt(d)
        laplacian = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
        noise_std = math.sqrt(d) * CSAE_NOISE_FACTOR
        data = {"xs": x.view(n, 784), "labels": y}

        def loss(b):
            z = enc(b["xs"])
            recon = dec(z + noise_std * torch.randn_like(z))
            loss1 = F.mse_loss(z, centroids[b["labels"]])
            loss2 = F.mse_loss(recon, b["xs"])
            edges = F.conv2d((recon - b["xs"]).view(-1, 1, 28, 28), laplacian, padding=1)
            loss3 = edges.pow(2).mean()
            return loss1 + loss2 + loss3

        return [enc, dec], data, loss
    raise ValueError(f"unknown model {model_id!r}; expected one of {', '.join(MODELS)}")


def train_epoch(data, loss_fn, optimizer, batch, generator):
    """One shuffled pass, as lib/train's trainModel: one gather per epoch, then slices; the loss sum read once at the end."""
    n = next(iter(data.values())).shape[0]
    order = torch.randperm(n, generator=generator)
    shuffled = {k: v[order] for k, v in data.items()}
    total = torch.zeros(())
    for start in range(0, n, batch):
        b = {k: v[start:start + batch] for k, v in shuffled.items()}
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(b)
        loss.backward()
        optimizer.step()
        total += loss.detach() * b[next(iter(b))].shape[0]
    return total.item() / n


def blas_info():
    """Which BLAS torch was built for and which shared libraries are actually mapped."""
    config = torch.__config__.show()
    build = dict(re.findall(r"\b(BLAS_INFO|LAPACK_INFO|USE_MKLDNN|USE_OPENMP)=([^,\s]+)", config))
    dnn = [line.strip(" -") for line in config.splitlines() if "MKL-DNN" in line or "oneDNN" in line]
    mapped = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path).lower()
                if any(tag in name for tag in ("blas", "lapack", "mkl", "gomp", "omp", "dnnl")) and path.startswith("/"):
                    mapped.add(path)
    except OSError:
        pass
    libraries = sorted({f"{p} -> {os.path.realpath(p)}" if os.path.realpath(p) != p else p for p in mapped})
    return {
        "build": build,
        "dnn": dnn,
        "mkldnnAvailable": bool(torch.backends.mkldnn.is_available()),
        "mappedLibraries": libraries,
        "parallel": [line.strip() for line in torch.__config__.parallel_info().splitlines() if line.strip()][:6],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=MODELS)
    parser.add_argument("--samples", type=int, default=12000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--min-seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images")
    parser.add_argument("--labels")
    parser.add_argument("--info", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    if args.info:
        print(json.dumps({"torchVersion": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_info()}))
        return
    if not args.model or not args.images or not args.labels:
        parser.error("--model, --images and --labels are required (or --info)")

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    x, y = load_mnist(args.images, args.labels, args.samples)
    modules, data, loss_fn = prepare(args.model, x, y, generator)
    params = [p for m in modules for p in m.parameters()]
    for m in modules:
        m.train()
    optimizer = torch.optim.Adam(params, lr=args.lr)
    notes = []

    # Warm-up: single batches on the same optimiser, as the TypeScript side.
    warm_start = time.perf_counter()
    last_step = float("nan")
    warmed = 0
    rows = min(args.batch, args.samples)
    for step in range(args.warmup):
        head = {k: v[:rows] for k, v in data.items()}
        t0 = time.perf_counter()
        train_epoch(head, loss_fn, optimizer, args.batch, generator)
        last_step = time.perf_counter() - t0
        warmed += 1
        if args.max_seconds > 0 and warmed >= 2 and time.perf_counter() - warm_start > args.max_seconds / 3:
            break
    warmup_seconds = time.perf_counter() - warm_start

    samples = args.samples
    if args.max_seconds > 0 and warmed > 0 and last_step > 0:
        rate = rows / last_step
        if samples / rate > args.max_seconds:
            capped = max(args.batch, int(rate * args.max_seconds / args.batch) * args.batch)
            if capped < samples:
                notes.append(f"{samples:,} samples capped at {capped:,} (≈ {args.max_seconds:g} s at the warm-up rate of {rate:.1f} samples/s; --max-seconds)")
                samples = capped
                data = {k: v[:samples] for k, v in data.items()}

    # The timed epoch is repeated until --min-seconds have passed (sustained clock, as our side).
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    epochs = 0
    while True:
        loss = train_epoch(data, loss_fn, optimizer, args.batch, generator)
        epochs += 1
        if time.perf_counter() - t0 >= args.min_seconds:
            break
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - cpu0
    print(json.dumps({
        "model": args.model,
        "samples": samples,
        "epochs": epochs,
        "samplesRequested": args.samples,
        "batchSize": args.batch,
        "seconds": seconds,
        "cpuSeconds": cpu_seconds,
        "cpuUtilization": cpu_seconds / seconds,
        "samplesPerSecond": samples * epochs / seconds,
        "params": sum(p.numel() for p in params),
        "threads": torch.get_num_threads(),
        "warmupSteps": warmed,
        "warmupSeconds": warmup_seconds,
        "loss": loss,
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "torchVersion": torch.__version__,
        "python": sys.executable,
        "notes": notes,
    }))


if __name__ == "__main__":
    main()
