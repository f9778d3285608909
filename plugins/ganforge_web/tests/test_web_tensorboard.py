"""`--set tensorboard=true`: losses, previews and audio in RUN/tensorboard, read back with
TensorBoard's own EventAccumulator."""

import pytest

import ganforge

from web_testing import TINY_IMAGE

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def events(run):
    acc = event_accumulator.EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0, "audio": 0,
                                                                                        "scalars": 0})
    acc.Reload()
    return acc


def test_losses_and_previews_are_logged_at_their_steps(image_run):
    acc = events(image_run)
    log = [l for l in (image_run / "log.jsonl").read_text().splitlines()]
    assert [e.step for e in acc.Scalars("loss/g_loss")] == [2, 4, 6, 8, 10, 12] == [
        __import__("json").loads(l)["step"] for l in log]
    first = __import__("json").loads(log[0])
    assert acc.Scalars("loss/d_loss")[0].value == pytest.approx(first["d_loss"], abs=1e-5)
    assert {"train/d_real", "train/d_fake"} <= set(acc.Tags()["scalars"])
    images = acc.Images("preview")
    assert [e.step for e in images] == [4, 8, 12]
    assert images[0].width > 16 and images[0].height > 16  # the preview grid
    assert "config/text_summary" in acc.Tags()["tensors"]


def test_audio_previews_are_logged_as_audio(audio_run):
    acc = events(audio_run)
    audio = acc.Audio("preview_audio")
    assert [e.step for e in audio] == [2, 4]
    assert audio[0].sample_rate == 16000 and audio[0].length_frames > 4096  # two clips and the gap between
    assert [e.step for e in acc.Images("preview")] == [2, 4]  # their spectrograms


def test_without_the_option_nothing_is_logged(tmp_path):
    ganforge.get_registry().get("dataset", "shapes")(tmp_path / "shapes", n=16)
    run = ganforge.train("dcgan", data=tmp_path / "shapes", out=tmp_path / "run", steps=2,
                         overrides={**TINY_IMAGE, "tensorboard": False})
    assert run.config["tensorboard"] is False
    assert not (tmp_path / "run" / "tensorboard").exists()
