"""Wall time and peak memory (summed RSS of the whole process tree) of a command, and when each
of its output lines that match a pattern appeared (e.g. DVC's "Running stage" lines); the best
wall time of a call repeated in this process."""
import re
import subprocess
import tempfile
import time

import psutil


def best_seconds(run, repeats: int) -> float:
    """The shortest of `repeats` timed calls of `run()`."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def run_measured(cmd: list[str], cwd, env=None, poll_s: float = 0.2, stamp: re.Pattern | None = None) -> dict:
    """`stamped`: (seconds since the start, the pattern's first group) per matching output line,
    to within `poll_s`."""
    # output goes to a file, not a pipe: a pipe nobody reads fills up and stalls the command. It is
    # read back as bytes through a file description of its own (the command's writes move the other
    # one's offset), and only whole lines are decoded: a poll may end inside a line or a character
    with tempfile.NamedTemporaryFile(mode="w+") as log, open(log.name, "rb") as reader:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        root, peak, stamped, partial = psutil.Process(proc.pid), 0, [], b""

        def read_new_lines(now: float, final: bool = False) -> None:
            nonlocal partial
            *lines, partial = (partial + reader.read()).split(b"\n")
            if final:
                lines, partial = [*lines, partial], b""
            stamped.extend((now, m.group(1)) for line in lines
                           if (m := stamp.search(line.decode("utf-8", errors="replace"))))

        try:
            while proc.poll() is None:
                try:
                    tree = [root, *root.children(recursive=True)]
                    peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
                except psutil.NoSuchProcess:
                    pass
                if stamp:
                    read_new_lines(time.perf_counter() - began)
                time.sleep(poll_s)
        finally:
            if proc.poll() is None:  # the measurement failed: the command does not outlive it
                proc.kill()
                proc.wait()
        seconds = time.perf_counter() - began
        if stamp:
            read_new_lines(seconds, final=True)
        log.seek(0)
        return {"returncode": proc.returncode, "seconds": seconds, "peak_bytes": peak, "output": log.read(),
                "stamped": stamped}
