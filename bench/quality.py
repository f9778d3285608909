"""Every quality figure in one table: the demo, the toy mode-collapse benchmark, SeqGAN on
the oracle and on real text, WaveGAN/SpecGAN, text-to-image from prompts.

Runs each quality bench as its own process with ``--json`` and prints one markdown table
(area, measure, ganforge's figure, the reference figure, the setting), then the machine
it ran on. The default budget is each bench's own (CPU-sized: the toy benchmark's ten runs
about two hours on 2 cores, the rest about an hour); ``--quick`` passes each bench its
smoke-test settings (minutes, figures meaningless, for checking the plumbing); extra
arguments for one bench go through ``--args NAME="..."``.

    python bench/quality.py                               # everything, the documented budgets
    python bench/quality.py --only demo toy               # some of it
    python bench/quality.py --only toy --args toy="--seeds 5 --steps 20000 --pack 4"
    python bench/quality.py --json quality.json           # keep the rows
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (script, default arguments, --quick arguments)
BENCHES = {
    "demo": ("quality_demo.py", [], ["--n", "10", "--quick"]),
    "toy": ("bench_modes.py", ["--no-baseline", "--jobs", "2"], ["--seeds", "1", "--steps", "200", "--no-baseline"]),
    "seqgan": ("bench_seqgan.py", ["--seeds", "3", "--no-throughput"], ["--quick"]),
    "seqgan-text": ("bench_seqgan.py", ["--text", "--seeds", "3"], ["--text", "--quick", "--text-n", "50"]),
    "audio": ("quality_audio.py", [], ["--quick"]),
    "t2i": ("quality_t2i.py", [], ["--quick"]),
}


def table(rows: list[dict]) -> str:
    lines = ["| area | measure | ganforge | reference | setting |", "|---|---|---|---|---|"]
    lines += [f"| {r['area']} | {r['measure']} | {r['value']} | {r['reference']} | {r['setting']} |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these benches")
    p.add_argument("--quick", action="store_true", help="smoke-test budgets (checks the plumbing; figures meaningless)")
    p.add_argument("--args", action="append", default=[], metavar='NAME="ARGS"', help="extra arguments for one bench")
    p.add_argument("--json", help="also write every row here")
    args = p.parse_args(argv)
    extra = {}
    for item in args.args:
        name, _, rest = item.partition("=")
        if name not in BENCHES:
            p.error(f"--args: no bench named {name!r} (choose from {', '.join(sorted(BENCHES))})")
        extra[name] = shlex.split(rest)

    rows, machines, failed = [], set(), []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or list(BENCHES):
            script, normal, quick = BENCHES[name]
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, str(HERE / script), *(quick if args.quick else normal), *extra.get(name, []),
                   "--json", str(out)]
            print(f"== {name}: {' '.join(shlex.quote(c) for c in cmd[1:])}", flush=True)
            t0 = time.time()
            rc = subprocess.call(cmd)
            print(f"== {name}: exit {rc}, {time.time() - t0:.0f}s", flush=True)
            if rc != 0 or not out.exists():
                failed.append(name)
                continue
            result = json.loads(out.read_text())
            rows += result["rows"]
            machines.add(result["machine"])
    print()
    print(table(rows))
    print()
    print("machine: " + "; ".join(sorted(machines)))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"machines": sorted(machines), "rows": rows}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
