"""Which lines `ganforge evaluate` scores a text run against.

The run's ``holdout`` splits its training data. It used to be applied to every
evaluation file too: `evaluate --data test.txt` on a run with holdout=0.1 scored
against 212 of test.txt's 2,124 lines."""

import random

from ganforge.metrics import evaluate

WORDS = "the a cat dog bird sat ran on over to mat log house park big small".split()


def lines(n, seed):
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))) for _ in range(n)]


def test_an_evaluation_file_is_scored_on_all_its_lines(tmp_path, train_tiny):
    train = tmp_path / "train.txt"
    train.write_text("\n".join(lines(40, 0)) + "\n")
    test = tmp_path / "test.txt"
    test.write_text("\n".join(lines(30, 1)) + "\n")
    train_tiny("seqgan", train, tmp_path / "run", holdout=0.1)

    out = evaluate(tmp_path / "run", test, metrics=["bleu", "nll-gen"], n=8)
    assert out["eval_lines"] == 30  # all of them, not the 3 a 10% holdout would leave
    assert out["eval_lines_from"] == "all lines of test.txt"

    # the run's own training data: scored on the 4 lines training never saw
    own = evaluate(tmp_path / "run", train, metrics=["bleu", "nll-gen"], n=8)
    assert own["eval_lines"] == 4
    assert "held-out" in own["eval_lines_from"]
