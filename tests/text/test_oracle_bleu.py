"""The synthetic oracle data set, and BLEU / self-BLEU against a direct computation."""

import json
import math
import random
from collections import Counter

import pytest
import torch

import ganforge
from ganforge_text.bleu import bleu, self_bleu
from ganforge_text.oracle import load_oracle, make_oracle


def test_oracle_data_set_files(oracle_dir):
    meta = json.loads((oracle_dir / "oracle.json").read_text())
    assert meta["vocab_size"] == 30 and meta["seq_len"] == 8 and meta["init_std"] == 1.0
    lines = (oracle_dir / "train.txt").read_text().splitlines()
    assert len(lines) == 200
    assert all(len(l.split()) == 8 and all(t[0] == "t" and int(t[1:]) < 30 for t in l.split()) for l in lines)


def test_oracle_is_reproducible_and_likes_its_own_samples(oracle_dir, tmp_path):
    again = make_oracle(tmp_path / "again", vocab_size=30, seq_len=8, n=200, seed=3)
    assert (again / "train.txt").read_text() == (oracle_dir / "train.txt").read_text()
    oracle = load_oracle(oracle_dir)
    x = oracle.sample(500, generator=torch.Generator().manual_seed(0))
    nll_own = oracle.nll(x).item()
    assert nll_own < math.log(30)  # a uniform model's NLL per token
    uniform = torch.randint(0, 30, (500, 8), generator=torch.Generator().manual_seed(0))
    assert nll_own < oracle.nll(uniform).item()


def test_paper_sized_oracle_is_peaked():
    from ganforge_text.oracle import build_oracle

    oracle = build_oracle(vocab_size=5000, seq_len=20)
    x = oracle.sample(64, generator=torch.Generator().manual_seed(0))
    assert oracle.nll(x).item() < math.log(5000) - 1.5  # N(0, 1) weights: far from uniform


def test_oracle_errors(tmp_path):
    with pytest.raises(ganforge.GanforgeError, match="ganforge data oracle"):
        load_oracle(tmp_path)
    with pytest.raises(ganforge.GanforgeError, match="vocab_size"):
        make_oracle(tmp_path / "x", vocab_size=1)


# ---------------------------------------------------------------------- BLEU


def _ngrams(s, n):
    return Counter(tuple(s[i : i + n]) for i in range(len(s) - n + 1))


def reference_sentence_bleu(refs, hyp, n_max):
    """Papineni et al. written out as nltk's sentence_bleu with method1 smoothing does it."""
    logs = []
    for n in range(1, n_max + 1):
        counts = _ngrams(hyp, n)
        max_ref = Counter()
        for r in refs:
            for g, k in _ngrams(r, n).items():
                max_ref[g] = max(max_ref[g], k)
        num = sum(min(k, max_ref[g]) for g, k in counts.items())
        den = max(1, sum(counts.values()))
        if n == 1 and num == 0:
            return 0.0
        logs.append(math.log((num or 0.1) / den))
    r = min((len(x) for x in refs), key=lambda L: (abs(L - len(hyp)), L))
    bp = 1.0 if len(hyp) > r else math.exp(1 - r / len(hyp))
    return bp * math.exp(sum(logs) / n_max)


def _random_sentences(rng, k):
    return [[rng.choice("abcde") for _ in range(rng.randint(3, 9))] for _ in range(k)]


def test_bleu_matches_direct_computation():
    rng = random.Random(0)
    refs, hyps = _random_sentences(rng, 30), _random_sentences(rng, 20)
    got = bleu(hyps, refs)
    for n in (2, 3, 4, 5):
        want = sum(reference_sentence_bleu(refs, h, n) for h in hyps) / len(hyps)
        assert got[n] == pytest.approx(want, abs=1e-12)


def test_self_bleu_matches_leave_one_out():
    rng = random.Random(1)
    sents = _random_sentences(rng, 25) + [["a", "b", "c", "d"]] * 2  # duplicates: ties in counts
    got = self_bleu(sents)
    for n in (2, 3, 4, 5):
        want = sum(reference_sentence_bleu(sents[:i] + sents[i + 1 :], s, n) for i, s in enumerate(sents)) / len(sents)
        assert got[n] == pytest.approx(want, abs=1e-12)


def test_bleu_extremes():
    s = [["the", "cat", "sat", "on", "the", "mat"]]
    assert bleu(s, s)[4] == pytest.approx(1.0)
    assert bleu([["x", "y", "z"]], s)[2] == 0.0
