"""BLEU and self-BLEU in plain Python (no nltk).

The text-GAN literature (SeqGAN, LeakGAN, TextGAN-PyTorch, Texygen) reports BLEU-n as the
mean over generated sentences of the sentence-level BLEU against *all* reference lines:
clipped n-gram precisions (each n-gram counted at most as often as it occurs in any one
reference), geometric mean with uniform weights 1/n, brevity penalty against the
reference length closest to the hypothesis, and nltk's "method1" smoothing (a zero match
count becomes 0.1). These functions compute exactly that, but precompute each n-gram's
maximum reference count once instead of rescanning the references per sentence.

Self-BLEU (Zhu et al. 2018, Texygen) scores each generated sentence against the other
generated sentences: higher means less diverse.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

EPSILON = 0.1  # nltk SmoothingFunction().method1


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _closest_length(lengths: Counter, hyp_len: int) -> int:
    return min(lengths, key=lambda r: (abs(r - hyp_len), r))


def _score(hyp: Sequence[str], max_n: int, ref_max, ref_len: int) -> float:
    """Sentence BLEU-max_n given ``ref_max(n, ngram) -> max reference count``."""
    c = len(hyp)
    if c == 0:
        return 0.0
    log_sum = 0.0
    for n in range(1, max_n + 1):
        counts = _ngrams(hyp, n)
        total = max(1, sum(counts.values()))
        matched = sum(min(k, ref_max(n, g)) for g, k in counts.items())
        if n == 1 and matched == 0:
            return 0.0  # nltk: no unigram in common scores 0 whatever the smoothing
        log_sum += math.log((matched if matched else EPSILON) / total)
    bp = 1.0 if c > ref_len else math.exp(1 - ref_len / c)
    return bp * math.exp(log_sum / max_n)


class ReferenceSet:
    """References prepared once: per n-gram the largest count in any one reference."""

    def __init__(self, references: Sequence[Sequence[str]], max_n: int = 5):
        if not references:
            raise ValueError("BLEU needs at least one reference")
        self.max_n = max_n
        self.max_counts: list[dict] = [dict() for _ in range(max_n + 1)]
        for ref in references:
            for n in range(1, max_n + 1):
                table = self.max_counts[n]
                for g, k in _ngrams(ref, n).items():
                    if k > table.get(g, 0):
                        table[g] = k
        self.lengths = Counter(len(r) for r in references)

    def sentence_bleu(self, hyp: Sequence[str], n: int) -> float:
        return _score(hyp, n, lambda m, g: self.max_counts[m].get(g, 0), _closest_length(self.lengths, len(hyp)))


def bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]],
         orders: Sequence[int] = (2, 3, 4, 5)) -> dict[int, float]:
    """Mean sentence BLEU-n of ``hypotheses`` against all ``references``, for each n."""
    refs = ReferenceSet(references, max(orders))
    return {n: sum(refs.sentence_bleu(h, n) for h in hypotheses) / max(len(hypotheses), 1) for n in orders}


def self_bleu(sentences: Sequence[Sequence[str]], orders: Sequence[int] = (2, 3, 4, 5)) -> dict[int, float]:
    """Mean sentence BLEU-n of each sentence against all the others (leave one out)."""
    if len(sentences) < 2:
        raise ValueError("self-BLEU needs at least two sentences")
    max_n = max(orders)
    # per n-gram: the largest count, the sentence holding it, and the second largest
    top: list[dict] = [dict() for _ in range(max_n + 1)]
    for i, s in enumerate(sentences):
        for n in range(1, max_n + 1):
            table = top[n]
            for g, k in _ngrams(s, n).items():
                best = table.get(g)
                if best is None:
                    table[g] = (k, i, 0)
                elif k > best[0]:
                    table[g] = (k, i, best[0])
                elif k > best[2]:
                    table[g] = (best[0], best[1], k)
    lengths = Counter(len(s) for s in sentences)
    out = {}
    for n in orders:
        total = 0.0
        for i, s in enumerate(sentences):
            def ref_max(m, g, i=i):
                first, holder, second = top[m].get(g, (0, -1, 0))
                return second if holder == i else first

            others = lengths.copy()
            others[len(s)] -= 1
            others = +others  # drop zero counts
            total += _score(s, n, ref_max, _closest_length(others, len(s)))
        out[n] = total / len(sentences)
    return out
