"""`ganforge.load("hf:user/name")` and `ganforge generate hf:user/name`: from a Hugging Face hub
cache this test lays out, offline; never a network call, never a pickle."""

import json
import shutil

import pytest

import ganforge
from ganforge.cli import main

pytest.importorskip("huggingface_hub")

REV = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """A hub cache holding user/shapes (the shipped text-to-image model) and a pickle beside it."""
    cache = tmp_path / "hub"
    repo = cache / "models--user--shapes"
    snapshot = repo / "snapshots" / REV
    shutil.copytree(ganforge.get_registry().get("model", "shapes-t2i"), snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REV)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_a_cached_model_loads_offline_and_generates(hub_cache, tmp_path):
    pipe = ganforge.load("hf:user/shapes", device="cpu")
    assert pipe.run_dir == hub_cache / "models--user--shapes" / "snapshots" / REV
    result = pipe.generate(n=2, prompts=["a red circle"], seed=1)
    assert len(result.images) == 2
    assert main(["generate", "hf:user/shapes", "--out", str(tmp_path / "out"), "-n", "3",
                 "--prompt", "a blue square"]) == 0
    lines = (tmp_path / "out" / "metadata.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["prompt"] == "a blue square"


def test_a_revision_can_be_named(hub_cache):
    assert ganforge.load(f"hf:user/shapes@{REV}", device="cpu").run_dir.name == REV


@pytest.mark.parametrize("name, message", [
    ("hf:user/missing", "hf:user/missing is not in the Hugging Face cache and HF_HUB_OFFLINE is set; connect once"),
    ("hf:nouser", "'hf:nouser' is not a Hub model name; write hf:user/name"),
])
def test_uncached_or_malformed_names_are_one_line_errors(hub_cache, tmp_path, capsys, name, message):
    with pytest.raises(ganforge.GanforgeError, match=message):
        ganforge.load(name, device="cpu")
    assert main(["generate", name, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_repository_without_ganforge_json_is_refused(hub_cache):
    other = hub_cache / "models--user--other"
    (other / "snapshots" / REV).mkdir(parents=True)
    (other / "snapshots" / REV / "config.json").write_text("{}")
    (other / "refs").mkdir()
    (other / "refs" / "main").write_text(REV)
    with pytest.raises(ganforge.GanforgeError, match="hf:user/other is not a ganforge model"):
        ganforge.load("hf:user/other", device="cpu")


def test_only_json_and_safetensors_are_asked_for(hub_cache, monkeypatch):
    import fnmatch

    import huggingface_hub

    asked = {}

    def fake_download(repo_id, **kwargs):
        asked.update(kwargs, repo_id=repo_id)
        return str(hub_cache / "models--user--shapes" / "snapshots" / REV)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    ganforge.load("hf:user/shapes", device="cpu")
    patterns = asked["allow_patterns"]
    assert asked["repo_id"] == "user/shapes" and asked["local_files_only"] is False
    allowed = lambda f: any(fnmatch.fnmatch(f, p) for p in patterns)
    assert allowed("ganforge.json") and allowed("checkpoints/step-000014000/generator_ema.safetensors")
    assert not any(allowed(f) for f in ("training_state.pt", "model.bin", "x.pkl", "y.ckpt", "README.md"))
