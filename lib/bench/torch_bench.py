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

MODELS = (
    "mlp-ae", "conv-dae", "cnn", "csae-l", "fsae-classifier",
    "csae-c", "csae-encoder", "basenet", "cvae", "pool-cae-random", "pool-cae-even", "pool-cae-switches", "concrete",
)
CONV_DAE_NOISE_FACTOR = 0.2   # lib/bench/specs.ts CONV_DAE_NOISE_FACTOR
CSAE_NOISE_FACTOR = 0.04      # lib/bench/specs.ts CSAE_NOISE_FACTOR
LEAKY_RELU_ALPHA = 0.3        # lib/models/classifiers.ts fsaeClassifier
CSAE_C_WIDTHS = (16, 32, 64, 64)           # lib/bench/specs.ts CSAE_C_WIDTHS (Table 2)
CSAE_C_LOSS_WEIGHTS = (1.0, 4.0, 0.08)     # lib/bench/specs.ts CSAE_C_LOSS_WEIGHTS: Loss1, Loss2, Loss3
CONCRETE_ABSTRACT_FILTERS = (16, 32, 32)   # lib/bench/specs.ts CONCRETE_ABSTRACT_FILTERS

# The notebook's optimiser of each model (lib/bench/specs.ts `training`); the others: Adam at --lr.
#   ("sgd", lr, momentum, weight_decay) or ("adam", lr)
CSAE_C_OPTIMIZER = ("sgd", 0.1, 0.9, 5e-4)
OPTIMIZERS = {
    "csae-c": CSAE_C_OPTIMIZER, "csae-encoder": CSAE_C_OPTIMIZER, "basenet": CSAE_C_OPTIMIZER,
    "cvae": ("adam", 1e-3), "concrete": ("adam", 1e-3),
    "pool-cae-random": ("adam", 2e-3), "pool-cae-even": ("adam", 2e-3), "pool-cae-switches": ("adam", 2e-3),
}


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


def cnn(leaky, filters=(32, 64, 64)):
    act = (lambda: nn.LeakyReLU(LEAKY_RELU_ALPHA)) if leaky else nn.ReLU
    f1, f2, f3 = filters
    return nn.Sequential(
        nn.Conv2d(1, f1, 3), act(), nn.Conv2d(f1, f2, 3), act(), nn.Conv2d(f2, f3, 3), act(),
        nn.Flatten(), nn.Linear(22 * 22 * f3, 128), act(), nn.Linear(128, 10),
    )


def csae_trunk(widths):
    """CSAE-C's stem and three residual blocks (lib/pedcc/models.ts convTrunk): 32×32 → 4×4×c3."""
    c0, c1, c2, c3 = widths

    class Residual(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)
            self.shortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=True)

        def forward(self, x):
            y = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))

    return nn.Sequential(
        nn.Conv2d(1, c0, 3, 1, 1, bias=False), nn.BatchNorm2d(c0, eps=1e-5, momentum=0.1), nn.ReLU(),
        Residual(c0, c1, 2), Residual(c1, c2, 2), Residual(c2, c3, 2),
    )


def csae_decoder(widths, latent, side=32):
    """CSAE-C's decoder (lib/pedcc/models.ts buildDecoder): dense → 4×4×c3, three deconvolution blocks, 1×1 conv."""
    c0, c1, _, c3 = widths

    def block(cin, cout):
        half = max(1, (cin + 1) // 2)
        return [nn.ConvTranspose2d(cin, half, 2, 2), nn.Conv2d(half, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1), nn.ReLU()]

    s = side // 8
    return nn.Sequential(
        nn.Linear(latent, s * s * c3), nn.Unflatten(1, (c3, s, s)),
        *block(c3, c3), *block(c3, c1), *block(c1, c0), nn.Conv2d(c0, 1, 1),
    )


def pad32(x):
    """28×28 → 32×32 with 2 zero pixels on every side (lib/data/mnist.ts pad32)."""
    return F.pad(x, (2, 2, 2, 2))


def random_centroids(generator, d=40):
    c = torch.randn(10, d, generator=generator)
    return c / c.norm(dim=1, keepdim=True) * math.sqrt(d)


LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


def unpool(kind, pooled, indices):
    """Undo a 2×2 max pooling as lib/stacked/unpool.ts: switches (argmax), even spread (v/4) or one random position per window."""
    if kind == "even":
        return F.interpolate(pooled, scale_factor=2, mode="nearest") * 0.25
    if kind == "random":
        n, c, h, w = pooled.shape
        r = torch.randint(0, 4, pooled.shape)
        rows = torch.arange(h).view(1, 1, h, 1) * 2 + r // 2
        cols = torch.arange(w).view(1, 1, 1, w) * 2 + r % 2
        indices = rows * (2 * w) + cols
    return F.max_unpool2d(pooled, indices, 2)


class PoolingCae(nn.Module):
    """Notebook 5's conv AE (lib/stacked/convae.ts): tanh convs 16/8 with 2×2 max pooling, mirrored decoder, sigmoid output."""

    def __init__(self, kind, f1=16, f2=8):
        super().__init__()
        self.kind = kind
        self.conv1 = nn.Conv2d(1, f1, 3, padding=1)
        self.conv2 = nn.Conv2d(f1, f2, 3, padding=1)
        self.conv3 = nn.Conv2d(f2, f1, 3, padding=1)
        self.conv4 = nn.Conv2d(f1, 1, 3, padding=1)

    def forward(self, x):
        p1, i1 = F.max_pool2d(torch.tanh(self.conv1(x)), 2, return_indices=True)
        p2, i2 = F.max_pool2d(torch.tanh(self.conv2(p1)), 2, return_indices=True)
        u2 = unpool(self.kind, p2, i2)
        u1 = unpool(self.kind, torch.tanh(self.conv3(u2)), i1)
        return torch.sigmoid(self.conv4(u1))


class InverseLeakyRelu(nn.Module):
    def forward(self, y):
        return torch.minimum(y, y / LEAKY_RELU_ALPHA)


class SoftmaxInverse(nn.Module):
    """Paper 1's eq. (4) as lib/inverse/functions.ts: ln(y + ε) − ln(1 − y + ε), ε = 1e-7."""

    def forward(self, y):
        return torch.log(y + 1e-7) - torch.log(1 - y + 1e-7)


def concrete_network(filters):
    """Paper 1's plain concrete network (lib/inverse/concrete.ts) mirroring the abstract net with these filters."""
    f1, f2, f3 = filters
    return nn.Sequential(
        SoftmaxInverse(), nn.Linear(10, 128),
        InverseLeakyRelu(), nn.Linear(128, 22 * 22 * f3), nn.Unflatten(1, (f3, 22, 22)),
        InverseLeakyRelu(), nn.ConvTranspose2d(f3, f2, 3),
        InverseLeakyRelu(), nn.ConvTranspose2d(f2, f1, 3),
        InverseLeakyRelu(), nn.ConvTranspose2d(f1, 1, 3),
    )


class Cvae(nn.Module):
    """lib/models/cvae.ts: [x, y] → 400 ReLU → μ, log σ² (40); [z, y] → 400 ReLU → 784 logits."""

    def __init__(self, d_in=784, hidden=400, latent=40, classes=10):
        super().__init__()
        self.enc = nn.Linear(d_in + classes, hidden)
        self.mean = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.dec = nn.Linear(latent + classes, hidden)
        self.out = nn.Linear(hidden, d_in)

    def loss(self, x, y):
        h = F.relu(self.enc(torch.cat([x, y], 1)))
        mu, log_var = self.mean(h), self.log_var(h)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        logits = self.out(F.relu(self.dec(torch.cat([z, y], 1))))
        n = x.shape[0]
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum() / n
        return reconstruction + kl


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
    if model_id in ("csae-c", "csae-encoder", "basenet"):
        trunk = csae_trunk(CSAE_C_WIDTHS)
        c3 = CSAE_C_WIDTHS[3]
        xs = pad32(x)
        if model_id == "basenet":
            head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c3, 10))
            data = {"xs": xs, "labels": y}
            return [trunk, head], data, lambda b: F.cross_entropy(head(trunk(b["xs"])), b["labels"])
        to_code = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * c3, 40))
        centroids = random_centroids(generator)
        data = {"xs": xs, "labels": y}
        if model_id == "csae-encoder":
            return [trunk, to_code], data, lambda b: F.mse_loss(to_code(trunk(b["xs"])), centroids[b["labels"]])
        decoder = csae_decoder(CSAE_C_WIDTHS, 40)
        noise_std = math.sqrt(40) * CSAE_NOISE_FACTOR
        w1, w2, w3 = CSAE_C_LOSS_WEIGHTS

        def csae_c_loss(b):
            z = to_code(trunk(b["xs"]))
            recon = decoder(z + noise_std * torch.randn_like(z))
            edges = F.conv2d(recon - b["xs"], LAPLACIAN, padding=1)
            return w1 * F.mse_loss(z, centroids[b["labels"]]) + w2 * F.mse_loss(recon, b["xs"]) + w3 * edges.pow(2).mean()

        return [trunk, to_code, decoder], data, csae_c_loss
    if model_id == "cvae":
        net = Cvae()
        data = {"xs": x.view(n, 784), "oneHot": F.one_hot(y, 10).to(torch.float32)}
        return [net], data, lambda b: net.loss(b["xs"], b["oneHot"])
    if model_id.startswith("pool-cae-"):
        net = PoolingCae(model_id[len("pool-cae-"):])
        data = {"xs": x}
        return [net], data, lambda b: F.mse_loss(net(b["xs"]), b["xs"])
    if model_id == "concrete":
        abstract = cnn(leaky=True, filters=CONCRETE_ABSTRACT_FILTERS)
        with torch.no_grad():
            top = torch.cat([F.softmax(abstract(x[i:i + 256]), 1) for i in range(0, n, 256)])
        net = concrete_network(CONCRETE_ABSTRACT_FILTERS)
        data = {"top": top, "target": x}
        return [net], data, lambda b: F.mse_loss(net(b["top"]), b["target"])
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


def count_params(modules):
    """Weights as our side counts them (tfjs countParams): parameters plus batch norm's running mean and variance."""
    params = sum(p.numel() for m in modules for p in m.parameters())
    stats = sum(b.numel() for m in modules for name, b in m.named_buffers() if name.endswith(("running_mean", "running_var")))
    return params + stats


def make_optimizer(model_id, params, lr):
    """The notebook's optimiser (OPTIMIZERS), else Adam(lr); and its description."""
    spec = OPTIMIZERS.get(model_id, ("adam", lr))
    if spec[0] == "sgd":
        _, rate, momentum, decay = spec
        return torch.optim.SGD(params, lr=rate, momentum=momentum, weight_decay=decay), f"SGD momentum {momentum:g}, lr {rate:g}, weight decay {decay:g}"
    return torch.optim.Adam(params, lr=spec[1]), f"Adam {spec[1]:g}"


def matmul_peak(sizes, min_seconds):
    """GFLOP/s of float32 torch.mm on two size×size matrices, for each size repeated for min_seconds / len(sizes) after one
    warm-up: the fastest product of the best size (and that size's mean rate), as lib/bench/run.ts measurePeak."""
    best = None
    for size in sizes:
        a = torch.rand(size, size)
        b = torch.rand(size, size)
        torch.mm(a, b)
        reps = 0
        fastest = float("inf")
        t0 = time.perf_counter()
        while True:
            t = time.perf_counter()
            torch.mm(a, b)
            fastest = min(fastest, time.perf_counter() - t)
            reps += 1
            if time.perf_counter() - t0 >= min_seconds / len(sizes):
                break
        seconds = time.perf_counter() - t0
        flops = 2 * size ** 3
        row = {"size": size, "reps": reps, "seconds": seconds, "gflopsPerSecond": flops / fastest / 1e9, "meanGflopsPerSecond": flops * reps / seconds / 1e9,
               "threads": torch.get_num_threads()}
        if best is None or row["gflopsPerSecond"] > best["gflopsPerSecond"]:
            best = row
    return best


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
    parser.add_argument("--peak", metavar="SIZES", help="only time torch.mm on SIZE×SIZE matrices for each comma-separated SIZE (GFLOP/s of the best)")
    parser.add_argument("--params-only", metavar="MODELS", help="only build these models (comma-separated) and print their weight counts")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    if args.info:
        print(json.dumps({"torchVersion": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_info()}))
        return
    if args.peak:
        print(json.dumps(matmul_peak([int(v) for v in args.peak.split(",")], args.min_seconds)))
        return
    if args.params_only:
        counts = {}
        for model_id in args.params_only.split(","):
            torch.manual_seed(args.seed)
            generator = torch.Generator().manual_seed(args.seed)
            modules, _, _ = prepare(model_id, torch.rand(8, 1, 28, 28), torch.arange(8) % 10, generator)
            counts[model_id] = count_params(modules)
        print(json.dumps({"params": counts}))
        return
    if not args.model or not args.images or not args.labels:
        parser.error("--model, --images and --labels are required (or --info, --peak, --params-only)")

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    x, y = load_mnist(args.images, args.labels, args.samples)
    modules, data, loss_fn = prepare(args.model, x, y, generator)
    params = [p for m in modules for p in m.parameters()]
    for m in modules:
        m.train()
    optimizer, optimizer_text = make_optimizer(args.model, params, args.lr)
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
    if not math.isfinite(loss):
        # JSON has no NaN: the rate is still measured, the divergence is said in a note.
        notes.append(f"the loss diverged ({loss}) at batch {args.batch}; the rate is still the training step's")
        loss = None
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
        "params": count_params(modules),
        "optimizer": optimizer_text,
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
