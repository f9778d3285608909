"""`ganforge push`: the upload set and model card are built from a run without network (HfApi
is replaced); what is uploaded then loads by `hf:` name from a hub cache laid out by the test,
with HF_HUB_OFFLINE=1."""

import json
import re
import shutil

import pytest

import ganforge
from ganforge_web.hub import push_main

huggingface_hub = pytest.importorskip("huggingface_hub")

REV = "fedcba9876543210fedcba9876543210fedcba98"


class FakeApi:
    """Records what `ganforge push` asks of the Hub, and keeps a copy of the uploaded folder."""

    calls = []

    def __init__(self, token=None):
        self.token = token

    def create_repo(self, repo_id, private=None, exist_ok=False, **kwargs):
        FakeApi.calls.append(("create_repo", repo_id, private, exist_ok))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, repo_id, folder_path, commit_message=None, **kwargs):
        FakeApi.calls.append(("upload_folder", repo_id, commit_message))
        shutil.copytree(folder_path, FakeApi.uploaded)


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    FakeApi.calls = []
    FakeApi.uploaded = tmp_path / "uploaded"
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    return FakeApi


def test_push_uploads_an_export_with_a_model_card_and_it_loads_by_hf_name(image_run, fake_hub, tmp_path,
                                                                         monkeypatch, capsys):
    from web_testing import listing

    before = listing(image_run)
    assert push_main([str(image_run), "me/shapes", "--private", "--token", "t0k"]) == 0
    out = capsys.readouterr().out
    assert "pushed" in out and "ganforge generate hf:me/shapes" in out
    assert fake_hub.calls[0] == ("create_repo", "me/shapes", True, True)
    assert fake_hub.calls[1][:2] == ("upload_folder", "me/shapes")
    up = fake_hub.uploaded
    files = sorted(str(p.relative_to(up)) for p in up.rglob("*") if p.is_file())
    assert files == ["README.md", "checkpoints/step-000000012/encoder.safetensors",
                     "checkpoints/step-000000012/generator_ema.safetensors", "ganforge.json", "sample_grid.png"]
    card = (up / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: ganforge\n")
    for wanted in ("recipe `image:dcgan`", "trained 12 steps", "ganforge generate hf:me/shapes --out samples/",
                   "--class circle", "![samples](sample_grid.png)", "| image_size | `16` |",
                   '- classes: `["circle", "square", "star", "triangle"]`', "## Metrics"):
        assert wanted in card, wanted
    assert json.loads((up / "ganforge.json").read_text())["data"] == "shapes"  # no path from your disk
    assert listing(image_run) == before  # pushing writes nothing into the run

    # the Hub's copy, as huggingface_hub caches it: loads offline by name
    repo = tmp_path / "hub" / "models--me--shapes"
    shutil.copytree(up, repo / "snapshots" / REV)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REV)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ours = ganforge.load(image_run, device="cpu").generate(n=4, seed=3, classes=["star"]).samples
    shared = ganforge.load("hf:me/shapes", device="cpu").generate(n=4, seed=3, classes=["star"]).samples
    assert (ours == shared).all()  # the same images, from the same seed
    from ganforge_web.generation import Models

    made = Models(tmp_path / "page-cache").generate("hf:me/shapes", n=2, class_name="star")  # as the page asks
    assert [r["class"] for r in made.records] == ["star", "star"] and made.records[0]["run"].endswith(REV)


@pytest.mark.slow  # left out of the default run: pytest -m slow
def test_dry_run_writes_the_upload_set_and_touches_no_hub(audio_run, tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the Hub was called")

    monkeypatch.setattr(huggingface_hub, "HfApi", no_network)
    assert push_main([str(audio_run), "me/tones", "--dry-run", str(tmp_path / "up")]) == 0
    names = {p.name for p in (tmp_path / "up").iterdir()}
    assert {"README.md", "ganforge.json", "sample_grid.png", "sample_grid.wav"} <= names
    assert not list((tmp_path / "up").rglob("*.pt"))
    assert "Listen: [sample_grid.wav](sample_grid.wav)" in (tmp_path / "up" / "README.md").read_text()


@pytest.mark.parametrize("repo, message", [
    ("noslash", "'noslash' is not a Hub repository name; write user/name"),
    ("a/b/c", "'a/b/c' is not a Hub repository name"),
])
def test_bad_repository_names_are_one_line_errors(image_run, fake_hub, repo, message):
    with pytest.raises(ganforge.GanforgeError, match=re.escape(message)):
        push_main([str(image_run), repo])
    assert fake_hub.calls == []


def test_a_refusing_hub_is_a_one_line_error(image_run, monkeypatch):
    class Refusing(FakeApi):
        def create_repo(self, repo_id, **kwargs):
            raise huggingface_hub.errors.LocalTokenNotFoundError("Token is required")

    monkeypatch.setattr(huggingface_hub, "HfApi", Refusing)
    with pytest.raises(ganforge.GanforgeError) as e:
        push_main([str(image_run), "me/shapes"])
    assert "log in with `hf auth login`" in str(e.value) and "\n" not in str(e.value)
