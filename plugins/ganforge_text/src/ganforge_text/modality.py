"""The text modality: one sample per line, from a .txt file or a folder of them.

Lines become LongTensors ``[N, seq_len]`` of vocabulary ids (see ``vocab.py``): the
line's tokens (``tokens``: bpe subwords, words or characters), ``<eos>`` when the line
is shorter than the length cap, then ``<pad>``. A token that never occurs inside a
training line is never generated (for bpe: the bytes the data lacks, a newline among
them; new words made of seen bytes can be).
The vocabulary is learned from the training lines and kept in ``state`` (stored in the
run's ``ganforge.json``), so a trained run reads and writes text with the same ids.

Files are decoded line by line: a line that is not UTF-8 is skipped (counted, the first
named as file:line), not the whole file. A ``metadata.jsonl`` / ``metadata.csv`` beside
the files whose ``file_name`` names a .txt file gives each of its lines that ``text`` as
a caption (the ``text`` field, as images and audio have it).

``holdout`` keeps a fixed fraction of the lines out of training (the same lines every
time the same data is read); BLEU scores generated text against them.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Sequence

import torch

import ganforge

from .vocab import BOS_ID, EOS_ID, PAD_ID, SPECIALS, TOKENIZERS, UNK_ID, BPEVocabulary, Vocabulary, tokenize

ORACLE_CONFIG = "oracle.json"
ORACLE_WEIGHTS = "oracle.safetensors"


def holds_oracle(path) -> bool:
    """Whether ``path`` (a data folder, or a file in one) holds a synthetic oracle."""
    if path is None:
        return False
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    return (folder / ORACLE_CONFIG).is_file() and (folder / ORACLE_WEIGHTS).is_file()


class TextModality(ganforge.Modality):
    result_kind = "texts"
    file_kind = "TXT"

    def __init__(self, config: dict, state: dict | None = None):
        super().__init__(config, state)
        self.vocab = Vocabulary.from_state(self.state) if "vocab" in self.state else None

    # ------------------------------------------------------------------ options

    def _option(self, key, default):
        return self.config.get(key, default)

    @property
    def tokens_kind(self) -> str:
        kind = self.state.get("tokens") or self._option("tokens", "word")
        if kind not in TOKENIZERS:
            raise ganforge.GanforgeError(f"option 'tokens' must be one of {', '.join(TOKENIZERS)}, got {kind!r}")
        return kind

    @property
    def lowercase(self) -> bool:
        return bool(self.state.get("lowercase", self._option("lowercase", False)))

    # ------------------------------------------------------------------ reading

    def read_lines(self, path) -> tuple[list[list[str]], list[list[str]]]:
        """Tokenised lines of ``path``, split into (training, held-out)."""
        (train, _), (held, _) = self._read_split(path)
        return self._tokenise(train), self._tokenise(held)

    def _tokenise(self, lines: Sequence[str]) -> list[list[str]]:
        """Text lines -> token lists (bpe: by the trained vocabulary)."""
        if self.vocab is not None:
            return [self.vocab.tokenize(line) for line in lines]
        if self.tokens_kind == "bpe":
            raise ganforge.GanforgeError("bpe lines are split by the vocabulary; load the training data first")
        return [tokenize(line, self.tokens_kind) for line in lines]

    def _read_split(self, path):
        """((training lines, their captions), (held-out lines, their captions)); the
        captions are None when the data has no metadata naming its .txt files."""
        lines, captions = self._read(path)
        holdout = float(self._option("holdout", 0.0))
        if not 0.0 <= holdout < 1.0:
            raise ganforge.GanforgeError(f"option 'holdout' must be a fraction in [0, 1), got {holdout}")
        n_hold = int(len(lines) * holdout)
        order = list(range(len(lines)))
        random.Random(0).shuffle(order)  # fixed: evaluation must find the same held-out lines
        held = set(order[:n_hold])
        train_idx = [i for i in range(len(lines)) if i not in held]
        held_idx = sorted(held)

        def pick(index):
            return [lines[i] for i in index], (None if captions is None else [captions[i] for i in index])

        return pick(train_idx), pick(held_idx)

    def _read(self, path) -> tuple[list[str], list[str] | None]:
        """Every non-blank line of the .txt files under ``path`` (lower-cased when asked), and each line's
        caption: the ``text`` that metadata.jsonl / metadata.csv gives its file (None when
        no metadata names a .txt file)."""
        root = Path(path)
        files = ganforge.data_files(root, (".txt",), "text")
        base = root if root.is_dir() else root.parent
        report = ganforge.DataReport("text")
        lines: list[str] = []
        sources: list[Path] = []
        for f in files:
            n_bad = len(report.skipped_lines)
            numbered = report.text_lines(f)  # decoded line by line: a bad byte costs one line
            if numbered is None:
                continue  # unreadable or UTF-16: counted by the report
            good = [line.lower() if self.lowercase else line for _, line in numbered if line.strip()]
            if not good:
                if len(report.skipped_lines) > n_bad:
                    report.skip(f, "no line is UTF-8")
                else:
                    report.skip(f, "no text lines", kind="empty")
                continue
            lines.extend(good)
            sources.extend([f] * len(good))
        report.finish(len(lines), root)
        return lines, self._captions(base, files, sources, recursive=root.is_dir())

    @staticmethod
    def _captions(base: Path, files: list[Path], sources: list[Path], recursive: bool) -> list[str] | None:
        """Each line's caption from the metadata beside the files (the Hugging Face
        convention images and audio follow), or None when no metadata names a .txt file."""
        table = ganforge.read_captions(base, recursive=recursive)
        by_file = {f: table.get(f.relative_to(base).as_posix()) for f in files}
        if all(c is None for c in by_file.values()):
            return None
        missing = sorted({f.relative_to(base).as_posix() for f in sources if by_file[f] is None})
        if missing:
            print(f"warning: {len(missing)} text file(s) have no caption in metadata.jsonl/metadata.csv "
                  f"(first: {missing[0]}); their lines get an empty caption", file=sys.stderr)
        return [by_file[f] or "" for f in sources]

    def load(self, path) -> ganforge.SampleSet:
        (train_text, captions), _ = self._read_split(path)
        if self.vocab is None:
            max_len = int(self._option("max_len", 32))
            if max_len < 1:
                raise ganforge.GanforgeError(f"option 'max_len' must be at least 1, got {max_len}")
            max_vocab = int(self._option("max_vocab", 10000))
            if self.tokens_kind == "bpe":
                self.vocab = BPEVocabulary.build(train_text, max_vocab)
                train = self._tokenise(train_text)
            else:
                train = self._tokenise(train_text)
                self.vocab = Vocabulary.build(train, max_vocab, self.tokens_kind)
            lengths = {len(l) for l in train}
            if len(lengths) == 1:  # fixed-length data (the oracle's): no <eos> needed
                seq_len = max(1, min(max_len, lengths.pop()))
            else:  # room for <eos> after the longest line, unless lines are cut
                seq_len = max(1, min(max_len, max(lengths) + 1))
            self.state.update(self.vocab.to_state(), seq_len=seq_len, lowercase=self.lowercase,
                              oracle=holds_oracle(path))
            x = self.encode(train)
            # ids that never occur inside a training line are never generated
            seen = set(torch.unique(x[self._inside(x)]).tolist())
            self.state["banned_tokens"] = [PAD_ID, BOS_ID] + [i for i in (EOS_ID, UNK_ID) if i not in seen]
            if self.tokens_kind == "bpe":  # nor the bytes the data never has (merges of seen bytes stay)
                itos = self.vocab.itos
                seen_bytes = set("".join(itos[i] for i in seen if i >= len(SPECIALS)))
                self.state["banned_tokens"] += [i for i in range(len(SPECIALS), len(itos))
                                                if not set(itos[i]) <= seen_bytes]
        else:
            x = self.encode(self._tokenise(train_text))
        fields = {"x": x}
        if captions is not None:
            fields["text"] = captions  # what a text-conditional recipe conditions on
        return ganforge.SampleSet(fields)

    @staticmethod
    def _inside(x: torch.Tensor) -> torch.Tensor:
        ended = (x == EOS_ID).long()
        return (ended.cumsum(1) - ended) == 0

    def encode(self, lines: Sequence[list[str]]) -> torch.Tensor:
        T = int(self.state["seq_len"])
        return torch.tensor([self.vocab.encode(l, T) for l in lines], dtype=torch.long).reshape(len(lines), T)

    def decode(self, x: torch.Tensor) -> list[str]:
        return [self.vocab.decode(row) for row in x.tolist()]

    def evaluation_lines(self, path, held_out: bool = False) -> list[list[str]]:
        """The tokenised lines to score a run against.

        ``held_out=True`` (``path`` is the run's own training data): its held-out lines,
        the ones training never saw (all its lines when nothing was held out). Otherwise
        every line of ``path``: ``holdout`` splits training data, not an evaluation file.
        """
        return self._tokenise(self._evaluation_text(path, held_out))

    def _evaluation_text(self, path, held_out: bool) -> list[str]:
        if held_out:
            (train, _), (held, _) = self._read_split(path)
            return held or train
        return self._read(path)[0]

    def references(self, path, held_out: bool = True) -> list[list[str]]:
        """:meth:`evaluation_lines` as BLEU compares them: the tokens the model can produce
        (out-of-vocabulary tokens read ``<unk>``); for ``bpe``, the words of the lines
        (BLEU counts word n-grams whatever the model's tokens)."""
        if self.tokens_kind == "bpe":
            return [line.split() for line in self._evaluation_text(path, held_out)]
        unk = self.vocab.itos[UNK_ID]
        return [[t if t in self.vocab.stoi else unk for t in l] for l in self.evaluation_lines(path, held_out)]

    def bleu_tokens(self, x: torch.Tensor) -> list[list[str]]:
        """Generated sequences as BLEU compares them with :meth:`references`."""
        if self.tokens_kind == "bpe":
            return [line.split() for line in self.decode(x)]
        out = []
        for row in x.tolist():
            line = []
            for i in row:
                if i in (EOS_ID, PAD_ID):
                    break
                line.append(self.vocab.itos[i])
            out.append(line)
        return out

    def derived_config(self) -> dict:
        if self.vocab is None:
            return {}
        return {
            "vocab_size": len(self.vocab),
            "seq_len": int(self.state["seq_len"]),
            "pad_id": PAD_ID,
            "bos_id": BOS_ID,
            "eos_id": EOS_ID,
            "banned_tokens": list(self.state.get("banned_tokens", [PAD_ID, BOS_ID])),
        }

    # ------------------------------------------------------------------ writing

    def to_user(self, x: torch.Tensor) -> list[str]:
        return self.decode(x)

    def save_samples(self, x: torch.Tensor, out_dir, names: Sequence[str] = (), metadata: Sequence[dict] = (),
                     append: bool = False) -> list[Path]:
        """One TXT file, ``samples.txt``, one generated line per sample."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "samples.txt"
        with open(path, "a" if append else "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in self.decode(x)))
        return [path] * len(x)

    def save_preview(self, x: torch.Tensor, path, labels=None) -> list[Path]:
        """A numbered listing of the batch, ``path`` + ``.txt``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        out = path.with_name(path.name + ".txt")
        out.write_text("".join(f"{i:4d}  {line}\n" for i, line in enumerate(self.decode(x))), encoding="utf-8")
        return [out]

    # ------------------------------------------------------------------ evaluation

    @property
    def default_metrics(self) -> tuple[str, ...]:
        if self.state.get("oracle"):
            return ("nll-oracle", "nll-gen")
        return ("bleu", "self-bleu", "nll-gen")
