"""Wall time and peak memory (summed RSS of the whole process tree) of a command."""
import subprocess
import tempfile
import time

import psutil


def run_measured(cmd: list[str], cwd, env=None, poll_s: float = 0.2) -> dict:
    # output goes to a file, not a pipe: a pipe nobody reads fills up and stalls the command
    with tempfile.TemporaryFile(mode="w+") as log:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        root, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.NoSuchProcess:
                pass
            time.sleep(poll_s)
        seconds = time.perf_counter() - began
        log.seek(0)
        return {"returncode": proc.returncode, "seconds": seconds, "peak_bytes": peak, "output": log.read()}
