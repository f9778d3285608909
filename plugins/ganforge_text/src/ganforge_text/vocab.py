"""The vocabulary: tokens <-> ids, learned from the training lines, stored as JSON in the run.

Ids 0..3 are the special tokens, in this order:

- ``<pad>`` fills a sequence after its end (never generated),
- ``<bos>`` is the generator's first input (never generated),
- ``<eos>`` ends a line shorter than the length cap,
- ``<unk>`` stands for a token outside the (capped) vocabulary.

Then come the data's tokens, most frequent first (ties broken alphabetically, so the
same data always gives the same ids). No torch here: the vocabulary is plain Python.

``tokens=bpe`` learns a byte-level BPE subword vocabulary from the training lines with
the ``tokenizers`` library (:class:`BPEVocabulary`, the GPT-2 scheme): every byte is in
its alphabet, so any line, however rare its words, encodes without ``<unk>``, and
decoding gives back the exact text. The trained tokenizer is kept as its JSON
(``Tokenizer.to_str()``) in the run's state.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from ganforge import GanforgeError

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3

TOKENIZERS = ("word", "char", "bpe")

#: tokens=bpe with max_vocab 0 ("all"): the vocabulary size BPE stops merging at
BPE_DEFAULT_SIZE = 30000


def tokenize(line: str, tokens: str = "word", lowercase: bool = False) -> list[str]:
    """Split one line: on whitespace (``word``) or into characters (``char``). ``bpe``
    lines are split by their trained vocabulary (:meth:`BPEVocabulary.tokenize`)."""
    if lowercase:
        line = line.lower()
    if tokens == "word":
        return line.split()
    if tokens == "char":
        return list(line)
    if tokens == "bpe":
        raise GanforgeError("bpe tokens come from the trained vocabulary: use BPEVocabulary.tokenize")
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

    def tokenize(self, line: str) -> list[str]:
        """The tokens of one (already lower-cased, where asked) line."""
        return tokenize(line, self.kind)

    def to_state(self) -> dict:
        return {"tokens": self.kind, "vocab": list(self.itos)}

    @classmethod
    def from_state(cls, state: dict) -> "Vocabulary":
        if state.get("tokens") == "bpe":
            return BPEVocabulary.from_state(state)
        return cls(state["vocab"], state.get("tokens", "word"))


def _tokenizers():
    try:
        import tokenizers
    except ImportError:
        raise GanforgeError("tokens=bpe needs the tokenizers library: pip install 'ganforge[text]' "
                            "(or pip install tokenizers)") from None
    return tokenizers


class BPEVocabulary(Vocabulary):
    """A byte-level BPE vocabulary trained on the data (``tokens=bpe``).

    Ids 0..3 are the special tokens as for words; then the 256 byte symbols, then the
    merges, up to ``max_size`` tokens besides the specials. Token strings are the
    tokenizer's (GPT-2's byte alphabet: a space before a word reads ``Ġ``)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        size = tokenizer.get_vocab_size(with_added_tokens=True)
        super().__init__([tokenizer.id_to_token(i) for i in range(size)], "bpe")

    @classmethod
    def build(cls, lines: Iterable[str], max_size: int, kind: str = "bpe") -> "BPEVocabulary":
        """Train on ``lines`` (raw text lines, not token lists)."""
        tk = _tokenizers()
        tokenizer = tk.Tokenizer(tk.models.BPE())
        tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = tk.decoders.ByteLevel()
        size = (max_size if max_size > 0 else BPE_DEFAULT_SIZE) + len(SPECIALS)
        trainer = tk.trainers.BpeTrainer(vocab_size=size, special_tokens=list(SPECIALS), show_progress=False,
                                         initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet())
        tokenizer.train_from_iterator(list(lines), trainer=trainer)
        return cls(tokenizer)

    def tokenize(self, line: str) -> list[str]:
        return self.tokenizer.encode(line, add_special_tokens=False).tokens

    def decode(self, ids: Sequence[int]) -> str:
        """The text of one sequence: stops at ``<eos>`` / ``<pad>``; bytes that do not
        make UTF-8 (a generated sequence can split a character) read U+FFFD."""
        out = []
        for i in ids:
            i = int(i)
            if i in (EOS_ID, PAD_ID):
                break
            if i != BOS_ID and 0 <= i < len(self.itos):
                out.append(i)
        return self.tokenizer.decode(out, skip_special_tokens=False)

    def to_state(self) -> dict:
        return {"tokens": "bpe", "vocab": list(self.itos), "bpe": self.tokenizer.to_str()}

    @classmethod
    def from_state(cls, state: dict) -> "BPEVocabulary":
        if "bpe" not in state:
            raise GanforgeError("the run's BPE vocabulary is missing (no 'bpe' in its modality state); retrain the run")
        return cls(_tokenizers().Tokenizer.from_str(state["bpe"]))
