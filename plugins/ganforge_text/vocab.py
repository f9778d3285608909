"""The vocabulary: tokens <-> ids, learned from the training lines, stored as JSON in the run.

Ids 0..3 are the special tokens, in this order:

- ``<pad>`` fills a sequence after its end (never generated),
- ``<bos>`` is the generator's first input (never generated),
- ``<eos>`` ends a line shorter than the length cap,
- ``<unk>`` stands for a token outside the (capped) vocabulary.

Then come the data's tokens, most frequent first (ties broken alphabetically, so the
same data always gives the same ids). No torch here: the vocabulary is plain Python.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from ganforge import GanforgeError

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3

TOKENIZERS = ("word", "char")


def tokenize(line: str, tokens: str = "word", lowercase: bool = False) -> list[str]:
    """Split one line: on whitespace (``word``) or into characters (``char``)."""
    if lowercase:
        line = line.lower()
    if tokens == "word":
        return line.split()
    if tokens == "char":
        return list(line)
    raise GanforgeError(f"option 'tokens' must be one of {', '.join(TOKENIZERS)}, got {tokens!r}")


class Vocabulary:
    def __init__(self, tokens: Sequence[str], kind: str = "word"):
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise GanforgeError("the run's vocabulary is damaged (special tokens missing); retrain the run")
        self.itos = list(tokens)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.kind = kind

    @classmethod
    def build(cls, lines: Iterable[list[str]], max_size: int, kind: str = "word") -> "Vocabulary":
        """The ``max_size`` most frequent tokens of ``lines`` (specials not counted)."""
        counts = Counter(t for line in lines for t in line)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if max_size > 0:
            ranked = ranked[:max_size]
        return cls(list(SPECIALS) + [t for t, _ in ranked], kind)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str], length: int) -> list[int]:
        """Ids of ``tokens`` padded to ``length``: ``<eos>`` after the last token when there
        is room, then ``<pad>``. A longer line is cut at ``length`` (no ``<eos>``)."""
        ids = [self.stoi.get(t, UNK_ID) for t in tokens[:length]]
        if len(ids) < length:
            ids.append(EOS_ID)
        return ids + [PAD_ID] * (length - len(ids))

    def decode(self, ids: Sequence[int]) -> str:
        """The text of one sequence: stops at ``<eos>`` / ``<pad>``; ``<unk>`` is kept visible."""
        out = []
        for i in ids:
            i = int(i)
            if i in (EOS_ID, PAD_ID):
                break
            if i == BOS_ID:
                continue
            out.append(self.itos[i] if 0 <= i < len(self.itos) else UNK)
        return ("" if self.kind == "char" else " ").join(out)

    def to_state(self) -> dict:
        return {"tokens": self.kind, "vocab": list(self.itos)}

    @classmethod
    def from_state(cls, state: dict) -> "Vocabulary":
        return cls(state["vocab"], state.get("tokens", "word"))
