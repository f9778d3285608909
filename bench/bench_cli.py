"""Start-up time of the CLI: `ganforge --help` and `ganforge plugins` (target: under 0.5 s).

Prints the median wall time of each over several runs, and, as the baseline, a bare
`python -c pass` in the same process environment.
"""

import statistics
import subprocess
import sys
import time


def wall(cmd, repeat=7):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


if __name__ == "__main__":
    base = wall([sys.executable, "-c", "pass"])
    print(f"python -c pass          {base:.3f} s (interpreter baseline)")
    for args in (["--help"], ["plugins"], ["recipes"]):
        t = wall([sys.executable, "-m", "ganforge", *args])
        print(f"ganforge {' '.join(args):14} {t:.3f} s  ({t / base:.1f}x the bare interpreter; target < 0.5 s)")
