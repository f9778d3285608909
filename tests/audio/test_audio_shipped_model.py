"""The text-to-music model the audio plugin ships: found by name, generates WAVs from prompts,
and is rebuilt by the commands docs/prompts.md gives (run here for a few steps)."""

import re
import shlex
from pathlib import Path

import pytest
import soundfile
import torch

import ganforge
from ganforge.cli import main
from audio_helpers import strongest_pitch_class
from doc_commands import documented_commands

DOCS = Path(__file__).resolve().parents[2] / "docs" / "prompts.md"


def test_tones_t2m_is_registered_and_generates_wavs_from_prompts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pipe = ganforge.load("tones-t2m", device="cpu")
    prompts = ["C major chord, organ", "A note, sine"]
    a = pipe.generate(4, seed=0, prompts=prompts)
    b = pipe.generate(4, seed=0, prompts=prompts)
    assert torch.equal(a.samples, b.samples)
    assert [r["prompt"] for r in a.records] == prompts * 2
    assert main(["generate", "tones-t2m", "--out", "out", "-n", "4", "--prompt", prompts[0]]) == 0
    wavs = sorted((tmp_path / "out").glob("sample_0*.wav"))
    assert len(wavs) == 4
    audio, rate = soundfile.read(wavs[0])
    assert rate == 16000 and len(audio) == 16384 and 0.01 < abs(audio).max() <= 1.0


@pytest.mark.xfail(strict=True, reason="issue 12 open: the shipped model plays the prompt's root in 0.2 of clips "
                   "(target 0.8); a model trained on tones voicing=bass with representation=logfreq should pass")
def test_tones_t2m_plays_the_root_the_prompt_names():
    """Issue 12: the prompt's root is the strongest pitch class of what the model plays
    (bench/quality_t2m.py measures it on 200 clips; here 12 prompts, one per root)."""
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    kinds = ["major chord, organ", "note, sine", "minor chord, square", "major chord, pluck"]
    prompts = [f"{name} {kinds[i % len(kinds)]}" for i, name in enumerate(names)]
    pipe = ganforge.load("tones-t2m", device="cpu")
    wave = pipe.generate(len(prompts), seed=1, prompts=prompts).samples
    wave = pipe.modality.to_waveform(wave).mean(1)
    hits = (strongest_pitch_class(wave, pipe.modality.sample_rate) == torch.arange(12)).sum().item()
    assert hits >= 9, hits


def test_shipped_model_is_small():
    from ganforge_audio.pretrained import TONES_T2M

    size = sum(f.stat().st_size for f in TONES_T2M.rglob("*") if f.is_file())
    assert 0 < size < 5_000_000


def test_the_documented_rebuild_commands_run(tmp_path, monkeypatch):
    commands = documented_commands(DOCS, "### tones-t2m")
    assert [c[0] for c in commands] == ["data", "train", "export"]
    monkeypatch.chdir(tmp_path)
    for argv in commands:  # the same commands, a few steps on a little data
        argv = [re.sub(r"^n=\d+$", "n=16", a) for a in argv]
        if argv[0] == "train":
            i = argv.index("--steps")
            argv[i + 1] = "2"
            argv += ["--set", "model_dim=4", "--set", "audio_length=4096", "--batch-size", "8",
                     "--set", "progress=false", "--set", "sample_every=0", "--set", "preview_n=2"]
        assert main(argv) == 0, argv
    out = Path(commands[-1][commands[-1].index("--out") + 1])
    result = ganforge.load(out).generate(2, seed=0, prompts=["C major chord, organ"])
    assert len(result.audio) == 2


def test_the_documented_next_run_for_issue_12_runs(tmp_path, monkeypatch):
    """The section's last block: bass-voiced data and the log-frequency grid, a few steps."""
    section = DOCS.read_text().split("### tones-t2m")[1]
    block = section[section.rindex("```bash") + len("```bash"):]
    commands = [shlex.split(line)[1:] for line in block[:block.index("```")].strip().splitlines()]
    assert [c[0] for c in commands] == ["data", "train"]
    assert "voicing=bass" in commands[0] and "representation=logfreq" in commands[1]
    monkeypatch.chdir(tmp_path)
    for argv in commands:
        argv = [re.sub(r"^n=\d+$", "n=16", a) for a in argv]
        if argv[0] == "train":
            argv[argv.index("--steps") + 1] = "2"
            argv += ["--set", "model_dim=4", "--batch-size", "8", "--set", "progress=false",
                     "--set", "sample_every=0", "--set", "preview_n=2"]
        assert main(argv) == 0, argv
    pipe = ganforge.load(tmp_path / "runs" / "tones-t2m")
    assert pipe.modality.state["representation"] == "logfreq"
    assert pipe.generate(1, seed=0, prompts=["F# minor chord, pluck"]).audio[0].shape[0] == 16384
