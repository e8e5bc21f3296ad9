"""Independent scikit-learn fits (a classical baseline's grid: one per value, and per target for
a regressor) in a process pool, each in a process of its own, so each gets the numbers it gets
alone. (Not threads: liblinear seeds one process-wide random generator per fit, and two fits in
threads of one process draw from it in turn.) Few units fit in this process, where a pool's
start-up (about 1.5 s) would cost more than it saves.

This module imports neither torch nor the pipeline: a pool worker imports it to find `fitted`,
and with torch each worker would hold ~0.7 GB more.
"""
import os
import warnings

import numpy as np
from joblib import Parallel, delayed

POOL_FROM_CELLS = 200_000  # units x features x fits from which the fits go to a process pool


def fit_jobs() -> int:
    """Processes for the fits: the threads this process may use (a suite's queue worker sets
    OMP_NUM_THREADS to its share of the cores; of a nested list such as "4,2" the outer level),
    else the cores this process may run on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return max(1, min(int(threads), cores) if threads.isdigit() else cores)


def fitted(estimator, x: np.ndarray, y: np.ndarray):
    """The estimator fitted on (x, y), liblinear's warning of a fit stopped at max_iter silenced."""
    with warnings.catch_warnings():  # a liblinear fit that stops at max_iter is still a fit
        warnings.simplefilter("ignore")
        return estimator.fit(x, y)


def fit_all(fits: list[tuple], x: np.ndarray, jobs: int | None = None) -> list:
    """Each (estimator, y) fitted on x, in the order given."""
    jobs = fit_jobs() if jobs is None else jobs
    if jobs < 2 or len(fits) < 2 or x.size * len(fits) < POOL_FROM_CELLS:
        return [fitted(estimator, x, y) for estimator, y in fits]
    # the largest C first: liblinear's dual solver takes longest there (at C = 10 most of a grid's
    # time), and a long fit started last would leave the other workers idle
    order = sorted(range(len(fits)), key=lambda i: -getattr(fits[i][0], "C", 0))
    pooled = Parallel(n_jobs=min(jobs, len(fits)))(delayed(fitted)(fits[i][0], x, fits[i][1]) for i in order)
    done = [None] * len(fits)
    for i, fit in zip(order, pooled):
        done[i] = fit
    return done
