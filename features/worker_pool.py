"""Process pools whose workers die with the process that made them.

A `kill -9` of a stage gives its pool no chance to shut down: plain ProcessPoolExecutor
workers then live on as orphans (idle, holding their models in memory) until killed by
hand. On Linux each worker asks the kernel for SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG), then checks that the parent did not die before that request.
Every process pool in the project comes from `worker_pool` (it lives in `features/`, the
lowest layer that both the extractors and the `pipeline/` stages import); `map_sessions` is
the loop every per-session stage runs on it: a progress bar, every session run, every
failure listed at once by session.

The kernel sends the signal when the *thread* that started the worker ends; pools here
are made and used from the stage's main thread.
"""
import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

from tqdm import tqdm

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: SIGKILL this worker when its parent process ends."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # the parent died before the request above took effect
        os._exit(1)


def worker_pool(max_workers: int, mp_context=None) -> ProcessPoolExecutor:
    """A ProcessPoolExecutor whose workers die with this process."""
    context = mp_context or multiprocessing.get_context()
    if context.get_start_method() == "forkserver":
        # forkserver's workers are children of the server, not of this process
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=context, initializer=die_with_parent,
                               initargs=(os.getpid(),))


def map_sessions(function: Callable, jobs: dict[str, tuple], workers: int, desc: str,
                 each: Callable[[str, object], None] | None = None,
                 errors: tuple[type[BaseException], ...] = (Exception,), total: int | None = None) -> dict:
    """function(*args) for every job (name -> args; a name is the session's id or says which
    session) in a pool of `workers`, with a progress bar. `each(name, result)` runs in this
    process as results arrive; the results come back in job order. Every job runs: when some
    raised one of `errors`, a RuntimeError lists each of them (`<desc>: k of n sessions
    failed:` then `  <name>: <message>` per failure, by name; n is `total`, default the jobs)."""
    results, failures = {}, {}
    with worker_pool(max(1, min(workers, len(jobs)))) as pool:
        futures = {pool.submit(function, *args): name for name, args in jobs.items()}
        for future in tqdm(as_completed(futures), total=len(futures), desc=desc, unit="session"):
            name = futures[future]
            try:
                results[name] = future.result()
            except errors as err:
                failures[name] = str(err)
                continue
            if each is not None:
                each(name, results[name])
    if failures:
        listing = "\n".join(f"  {name}: {message}" for name, message in sorted(failures.items()))
        raise RuntimeError(f"{desc}: {len(failures)} of {total or len(jobs)} sessions failed:\n{listing}")
    return {name: results[name] for name in jobs}
