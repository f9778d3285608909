"""One training at a time per run directory (RunLock, issue 9)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganforge import GanforgeError
from ganforge.runlock import RunLock

OPTS = ["--device", "cpu", "--batch-size", "32", "--set", "hidden=8", "--set", "layers=2", "--set", "progress=false",
        "--set", "sample_every=0", "--set", "preview_n=0", "--set", "log_every=1", "--set", "checkpoint_every=1"]


def _env():
    e = dict(os.environ, OMP_NUM_THREADS="1")
    e["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p and Path(p).is_dir() and "site-packages" not in p])
    return e


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    from ganforge import plugins as p

    out = tmp_path_factory.mktemp("ring")
    p.get_plugin_manager().registry.get("dataset", "ring")(out, n=512)
    return out


def test_lock_refuses_a_second_holder_and_names_the_first(tmp_path):
    first = RunLock(tmp_path / "run").acquire()
    info = json.loads((tmp_path / "run" / ".lock").read_text())
    assert info["pid"] == os.getpid()
    with pytest.raises(GanforgeError) as e:  # a second open file: flock conflicts even in one process
        RunLock(tmp_path / "run").acquire()
    message = str(e.value)
    assert "\n" not in message and f"process {os.getpid()} " in message and str(tmp_path / "run") in message
    first.release()
    first.release()  # twice is harmless
    with RunLock(tmp_path / "run") as again:
        assert again._fd is not None
    assert again._fd is None
    RunLock(tmp_path / "run").acquire().release()


def test_unreadable_lock_file_still_gives_a_message(tmp_path):
    held = RunLock(tmp_path).acquire()
    try:
        os.pwrite(held._fd, b"garbage", 0)
        os.ftruncate(held._fd, 7)
        with pytest.raises(GanforgeError, match="being trained by another process"):
            RunLock(tmp_path).acquire()
    finally:
        held.release()


def _train(ring, out, steps, *extra, log):
    with open(log, "w") as f:
        return subprocess.Popen([sys.executable, "-m", "ganforge", "train", "toy-ring", "--data", str(ring), "--out",
                                 str(out), "--steps", str(steps), *OPTS, *extra], stdout=f, stderr=subprocess.STDOUT,
                                env=_env())


def test_two_trainings_into_one_folder(ring, tmp_path):
    """Two ``ganforge train`` into the same --out, 0.5 s apart: one is refused with exit 2
    and a one-line error naming the holder's pid; the other finishes, its run intact and
    its log its own."""
    run = tmp_path / "run"
    a = _train(ring, run, 30, log=tmp_path / "a.log")
    time.sleep(0.5)
    b = _train(ring, run, 30, log=tmp_path / "b.log")
    rcs = {a.pid: a.wait(timeout=300), b.pid: b.wait(timeout=300)}
    outs = {a.pid: (tmp_path / "a.log").read_text(), b.pid: (tmp_path / "b.log").read_text()}
    (winner,) = [p for p, rc in rcs.items() if rc == 0]
    (loser,) = [p for p, rc in rcs.items() if rc == 2]
    assert outs[loser].startswith("error:") and len(outs[loser].strip().splitlines()) == 1, outs[loser]
    assert f"process {winner} " in outs[loser] and "--out" in outs[loser]
    assert "Traceback" not in outs[winner]
    from ganforge.artifacts import checkpoint_dir, read_run_json

    assert read_run_json(run)["step"] == 30 and checkpoint_dir(run).name == "step-000000030"
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 31))  # one training's log, not two interleaved


def test_a_lock_left_by_a_killed_trainer_is_taken_over(ring, tmp_path):
    run = tmp_path / "run"
    p = _train(ring, run, 200, log=tmp_path / "a.log")
    deadline = time.monotonic() + 120
    while not (run / "checkpoints").is_dir() or not any(
            e.name.startswith("step-") for e in os.scandir(run / "checkpoints")):
        assert p.poll() is None and time.monotonic() < deadline, (tmp_path / "a.log").read_text()
        time.sleep(0.05)
    assert json.loads((run / ".lock").read_text())["pid"] == p.pid
    p.send_signal(signal.SIGKILL)
    assert p.wait() == -signal.SIGKILL
    q = _train(ring, run, 200, "--resume", "--steps", "3", log=tmp_path / "b.log")  # a resume needs no steps left
    q.wait(timeout=300)
    out = (tmp_path / "b.log").read_text()
    assert q.returncode == 0 and "Traceback" not in out, out
    assert json.loads((run / ".lock").read_text())["pid"] == q.pid  # the lock was taken over
