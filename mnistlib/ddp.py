"""Notebook 09's CNN trained data-parallel with PyTorch's DistributedDataParallel (DDP), on CPUs.

    torchrun --standalone --nproc-per-node 2 -m mnistlib.ddp --epochs 3 --out results.json
    torchrun --standalone --nproc-per-node 2 -m mnistlib.ddp --train-size 2000 --epochs 1 --channels 4 8 --hidden 16
    python -m mnistlib.ddp --epochs 1                   # no torchrun: a world of one process, the same code

What happens. torchrun starts one process per "rank"; each builds the same network (mnistlib's
CNN and its initial weights, mnistlib.CNN(channels, kernel, hidden, rng=default_rng(seed)), copied
into torch by mnistlib.torch_bridge.to_torch, so a run starts where notebook 09's does) and wraps it in
DistributedDataParallel. A DistributedSampler deals each epoch's shuffled order (seeded by --seed and
the epoch) out to the ranks, B / world_size examples per rank and step, so the global batch is the B
of a single process (when N is not a multiple of the number of ranks, the sampler repeats a few
examples to even the shares). Each rank computes the gradient of its share; during backward DDP all-reduces
(averages) the gradients over the ranks (backend "gloo" on CPUs), so every rank takes the same Adam
step and the replicas stay identical: one step on the global batch of B, as a single process would
take it (up to rounding: a 1-process run with the same settings follows the same trajectory). Each
process uses ONE thread (torch.set_num_threads(1)): two processes on two cores. Rank 0 prints a line
per epoch (epoch, mean training loss over all ranks, seconds), evaluates the test accuracy at the
end and writes --out (JSON: world_size, epochs, train_size, seconds_per_epoch, test_accuracy,
final_loss, ...).

On several machines, every machine runs the same command with its own --node-rank, and one
machine's address as the rendezvous point; the script stays unchanged:

    torchrun --nnodes 2 --node-rank 0 --nproc-per-node 2 --rdzv-backend c10d \\
             --rdzv-endpoint HOST0:29500 -m mnistlib.ddp --epochs 3      # on HOST0; --node-rank 1 on the other
    (or the static form: --nnodes 2 --node-rank R --master-addr HOST0 --master-port 29500)

On GPUs, one process per GPU (--nproc-per-node = the number of GPUs) and `--backend nccl`: each
process then runs on cuda:LOCAL_RANK and DDP gets device_ids=[local_rank] (the code below does this).
Nothing else changes: DDP, the sampler and the global batch arithmetic are the same.
"""
import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m mnistlib.ddp", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--train-size", type=int, default=60_000, help="train on the first N training examples")
    p.add_argument("--batch-size", type=int, default=128, help="the GLOBAL batch: each of W processes takes B / W")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    p.add_argument("--seed", type=int, default=0, help="initial weights and the sampler's shuffling")
    p.add_argument("--channels", type=int, nargs=2, default=[32, 64], metavar=("C1", "C2"))
    p.add_argument("--kernel", type=int, default=5)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process (default 1)")
    p.add_argument("--backend", choices=["gloo", "nccl"], default="gloo", help="nccl: one GPU per process")
    p.add_argument("--dataset", default="mnist", help="mnist or fashion-mnist")
    p.add_argument("--data-dir", help="the folder of the four files (default: mnistlib's search order)")
    p.add_argument("--out", type=Path, help="write the result as JSON here (rank 0)")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.train_size < 1 or args.batch_size < 1:
        p.error("--epochs, --train-size and --batch-size must be positive")
    return args


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(backend):
    """Join the process group torchrun describes (RANK, WORLD_SIZE, MASTER_ADDR, ... in the environment).

    Started without torchrun (no RANK), this process makes a world of one on 127.0.0.1, so the same
    code runs. Returns (rank, world_size, local_rank).
    """
    import torch.distributed as dist

    if "RANK" not in os.environ:
        os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                          MASTER_PORT=str(_free_port()))
    dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0"))


def load_data(args, rank):
    """(X_train (n, 784), y_train (n,), X_test (10000, 784), y_test (10000,)): float in [0, 1] and int64.

    Rank 0 loads first (and downloads when no folder has the files); the others wait for it, then read.
    """
    import torch.distributed as dist

    from . import load_dataset, normalize

    def load():
        return load_dataset(args.dataset, args.data_dir, progress=False)

    if rank == 0:
        data = load()
    dist.barrier()
    if rank != 0:
        data = load()
    dtype = np.float64 if args.dtype == "float64" else np.float32
    X = normalize(data.X_train[:args.train_size]).astype(dtype)
    X_test = normalize(data.X_test).astype(dtype)
    return X, data.y_train[:args.train_size].astype(np.int64), X_test, data.y_test.astype(np.int64)


def main(argv=None):
    args = parse_args(argv)
    from .torch_bridge import require_torch

    try:
        torch = require_torch()
    except ImportError as error:
        raise SystemExit(f"error: {error}") from None
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import BatchSampler, DataLoader, DistributedSampler, TensorDataset

    from .layers import CNN
    from .torch_bridge import to_torch

    torch.set_num_threads(args.threads)
    rank, world, local_rank = setup(args.backend)
    try:
        if args.batch_size % world:
            raise SystemExit(f"--batch-size {args.batch_size} must be a multiple of the {world} processes")
        per_process = args.batch_size // world
        if args.backend == "nccl":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        else:
            device = torch.device("cpu")

        X, y, X_test, y_test = load_data(args, rank)
        dtype = np.float64 if args.dtype == "float64" else np.float32
        cnn = CNN(tuple(args.channels), args.kernel, args.hidden, rng=np.random.default_rng(args.seed), dtype=dtype)
        model = to_torch(cnn).to(device)  # every rank the same weights (DDP also broadcasts rank 0's)
        ddp = DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)
        optimizer = torch.optim.Adam(ddp.parameters(), lr=args.lr)

        train = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
        sampler = DistributedSampler(train, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
        # a batch sampler over the rank's share: one indexing per batch (TensorDataset takes a list of rows)
        loader = DataLoader(train, sampler=BatchSampler(sampler, per_process, drop_last=False), batch_size=None)

        if rank == 0:
            print(f"DDP: {world} process(es), backend {args.backend}, {args.threads} thread(s) each; CNN "
                  f"{args.channels[0]}-{args.channels[1]} kernel {args.kernel} hidden {args.hidden}, {args.dtype}; "
                  f"{len(X)} examples, global batch {args.batch_size} = {world} x {per_process}; "
                  f"torch {torch.__version__}", flush=True)
        seconds, losses, steps = [], [], 0
        for epoch in range(args.epochs):
            sampler.set_epoch(epoch)  # a new order each epoch, the same on every rank
            ddp.train()
            start = time.perf_counter()
            # (sum of loss * examples, examples) on this rank; on the device: no synchronisation per step
            loss_sum = torch.zeros(2, dtype=torch.float64, device=device)
            for Xb, yb in loader:
                Xb, yb = Xb.to(device), yb.to(device)
                optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(ddp(Xb), yb)
                loss.backward()  # DDP averages the gradients over the ranks here
                optimizer.step()
                loss_sum[0] += loss.detach().double() * len(yb)
                loss_sum[1] += len(yb)
                steps += 1
            seconds.append(time.perf_counter() - start)
            dist.all_reduce(loss_sum)  # the epoch's mean loss over every rank's examples (a report only)
            losses.append(float(loss_sum[0] / loss_sum[1]))
            if rank == 0:
                print(f"epoch {epoch + 1}/{args.epochs}  loss {losses[-1]:.4f}  {seconds[-1]:.1f} s", flush=True)

        if rank == 0:
            model.eval()
            with torch.no_grad():
                Xt = torch.from_numpy(X_test)
                predicted = torch.cat([model(Xt[i:i + 1000].to(device)).argmax(dim=1).cpu()
                                       for i in range(0, len(Xt), 1000)])
            accuracy = float((predicted.numpy() == y_test).mean())
            print(f"test accuracy {accuracy:.2%} after {args.epochs} epoch(s), "
                  f"{np.median(seconds):.1f} s per epoch (median)", flush=True)
            result = {"world_size": world, "backend": args.backend, "threads_per_process": args.threads,
                      "epochs": args.epochs, "train_size": len(X), "batch_size": args.batch_size,
                      "per_process_batch": per_process, "steps": steps, "dtype": args.dtype,
                      "channels": list(args.channels), "kernel": args.kernel, "hidden": args.hidden,
                      "seed": args.seed, "lr": args.lr, "seconds_per_epoch": seconds, "losses": losses,
                      "final_loss": losses[-1], "test_accuracy": accuracy, "torch": torch.__version__}
            if args.out is not None:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        dist.barrier()
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
