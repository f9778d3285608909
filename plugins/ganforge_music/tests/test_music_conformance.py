"""ganforge's conformance kit over everything the music plugin registers: one test per check."""

from music_tiny import TINY
from ganforge.testing import check_recipe, dataset, parametrize_with_checks


@parametrize_with_checks("music", data=dataset("band", n=4), overrides=TINY)
def test_conformance(check, tmp_path):
    check(tmp_path)


def test_the_recipe_trains_and_generates(tmp_path):
    run = check_recipe("musegan", dataset("band", n=4), TINY, tmp_path)
    assert run.step == 2
