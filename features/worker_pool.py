"""Process pools whose workers die with the process that made them.

A `kill -9` of a stage gives its pool no chance to shut down: plain ProcessPoolExecutor
workers then live on as orphans (idle, holding their models in memory) until killed by
hand. On Linux each worker asks the kernel for SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG), then checks that the parent did not die before that request.
Every process pool in the project comes from `worker_pool` (it lives in `features/`, the
lowest layer that both the extractors and the `pipeline/` stages import).

The kernel sends the signal when the *thread* that started the worker ends; pools here
are made and used from the stage's main thread.
"""
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

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
