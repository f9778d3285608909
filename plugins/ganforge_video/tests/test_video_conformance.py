"""ganforge's conformance kit over everything this plugin registers: one test per check."""

from ganforge.testing import check_recipe, dataset, parametrize_with_checks

# 4 frames of 16x16, a handful of channels: each check trains in well under a second
TINY = {"frames": 4, "frame_size": 16, "ngf": 4, "ndf": 4, "nz": 8, "batch_size": 4, "preview_n": 2}
DATA = dataset("moving-shapes", n=9, frames=4, size=16)


@parametrize_with_checks("video", data=DATA, overrides=TINY)
def test_conformance(check, tmp_path):
    check(tmp_path)


def test_video_recipe_trains_and_generates_class_conditional(tmp_path):
    run = check_recipe("vgan", DATA, {**TINY, "conditional": True}, tmp_path)
    assert run.step == 2
    assert run.encoder is not None and run.config["n_classes"] == 3
