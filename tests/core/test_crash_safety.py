"""Crash safety of training runs (issue 9): kills, a full disk, a read-only folder.

A checkpoint is one atomic unit (see ganforge.artifacts): whatever happens to a
training process, the run's current checkpoint is complete, ``--resume`` continues from
it, and a resumed run ends bit for bit where an uninterrupted one does.

Two ways to start a training process:

- ``PythonM``: ``python -m ganforge ...`` from scratch, as a user would (seconds of start-up
  on a busy machine, so only the slow tests make many of them);
- ``ForkServer``: a helper process that imports torch and ganforge once and ``fork()``s a
  child per command, which runs ``ganforge.cli.main(argv)`` -- the code ``python -m
  ganforge`` runs -- and then exits. The child is a real process: it is killed with a real
  SIGKILL, by the test (at random moments) or by itself at an exact point of the checkpoint
  write (``kill_at``), so every window of the write is hit, not just the likely ones.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ganforge
from ganforge import GanforgeError, artifacts

OPTS = ["--device", "cpu", "--batch-size", "32", "--set", "hidden=8", "--set", "layers=2", "--set", "d_hidden=8", "--set", "progress=false",
        "--set", "sample_every=0", "--set", "preview_n=0", "--set", "log_every=1", "--set", "ema_beta=0.9",
        "--set", "checkpoint_every=1"]


def env() -> dict:
    """The test's environment (PYTHONPATH included), one thread per process: the
    comparisons are bit for bit, and the machine has few cores."""
    e = dict(os.environ)
    e.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    e["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p and Path(p).is_dir() and "site-packages" not in p])
    return e


_SERVER = r"""
import json, os, shutil, signal, sys, traceback
import torch
import ganforge, ganforge.artifacts, ganforge.cli, ganforge.training
from ganforge import plugins
plugins.get_plugin_manager().registry.find("recipe", "toy-ring").load()

def inject(kill_at):
    # SIGKILL this process at an exact point: before/after the n-th os.replace (the
    # partial folder's rename and ganforge.json's commit alternate), or at the n-th
    # removal of an old checkpoint after a commit.
    what, n = kill_at["what"], int(kill_at["n"])
    count = [0]
    def die():
        os.kill(os.getpid(), signal.SIGKILL)
    if what in ("before_replace", "after_replace"):
        real = os.replace
        def replace(a, b, **kw):
            count[0] += 1
            if count[0] == n and what == "before_replace":
                die()
            real(a, b, **kw)
            if count[0] == n and what == "after_replace":
                die()
        os.replace = replace
    elif what == "cleanup":
        real_rm = shutil.rmtree
        def rmtree(path, *a, **kw):
            if not str(path).endswith(".partial"):
                count[0] += 1
                if count[0] == n:
                    die()
            return real_rm(path, *a, **kw)
        shutil.rmtree = rmtree
    elif what == "state":  # the weights are in the partial folder, the training state half written
        real_save = torch.save
        def save(obj, f, *a, **kw):
            count[0] += 1
            if count[0] == n:
                with open(f, "wb") as fh:
                    fh.write(b"PK\x03\x04 half a file")
                    fh.flush()
                die()
            return real_save(obj, f, *a, **kw)
        torch.save = save
    else:
        raise SystemExit(f"unknown kill point {what}")

for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        rc = 1
        try:
            fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            if req.get("fsize"):  # files past this size fail with EFBIG (a full disk's stand-in)
                import resource
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (req["fsize"], req["fsize"]))
            if req.get("kill_at"):
                inject(req["kill_at"])
            rc = ganforge.cli.main(req["argv"])
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"rc": os.waitstatus_to_exitcode(status)}), flush=True)
"""


def _alive(pid: int) -> bool:
    """A fork-server child still running (not ended, not a zombie awaiting its reaper)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[-1][:1] not in ("Z", "X")
    except FileNotFoundError:
        return False


class ForkServer:
    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env(), cwd=self.workdir)
        self._n = 0

    def start(self, argv: list[str], kill_at: dict | None = None, fsize: int | None = None) -> "Child":
        self._n += 1
        log = self.workdir / f"attempt-{self._n:03d}.log"
        self.proc.stdin.write(json.dumps({"argv": argv, "log": str(log), "kill_at": kill_at, "fsize": fsize}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the fork server died")
        pid = json.loads(line)["pid"]
        return Child(pid, log, lambda: json.loads(self.proc.stdout.readline())["rc"], lambda: _alive(pid))

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


class PythonM:
    """``python -m ganforge ...`` processes, started from nothing."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self._n = 0

    def start(self, argv: list[str], kill_at: dict | None = None) -> "Child":
        assert kill_at is None, "exact kill points need the fork server"
        self._n += 1
        log = self.workdir / f"attempt-{self._n:03d}.log"
        with open(log, "w") as f:
            p = subprocess.Popen([sys.executable, "-m", "ganforge", *argv], stdout=f, stderr=subprocess.STDOUT,
                                 env=env(), cwd=self.workdir)
        return Child(p.pid, log, p.wait, lambda: p.poll() is None)

    def close(self):
        pass


class Child:
    def __init__(self, pid: int, log: Path, wait, alive):
        self.pid, self.log, self._wait, self.alive, self.rc = pid, log, wait, alive, None

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def wait(self) -> int:
        if self.rc is None:
            self.rc = self._wait()
        return self.rc

    @property
    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""  # killed before it opened its log


def partials(run: Path) -> list[str]:
    try:
        return [e.name for e in os.scandir(run / "checkpoints") if e.name.endswith(".partial")]
    except FileNotFoundError:
        return []


def wait_for_partials(run: Path, count: int, child: Child, poll: float = 0.0005, limit: float = 60.0) -> bool:
    """Poll ``checkpoints/`` until ``count`` distinct partial folders have appeared;
    False when the child ended first."""
    seen: set[tuple[str, int]] = set()
    deadline = time.monotonic() + limit
    root = run / "checkpoints"
    while time.monotonic() < deadline:
        try:
            for e in os.scandir(root):
                if e.name.endswith(".partial"):
                    seen.add((e.name, e.inode()))
        except FileNotFoundError:
            pass
        if len(seen) >= count:
            return True
        if not child.alive():
            return False
        time.sleep(poll)
    return False


def final_weights(run: Path) -> dict[str, dict]:
    from ganforge.artifacts import checkpoint_dir

    folder = checkpoint_dir(run)
    return {p.name: load_file(str(p)) for p in sorted(folder.glob("*.safetensors"))}


def check_consistent(run: Path) -> int | None:
    """What a kill at any moment must leave: a readable ganforge.json whose current
    checkpoint (if any) is complete and self-consistent. Returns its step."""
    import torch

    from ganforge.artifacts import STATE_FILE, checkpoint_dir, read_run_json

    if not (run / "ganforge.json").exists():
        return None
    info = read_run_json(run)
    folder = checkpoint_dir(run, info)
    if folder is None:
        return None
    names = {p.name for p in folder.iterdir()}
    assert names == {"generator.safetensors", "generator_ema.safetensors", "discriminator.safetensors", STATE_FILE}, names
    state = torch.load(folder / STATE_FILE, weights_only=True)
    for p in folder.glob("*.safetensors"):
        from safetensors import safe_open

        with safe_open(str(p), framework="pt") as f:
            assert int(f.metadata()["step"]) == state["step"]
    return int(state["step"])


#: exact kill points, each hit in turn: (what, n); os.replace alternates between a partial
#: folder's rename and ganforge.json's commit (a fresh start commits ganforge.json first)
EXACT_POINTS = [("state", 1), ("before_replace", 1), ("after_replace", 1), ("before_replace", 2),
                ("after_replace", 2), ("cleanup", 1), ("after_replace", 3), ("cleanup", 2)]


def kill_chain(launcher, data: Path, run: Path, steps: int, kills_wanted: int, rng, exact: bool) -> dict:
    """Train ``run`` to ``steps`` through ``kills_wanted`` SIGKILLs and the resumes after
    them; check after every kill that the current checkpoint is complete and never went
    back. Returns counts of what happened."""
    argv = ["train", "toy-ring", "--data", str(data), "--out", str(run), "--steps", str(steps), *OPTS]
    stats = {"kills": 0, "fresh_starts": 0, "resumes": 0, "kinds": {}, "in_checkpoint_write": 0}
    last = None
    while True:
        current = check_consistent(run)
        # a folder with no checkpoint yet takes the very same command again
        cmd = argv + (["--resume"] if current is not None else [])
        stats["resumes" if current is not None else "fresh_starts"] += 1
        if stats["kills"] >= kills_wanted:
            child = launcher.start(cmd)
            assert child.wait() == 0, child.output
            break
        modes = ["delay", "partial"] + (["exact"] if exact else [])
        mode = modes[stats["kills"] % len(modes)]
        kill_at = None
        if mode == "exact":
            what, n = EXACT_POINTS[(stats["kills"] // len(modes)) % len(EXACT_POINTS)]
            kill_at = {"what": what, "n": n}
            mode = f"{what}#{n}"
        child = launcher.start(cmd, kill_at=kill_at)
        if mode == "delay":
            time.sleep(rng.uniform(0.0, 0.8))
            child.kill()
        elif mode == "partial":
            if wait_for_partials(run, rng.randint(1, 3), child):
                child.kill()
        rc = child.wait()
        out = child.output
        assert rc in (0, -signal.SIGKILL), out
        assert "Traceback" not in out, out
        if rc == 0:  # the run ended before the kill came: only right at the end
            assert check_consistent(run) == steps, out
            break
        stats["kills"] += 1
        stats["kinds"][mode] = stats["kinds"].get(mode, 0) + 1
        if partials(run):
            stats["in_checkpoint_write"] += 1
        step = check_consistent(run)
        assert last is None or (step is not None and step >= last), (last, step)
        last = step
    return stats


def assert_tidy(run: Path) -> None:
    """One complete checkpoint folder, the current one; nothing temporary anywhere."""
    from ganforge.artifacts import checkpoint_dir

    assert [p.name for p in (run / "checkpoints").iterdir()] == [checkpoint_dir(run).name]
    assert not [p for p in run.rglob("*") if p.name.endswith((".tmp", ".partial"))]




# ---------------------------------------------------------------------------- tests



@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    from ganforge import plugins as p

    out = tmp_path_factory.mktemp("ring")
    p.get_plugin_manager().registry.get("dataset", "ring")(out, n=512)
    return out


@pytest.fixture
def server(tmp_path):
    s = ForkServer(tmp_path)
    yield s
    s.close()


def _reference(launcher, ring, run, steps):
    child = launcher.start(["train", "toy-ring", "--data", str(ring), "--out", str(run), "--steps", str(steps), *OPTS])
    assert child.wait() == 0, child.output
    return final_weights(run)


def _assert_same(a: dict, b: dict):
    assert a.keys() == b.keys() and a
    for name in a:
        assert a[name].keys() == b[name].keys()
        for k in a[name]:
            assert torch.equal(a[name][k], b[name][k]), f"{name} {k} differs from the uninterrupted run"


def test_sigkill_chain_resumes_to_the_uninterrupted_weights(ring, tmp_path, server):
    """>= 20 SIGKILLs at random moments and at every point of the checkpoint write
    (partial folder half written, renamed but not committed, committed but old folders
    not yet removed); after each one the current checkpoint is complete, and the chain of
    resumes ends with the weights of an uninterrupted run."""
    steps = 60
    reference = _reference(server, ring, tmp_path / "reference", steps)
    stats = kill_chain(server, ring, tmp_path / "run", steps, kills_wanted=24, rng=random.Random(9), exact=True)
    print(stats)
    assert stats["kills"] >= 20, stats
    assert stats["in_checkpoint_write"] >= 5, stats
    _assert_same(final_weights(tmp_path / "run"), reference)
    assert check_consistent(tmp_path / "run") == steps
    assert_tidy(tmp_path / "run")


@pytest.mark.slow
def test_sigkill_chain_with_python_m_processes(ring, tmp_path):
    """The same chain with every attempt a fresh ``python -m ganforge train`` process
    (kills at random delays and as soon as a partial checkpoint folder appears)."""
    launcher = PythonM(tmp_path)
    steps = 40
    reference = _reference(launcher, ring, tmp_path / "reference", steps)
    stats = kill_chain(launcher, ring, tmp_path / "run", steps, kills_wanted=20, rng=random.Random(3), exact=False)
    print(stats)
    assert stats["kills"] >= 20, stats
    _assert_same(final_weights(tmp_path / "run"), reference)
    assert_tidy(tmp_path / "run")


def _train_argv(ring, run, steps=20):
    return ["train", "toy-ring", "--data", str(ring), "--out", str(run), "--steps", str(steps), *OPTS]


def _stop_after_commit(server, argv, step):
    """Train until the checkpoint of ``step`` is current, then SIGKILL the process (a fresh
    start commits ganforge.json once, then each checkpoint renames a folder and commits)."""
    child = server.start(argv, kill_at={"what": "after_replace", "n": 1 + 2 * step})
    assert child.wait() == -signal.SIGKILL, child.output
    assert check_consistent(Path(argv[argv.index("--out") + 1])) == step


def _assert_one_line_checkpoint_error(child):
    rc, out = child.wait(), child.output
    assert rc == 2, out
    assert "Traceback" not in out, out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: could not write a checkpoint"), out
    assert out.strip().splitlines()[-1] == errors[0], out


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (root with CAP_SYS_ADMIN only)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.strip() or 'mount failed'}); "
                    f"the RLIMIT_FSIZE variant covers a full disk")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path, leave: int) -> Path:
    """Fill the file system but ``leave`` bytes."""
    st = os.statvfs(mnt)
    free = st.f_bavail * st.f_frsize
    filler = mnt / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


@pytest.mark.parametrize("how", ["tmpfs", "rlimit_fsize"])
def test_full_disk_at_a_checkpoint_write(ring, tmp_path, server, how, request):
    """ENOSPC (a full tmpfs) or EFBIG (RLIMIT_FSIZE, the portable stand-in) while writing
    a checkpoint: a one-line error, the previous checkpoint current, complete and
    resumable, and once there is room ``--resume`` ends on the uninterrupted weights."""
    reference = _reference(server, ring, tmp_path / "reference", 20)
    home = request.getfixturevalue("small_disk") if how == "tmpfs" else tmp_path
    run = home / "run"
    argv = _train_argv(ring, run)
    _stop_after_commit(server, argv, 10)
    if how == "tmpfs":
        artifacts.remove_stale_checkpoints(run)  # what the kill left would free room again
        # room for log lines and the weights, not for the training state (~26 kB)
        filler = _fill(home, leave=16 * 1024)
        child = server.start(argv + ["--resume"])
    else:
        filler = None
        child = server.start(argv + ["--resume"], fsize=20_000)
    _assert_one_line_checkpoint_error(child)
    assert "--resume" in child.output and str(run) in child.output
    assert check_consistent(run) == 10  # the previous checkpoint is current and complete
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-000000010"]  # nothing half written kept
    if filler is not None:
        filler.unlink()  # make room
    child = server.start(argv + ["--resume"])
    assert child.wait() == 0, child.output
    _assert_same(final_weights(run), reference)
    assert_tidy(run)


@pytest.mark.parametrize("where", ["partial_folder", "weights", "rename", "commit"])
def test_read_only_run_dir_at_a_checkpoint_write(ring, tmp_path, monkeypatch, where):
    """EROFS at each stage of a checkpoint write (root ignores chmod, so the file system's
    answer is injected): the training stops with a one-line GanforgeError, the previous
    checkpoint stays current, nothing of the failed one is left, and --resume afterwards
    ends on the uninterrupted weights."""
    opts = {"hidden": 8, "layers": 2, "d_hidden": 8, "batch_size": 32, "progress": False, "sample_every": 0, "preview_n": 0,
            "log_every": 1, "ema_beta": 0.9, "checkpoint_every": 1, "device": "cpu"}
    ganforge.train("toy-ring", data=ring, out=tmp_path / "reference", steps=12, overrides=opts)
    reference = final_weights(tmp_path / "reference")
    run = tmp_path / "run"
    state = {"armed": False}
    rofs = OSError(errno.EROFS, os.strerror(errno.EROFS))

    real_write, real_mkdir, real_save, real_replace = (artifacts.write_checkpoint, Path.mkdir,
                                                       artifacts.save_module, os.replace)

    def write_checkpoint(run_dir, step, *a, **kw):
        state["armed"] = step >= 8
        return real_write(run_dir, step, *a, **kw)

    def mkdir(self, *a, **kw):
        if state["armed"] and where == "partial_folder" and self.name.endswith(".partial"):
            raise OSError(rofs.errno, rofs.strerror, str(self))
        return real_mkdir(self, *a, **kw)

    def save_module(path, *a, **kw):
        if state["armed"] and where == "weights":
            raise OSError(rofs.errno, rofs.strerror, str(path))
        return real_save(path, *a, **kw)

    def replace(src, dst, *a, **kw):
        commit = Path(dst).name == artifacts.RUN_FILE
        if state["armed"] and ((where == "rename" and not commit) or (where == "commit" and commit)):
            raise OSError(rofs.errno, rofs.strerror, str(dst))
        return real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(artifacts, "write_checkpoint", write_checkpoint)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(artifacts, "save_module", save_module)
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(GanforgeError) as e:
        ganforge.train("toy-ring", data=ring, out=run, steps=12, overrides=opts)
    monkeypatch.undo()
    message = str(e.value)
    assert "\n" not in message and message.startswith("could not write a checkpoint") and "read-only" in message.lower()
    assert check_consistent(run) == 7
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-000000007"]
    assert not [p for p in run.rglob("*") if p.name.endswith((".tmp", ".partial"))]
    ganforge.train("toy-ring", data=ring, out=run, steps=12, overrides=opts, resume=True)
    _assert_same(final_weights(run), reference)
    assert_tidy(run)


def test_a_run_killed_before_its_first_checkpoint_starts_again(ring, tmp_path, server):
    """Killed before its first checkpoint (after ganforge.json, during the first write):
    ``generate`` says so in one line, and the very same ``train`` command (or --resume)
    starts it again without anything deleted by hand, ending on the uninterrupted weights."""
    reference = _reference(server, ring, tmp_path / "reference", 6)
    run = tmp_path / "run"
    argv = _train_argv(ring, run, steps=6)
    # killed with the first checkpoint's files written but not yet renamed
    child = server.start(argv, kill_at={"what": "before_replace", "n": 2})
    assert child.wait() == -signal.SIGKILL, child.output
    assert check_consistent(run) is None and partials(run)
    gen = server.start(["generate", str(run), "--out", str(tmp_path / "gen"), "-n", "4"])
    assert gen.wait() == 2, gen.output
    assert gen.output.startswith("error:") and len(gen.output.strip().splitlines()) == 1, gen.output
    assert "no checkpoint yet" in gen.output, gen.output
    # --resume on it: a note, then training from step 0; killed again in the same place
    child = server.start(argv + ["--resume"], kill_at={"what": "before_replace", "n": 1})
    assert child.wait() == -signal.SIGKILL, child.output
    assert "no checkpoint yet" in child.output
    child = server.start(argv)  # the same command as the first time
    assert child.wait() == 0, child.output
    assert "no checkpoint yet" in child.output
    _assert_same(final_weights(run), reference)
    assert_tidy(run)


def test_a_resume_removes_what_a_kill_after_the_last_commit_left(ring, tmp_path, server):
    run = tmp_path / "run"
    argv = _train_argv(ring, run, steps=5)
    # killed after the last checkpoint was made current, before the one before it was removed
    child = server.start(argv, kill_at={"what": "cleanup", "n": 4})
    assert child.wait() == -signal.SIGKILL, child.output
    assert check_consistent(run) == 5 and len(list((run / "checkpoints").iterdir())) == 2
    child = server.start(argv + ["--resume"])
    assert child.wait() == 0, child.output
    assert_tidy(run)


def test_remove_stale_checkpoints_keeps_only_the_current(tmp_path):
    root = tmp_path / "checkpoints"
    for name in ("step-000000003", "step-000000004", ".step-000000005.partial", "step-000000005"):
        (root / name).mkdir(parents=True)
        (root / name / "x").write_text("x")
    (tmp_path / "ganforge.json").write_text(json.dumps({"format_version": 2, "checkpoint": "checkpoints/step-000000004"}))
    assert sorted(artifacts.remove_stale_checkpoints(tmp_path)) == [".step-000000005.partial", "step-000000003",
                                                                     "step-000000005"]
    assert [p.name for p in root.iterdir()] == ["step-000000004"]
    # no current checkpoint: only partial folders go
    (root / ".step-000000001.partial").mkdir()
    (tmp_path / "ganforge.json").write_text(json.dumps({"format_version": 2, "checkpoint": None}))
    assert artifacts.remove_stale_checkpoints(tmp_path) == [".step-000000001.partial"]
    assert [p.name for p in root.iterdir()] == ["step-000000004"]
