"""Wall time and peak memory (summed RSS of the whole process tree) of a command, and when each
of its output lines that match a pattern appeared (e.g. DVC's "Running stage" lines)."""
import re
import subprocess
import tempfile
import time

import psutil


def run_measured(cmd: list[str], cwd, env=None, poll_s: float = 0.2, stamp: re.Pattern | None = None) -> dict:
    """`stamped`: (seconds since the start, the pattern's first group) per matching output line,
    to within `poll_s`."""
    # output goes to a file, not a pipe: a pipe nobody reads fills up and stalls the command
    # read back through a file description of its own: the command's writes move the other one's offset
    with tempfile.NamedTemporaryFile(mode="w+") as log, open(log.name) as reader:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        root, peak, stamped, partial = psutil.Process(proc.pid), 0, [], ""

        def read_new_lines(now: float) -> None:
            nonlocal partial
            *lines, partial = (partial + reader.read()).split("\n")
            stamped.extend((now, m.group(1)) for line in lines if stamp and (m := stamp.search(line)))

        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.NoSuchProcess:
                pass
            read_new_lines(time.perf_counter() - began)
            time.sleep(poll_s)
        seconds = time.perf_counter() - began
        read_new_lines(seconds)
        log.seek(0)
        return {"returncode": proc.returncode, "seconds": seconds, "peak_bytes": peak, "output": log.read(),
                "stamped": stamped}
