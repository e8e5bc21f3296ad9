"""Process pools whose workers die with the process that made them.

A `kill -9` of a stage gives its pool no chance to shut down: plain ProcessPoolExecutor
workers then live on as orphans (idle, holding their models in memory) until killed by
hand. On Linux each worker asks the kernel for SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG), then checks that the parent did not die before that request.
Every process pool in the project comes from `worker_pool` (it lives in `features/`, the
lowest layer that both the extractors and the `pipeline/` stages import); `map_sessions` is
the loop every per-session stage runs on it: a progress bar, every session run, every
failure listed at once by session. `map_sessions` can also hand the sessions to a
dask.distributed cluster (`engine`: the params' `engine` section): a scheduler at an address
(workers on other machines, which need this repository on their Python path and the corpus
and media at the same paths), or a LocalCluster it starts itself; the function, its
arguments and its results are the same, so are the numbers on a LocalCluster (openSMILE's bit
for bit; what goes through BLAS to float32 rounding under load: tests/test_worker_pool.py; on
other machines, as between any two machines, BLAS thread
counts and CPU kernels can move the last bits).

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
from contextlib import contextmanager

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


ENGINES = ("local", "dask")

# A LocalCluster's workers cost no more than the local pool's processes (benchmarks/dask_engine.py):
# forked like the pool's, they start with this process's modules imported instead of importing them
# again (a second each); dask's statistical profiler, which samples every thread's stack every 10 ms,
# is off, and the event loops' tick and system monitor wake less often. Together these took 10-15 %
# of the two cores from the sessions.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.multiprocessing-method": "fork",
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}


@contextmanager
def session_executor(engine: dict | None, workers: int):
    """(submit(function, *args) -> future, as_completed(futures)) of the chosen engine:
    `local` (default), a pool of `workers` processes; `dask`, the cluster at
    `engine["scheduler"]`, or a LocalCluster of `workers` single-threaded processes."""
    kind = (engine or {}).get("kind", "local")
    if kind == "local":
        with worker_pool(workers) as pool:
            yield pool.submit, as_completed
        return
    if kind != "dask":
        raise ValueError(f"engine.kind: {kind!r} is not one of {', '.join(ENGINES)}")
    import dask
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed
    address = engine.get("scheduler")
    settings = {}
    if not address:
        # dask's nannies put OMP/MKL/OPENBLAS_NUM_THREADS=1 in their workers' environment; the local
        # pool's processes keep the BLAS default, and a different thread count sums in a different
        # order (MFCC frames then differ in the last bits)
        environ = {key: value for key, value in dask.config.get("distributed.nanny.pre-spawn-environ").items()
                   if not key.endswith("_NUM_THREADS")}
        settings = {"distributed.nanny.pre-spawn-environ": environ, **LOCAL_CLUSTER_CONFIG}
    # for the cluster's whole life: a nanny reads them again when it restarts a worker that died
    with dask.config.set(settings):
        cluster = None if address else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                    dashboard_address=None)
        try:
            with Client(address or cluster) as client:
                # pure=False: a session is computed once per call, never deduplicated by dask's hashing
                yield (lambda function, *args: client.submit(function, *args, pure=False)), dask_completed
        finally:
            if cluster is not None:
                cluster.close()


def map_sessions(function: Callable, jobs: dict[str, tuple], workers: int, desc: str,
                 each: Callable[[str, object], None] | None = None,
                 errors: tuple[type[BaseException], ...] = (Exception,), total: int | None = None,
                 engine: dict | None = None) -> dict:
    """function(*args) for every job (name -> args; a name is the session's id or says which
    session) on `engine` (session_executor: by default a pool of `workers` processes), with a
    progress bar. `each(name, result)` runs in this process as results arrive; the results
    come back in job order. Every job runs: when some raised one of `errors`, a RuntimeError
    lists each of them (`<desc>: k of n sessions failed:` then `  <name>: <message>` per
    failure, by name; n is `total`, default the jobs)."""
    results, failures = {}, {}
    with session_executor(engine, max(1, min(workers, len(jobs)))) as (submit, completed):
        futures = {submit(function, *args): name for name, args in jobs.items()}
        for future in tqdm(completed(list(futures)), total=len(futures), desc=desc, unit="session"):
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
