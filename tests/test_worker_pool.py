"""Process-pool workers die with their parent (issue 13): a `kill -9` of a stage leaves no
orphaned workers. A plain ProcessPoolExecutor is the control: its workers do survive."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
POOL = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from features.worker_pool import worker_pool
pool = worker_pool(2) if sys.argv[1] == "ours" else ProcessPoolExecutor(2)
pool.submit(os.getpid).result()
print(" ".join(map(str, pool._processes)), flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def workers_after_parent_killed(kind: str, wait_s: float) -> list[int]:
    """Starts a pool of two workers in a child process, kills that process with SIGKILL and
    returns the workers still running `wait_s` later."""
    parent = subprocess.Popen([sys.executable, "-c", POOL, kind], cwd=REPO, stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(map(alive, workers))
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + wait_s
        while any(map(alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return [pid for pid in workers if alive(pid)]
    finally:
        try:
            os.killpg(parent.pid, signal.SIGKILL)  # whatever this test started and left
        except ProcessLookupError:
            pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_die_with_their_parent():
    assert workers_after_parent_killed("ours", wait_s=10) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_control_plain_pool_workers_are_orphaned():
    assert len(workers_after_parent_killed("plain", wait_s=1)) == 2


def test_no_process_pool_is_made_without_the_helper():
    """Every pool in the project's code comes from features.worker_pool."""
    offenders = []
    for folder in ("pipeline", "features", "alignment", "synthetic", "models", "metrics", "benchmarks"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text()
            if path.name != "worker_pool.py" and ("ProcessPoolExecutor(" in text or ".Pool(" in text):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def reciprocal(x: float) -> float:
    if x == 0:
        raise ValueError("zero has no reciprocal")
    return 1 / x


def test_map_sessions_runs_every_job_and_lists_every_failure_by_name():
    from features.worker_pool import map_sessions

    seen = []
    assert map_sessions(reciprocal, {"b": (4.0,), "a": (2.0,)}, 2, "demo",
                        each=lambda name, r: seen.append((name, r))) == {"b": 0.25, "a": 0.5}  # job order
    assert sorted(seen) == [("a", 0.5), ("b", 0.25)]
    seen.clear()
    jobs = {"s3": (0.0,), "s1": (1.0,), "s2": (0.0,)}
    with pytest.raises(RuntimeError) as caught:
        map_sessions(reciprocal, jobs, 2, "demo", each=lambda name, r: seen.append(name), total=5)
    assert str(caught.value) == ("demo: 2 of 5 sessions failed:\n  s2: zero has no reciprocal\n"
                                 "  s3: zero has no reciprocal")
    assert seen == ["s1"]  # the session that worked was still handed on
    with pytest.raises(ZeroDivisionError):  # an error outside `errors` is not a session's failure
        map_sessions(divmod, {"x": (1, 0)}, 1, "demo", errors=(ValueError,))


def test_dask_local_cluster_gives_the_local_pools_features_bit_for_bit(tmp_path):
    """The features stage's per-session function (pipeline/features.py) on a 2-worker dask
    LocalCluster against the local process pool: the same eGeMAPS functionals bit for bit, the
    same MFCC frames to float32 rounding; a session that fails is named the same way."""
    import numpy as np
    import pandas as pd
    import soundfile as sf

    from features.worker_pool import map_sessions
    from pipeline.features import extract_session
    from pipeline.sessions import Session

    rate, rng = 16000, np.random.default_rng(3)
    sessions = []
    for i, pitch in enumerate((140.0, 210.0, 300.0)):
        t = np.arange(int(6.0 * rate)) / rate
        voiced = np.sin(2 * np.pi * pitch * t * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t)))
        audio = (0.3 * voiced * (np.sin(2 * np.pi * 1.5 * t) > -0.3) + 0.01 * rng.standard_normal(len(t)))
        sf.write(tmp_path / f"s{i}.wav", audio.astype(np.float32), rate, subtype="FLOAT")
        sessions.append(Session(f"s{i}", "spk", "train", 6.0, {"audio": f"s{i}.wav"}, root=tmp_path))
    starts = np.arange(0.0, 4.01, 0.5)
    windows = pd.DataFrame({"start": starts, "end": starts + 2.0})
    configs = {"egemaps": {"feature_set": "eGeMAPSv02", "sample_rate": rate},
               "mfcc": {"n_mfcc": 13, "sample_rate": rate}}
    jobs = {f"{name}/{s.id}": (name, s, windows, cfg, None) for name, cfg in configs.items() for s in sessions}
    local = map_sessions(extract_session, jobs, 2, "local")
    dask = map_sessions(extract_session, jobs, 2, "dask", engine={"kind": "dask", "scheduler": None})
    assert list(dask) == list(jobs)
    for name in jobs:
        assert local[name].arrays.keys() == dask[name].arrays.keys()
        for key in local[name].arrays:
            if name.startswith("egemaps/"):  # openSMILE: no BLAS, bit for bit
                np.testing.assert_array_equal(local[name].arrays[key], dask[name].arrays[key])
            else:  # librosa's MFCC goes through BLAS, whose float32 sums can differ in the last bits
                # from process to process under load (seen in CI: 3e-5 on frames whose largest value is
                # 200, i.e. two float32 steps there, on a delta near 0): compare to a few steps of the
                # array's largest value
                expected = local[name].arrays[key]
                np.testing.assert_allclose(dask[name].arrays[key], expected, rtol=1e-5,
                                           atol=8 * float(np.spacing(np.abs(expected).max())))

    broken = Session("broken", "spk", "train", 6.0, {"audio": "missing.wav"}, root=tmp_path)
    with pytest.raises(RuntimeError, match=r"dask: 1 of 2 sessions failed:\n  broken: .*missing\.wav"):
        map_sessions(extract_session, {"s0": ("mfcc", sessions[0], windows, configs["mfcc"], None),
                                       "broken": ("mfcc", broken, windows, configs["mfcc"], None)},
                     2, "dask", engine={"kind": "dask"})
