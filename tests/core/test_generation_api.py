"""The generation API (DESIGN.md section 6): ganforge.generate / load / Pipeline, per-sample
seeds, user objects, files with metadata, and the CLI's generate / train --seed / demo."""

import json
import time

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

import ganforge
from ganforge import GanforgeError
from ganforge.cli import main

IMAGE = {"image_size": 16, "ngf": 8, "ndf": 8, "nz": 8, "batch_size": 8, "steps": 2, "progress": False,
         "preview_n": 4, "checkpoint_every": 0, "sample_every": 0, "device": "cpu"}
TEXT = {"emb_dim": 8, "hidden_dim": 8, "d_emb_dim": 8, "d_filter_sizes": [1, 2], "d_num_filters": [4, 4],
        "batch_size": 4, "rollouts": 2, "mle_steps": 2, "d_pretrain_steps": 1, "steps": 1, "progress": False,
        "sample_every": 0, "checkpoint_every": 0, "preview_n": 4, "device": "cpu"}


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    from ganforge_image.datasets import make_shapes  # test data only

    root = tmp_path_factory.mktemp("image")
    data = make_shapes(root / "shapes", n=32, size=16, seed=0)
    ganforge.train("dcgan", data=data, out=root / "run", overrides=IMAGE)
    return root / "run"


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    corpus = root / "corpus.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\na cat and a dog\na bird sat on the house\n")
    ganforge.train("seqgan", data=corpus, out=root / "run", overrides=TEXT)
    return root / "run"


def test_generate_shortcut_equals_load_then_generate(image_run):
    a = ganforge.generate(image_run, n=3, seed=7)
    b = ganforge.load(image_run).generate(n=3, seed=7)
    assert a.samples.shape == (3, 3, 16, 16) and torch.equal(a.samples, b.samples)
    assert not torch.equal(a.samples, ganforge.generate(image_run, n=3, seed=8).samples)


def test_pipeline_device_auto_and_to(image_run):
    pipe = ganforge.load(image_run)  # device "auto" by default
    assert pipe.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pipe.to("cpu") is pipe and pipe.device == torch.device("cpu")
    assert next(pipe.generator.parameters()).device == torch.device("cpu")
    assert len(pipe.generate(n=2).samples) == 2


def test_latents_and_seeds_give_the_samples_of_their_seeds(image_run):
    pipe = ganforge.load(image_run, device="cpu")
    by_seed = pipe.generate(seeds=[11, 3, 11])
    assert [r["seed"] for r in by_seed.records] == [11, 3, 11]
    assert torch.equal(by_seed.samples[0], by_seed.samples[2]) and not torch.equal(by_seed.samples[0],
                                                                                     by_seed.samples[1])
    z = torch.cat([pipe.generator.sample_latent(1, generator=torch.Generator().manual_seed(s)) for s in (11, 3)])
    by_latent = pipe.generate(latents=z)
    assert torch.equal(by_latent.samples, pipe.generate(seeds=[11, 3]).samples)
    # seed s of a call: sample i has a seed of its own, regenerable through seeds=[...]
    call = pipe.generate(n=4, seed=5)
    again = pipe.generate(seeds=[call.records[3]["seed"]])
    assert torch.allclose(again.samples[0], call.samples[3], rtol=0, atol=1e-6)


def test_a_sample_does_not_depend_on_n_or_batch_size(image_run):
    pipe = ganforge.load(image_run, device="cpu")
    five = pipe.generate(n=5, seed=2, batch_size=2).samples
    nine = pipe.generate(n=9, seed=2, batch_size=64).samples
    # the same latents; a convolution over another batch size may round differently (~1e-8)
    assert torch.allclose(five, nine[:5], rtol=0, atol=1e-6)


def test_user_objects_are_of_the_runs_kind(image_run, text_run):
    images = ganforge.generate(image_run, n=2, device="cpu").images
    assert len(images) == 2 and all(isinstance(i, Image.Image) and i.size == (16, 16) for i in images)
    texts = ganforge.generate(text_run, n=3, device="cpu").texts
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    with pytest.raises(GanforgeError) as info:
        ganforge.generate(image_run, n=1, device="cpu").audio
    assert "\n" not in str(info.value) and "images" in str(info.value)
    with pytest.raises(GanforgeError, match="texts"):
        ganforge.generate(text_run, n=1, device="cpu").images


def test_generate_to_writes_files_with_metadata_that_reproduce_them(image_run, tmp_path):
    pipe = ganforge.load(image_run, device="cpu")
    paths = pipe.generate_to(tmp_path / "out", n=5, seed=4, batch_size=2)
    lines = [json.loads(line) for line in (tmp_path / "out" / "metadata.jsonl").read_text().splitlines()]
    assert [r["file_name"] for r in lines] == [f"sample_{i:05d}.png" for i in range(5)]
    assert [r["index"] for r in lines] == list(range(5))
    assert all(r["run"] == str(image_run) and r["options"] == {} and isinstance(r["seed"], int) for r in lines)
    assert (tmp_path / "out" / "sample_grid.png") in paths
    for record in lines:  # each PNG carries its own line, without the file name
        chunk = json.loads(Image.open(tmp_path / "out" / record["file_name"]).text["ganforge"])
        assert chunk == {k: v for k, v in record.items() if k != "file_name"}
    # the same as generate(...).save(...)
    saved = pipe.generate(n=5, seed=4)
    saved.save(tmp_path / "saved")
    assert (tmp_path / "saved" / "metadata.jsonl").read_text() == (tmp_path / "out" / "metadata.jsonl").read_text()
    # the CLI remakes sample 3 from its seed
    pick = lines[3]
    assert main(["generate", str(image_run), "--out", str(tmp_path / "again"), "--seeds", str(pick["seed"]),
                 "--device", "cpu"]) == 0
    again = json.loads((tmp_path / "again" / "metadata.jsonl").read_text().splitlines()[0])
    original = Image.open(tmp_path / "out" / pick["file_name"])
    remade = Image.open(tmp_path / "again" / again["file_name"])
    assert again["seed"] == pick["seed"]
    assert original.tobytes() == remade.tobytes()


def test_cli_generation_options_are_given_with_set(text_run, tmp_path, capsys):
    assert main(["generate", str(text_run), "--out", str(tmp_path / "t"), "-n", "3", "--set", "temperature=0.8",
                 "--device", "cpu"]) == 0
    lines = [json.loads(line) for line in (tmp_path / "t" / "metadata.jsonl").read_text().splitlines()]
    assert [r["options"] for r in lines] == [{"temperature": 0.8}] * 3
    assert len((tmp_path / "t" / "samples.txt").read_text().splitlines()) == 3
    cold = ganforge.generate(text_run, n=8, seed=1, device="cpu", temperature=0.05).texts
    hot = ganforge.generate(text_run, n=8, seed=1, device="cpu", temperature=5.0).texts
    assert cold != hot  # the option reaches the generator
    capsys.readouterr()
    assert main(["generate", str(text_run), "--out", str(tmp_path / "u"), "--set", "warmth=2", "--device",
                 "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "warmth" in err
    with pytest.raises(SystemExit):  # no other spelling of generation options
        main(["generate", str(text_run), "--out", str(tmp_path / "v"), "--temperature", "0.8"])


def test_cli_train_seed_changes_the_weights(tmp_path):
    ring = ganforge.get_registry().get("dataset", "ring")(tmp_path / "ring", n=64)
    common = ["--data", str(ring), "--steps", "1", "--batch-size", "16", "--set", "hidden=8",
              "--set", "progress=false", "--device", "cpu"]
    for seed in ("3", "4", "3"):
        assert main(["train", "toy-ring", *common, "--out", str(tmp_path / f"s{seed}-{time.monotonic_ns()}"),
                     "--seed", seed]) == 0
    runs = sorted(tmp_path.glob("s*"), key=lambda p: int(p.name.split("-")[1]))
    weights = [load_file(str(r / json.loads((r / "ganforge.json").read_text())["checkpoint"] /
                             "generator.safetensors")) for r in runs]
    same = lambda a, b: all(torch.equal(a[k], b[k]) for k in a)
    assert not same(weights[0], weights[1]) and same(weights[0], weights[2])
    assert json.loads((runs[0] / "ganforge.json").read_text())["config"]["seed"] == 3


def test_demo_list_shows_the_image_demo(capsys):
    assert main(["demo", "--list"]) == 0
    assert "shapes" in capsys.readouterr().out


def test_demo_quick_trains_and_generates(tmp_path):
    assert main(["demo", "--quick", "--out", str(tmp_path / "demo")]) == 0
    generated = tmp_path / "demo" / "generated"
    assert len(list(generated.glob("sample_*.png"))) >= 64 and (generated / "metadata.jsonl").is_file()
