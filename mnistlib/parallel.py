"""Splitting a batch over the CPU's cores, for the convolutional network's layers (layers.py).

NumPy runs its matrix products on every core (its BLAS library, e.g. OpenBLAS, starts one thread
per core), but everything else on one: im2col's copy, col2im's additions and the max-pooling
passes, about half of a CNN's training step. Python threads can share that work, because NumPy
releases Python's global lock inside its loops. One catch, measured on a 2-core machine
(2026-12): after each product OpenBLAS keeps its threads spinning for a while, waiting for the
next one, and they take the cores away from ours: threads on top of a 2-thread BLAS gained
nothing. So the layers do it the other way round: `per_image` gives each thread a part of the
batch, the products included, and `one_blas_thread` makes each product use a single core
meanwhile (threadpoolctl, the library scikit-learn uses for this). Measured in three alternating
pairs of runs of 60 CNN training steps: 80, 93 and 103 ms per step against 102, 126 and 112 without
the split (0.73-0.91 of the time, median 0.78).

    per_image(fn, N)            # fn(k, images) for k = 0, 1, ... and `images` slices of range(N),
                                # on threads() threads at once, one BLAS thread per product meanwhile

threads() is the number of threads NumPy's BLAS is set to use (one per core unless OPENBLAS_NUM_THREADS
or OMP_NUM_THREADS say otherwise; at most 8). When threadpoolctl cannot limit the BLAS in use (e.g.
Apple's Accelerate), threads() is 1 and everything runs as before, on the BLAS's own threads.
"""
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

MAX_THREADS = 8  # a batch of 128 in parts of 16 images at least

_state = {"controller": None, "threads": None, "executor": None, "pid": None}


def _controller():
    """threadpoolctl's handle on the loaded BLAS libraries (made once: it looks through the loaded libraries)."""
    if _state["controller"] is None:
        import numpy  # noqa: F401  (NumPy's BLAS must be loaded before threadpoolctl looks for it)
        from threadpoolctl import ThreadpoolController
        _state["controller"] = ThreadpoolController()
    return _state["controller"]


def threads():
    """The number of parts per_image splits a batch into: NumPy's BLAS threads, or 1 if they cannot be limited."""
    if _state["threads"] is None:
        blas = [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]
        limitable = blas and all(lib.internal_api in ("openblas", "mkl", "blis") for lib in blas)
        _state["threads"] = min(max(lib.num_threads for lib in blas), MAX_THREADS) if limitable else 1
    return _state["threads"]


def one_blas_thread():
    """A context (`with one_blas_thread(): ...`) in which NumPy's matrix products use one thread each."""
    if threads() == 1:
        return contextlib.nullcontext()
    return _controller().limit(limits=1, user_api="blas")


def split(n, parts):
    """range(n) as at most `parts` consecutive slices of nearly equal length (none empty)."""
    parts = max(1, min(parts, n))
    step, extra = divmod(n, parts)
    bounds = [k * step + min(k, extra) for k in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def per_image(fn, n):
    """Call fn(k, images) for the k-th of threads() slices `images` of range(n), all at once and with one BLAS
    thread per product; return the results in order of k. fn must write only to its own images (each part
    is an independent piece of the batch)."""
    parts = split(n, threads())
    if len(parts) == 1:
        return [fn(0, parts[0])]
    if _state["pid"] != os.getpid():  # made on first use, again in a forked child (threads do not survive a fork)
        _state["executor"] = ThreadPoolExecutor(max_workers=threads() - 1, thread_name_prefix="mnistlib")
        _state["pid"] = os.getpid()
    with one_blas_thread():
        futures = [_state["executor"].submit(fn, k, part) for k, part in enumerate(parts) if k]
        first = fn(0, parts[0])
        return [first] + [future.result() for future in futures]
