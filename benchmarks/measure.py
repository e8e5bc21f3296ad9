"""Wall time and peak memory (summed RSS of the whole process tree) of a command."""
import subprocess
import time

import psutil


def run_measured(cmd: list[str], cwd, env=None, poll_s: float = 0.2) -> dict:
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.NoSuchProcess:
            pass
        time.sleep(poll_s)
    output = proc.stdout.read()
    return {"returncode": proc.returncode, "seconds": time.perf_counter() - began, "peak_bytes": peak,
            "output": output}
