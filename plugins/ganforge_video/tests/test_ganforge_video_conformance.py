"""ganforge's conformance kit over everything this plugin registers: one test per check."""

from ganforge.testing import check_recipe, dataset, parametrize_with_checks

TINY = {"hidden": 8, "nz": 4, "batch_size": 8}


@parametrize_with_checks("video", data=dataset("video-demo", n=64), overrides=TINY)
def test_conformance(check, tmp_path):
    check(tmp_path)


def test_the_recipe_trains_and_generates(tmp_path):
    run = check_recipe("video", dataset("video-demo", n=64), TINY, tmp_path)
    assert run.step == 2
