"""The text modality: one sample per line, from a .txt file or a folder of them.

Lines become LongTensors ``[N, seq_len]`` of vocabulary ids (see ``vocab.py``): the
line's tokens, ``<eos>`` when the line is shorter than the length cap, then ``<pad>``.
The vocabulary is learned from the training lines and kept in ``state`` (stored in the
run's ``ganforge.json``), so a trained run reads and writes text with the same ids.

``holdout`` keeps a fixed fraction of the lines out of training (the same lines every
time the same data is read); BLEU scores generated text against them.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Sequence

import torch

import ganforge

from .vocab import BOS_ID, EOS_ID, PAD_ID, TOKENIZERS, UNK_ID, Vocabulary, tokenize

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
        root = Path(path)
        files = ganforge.data_files(root, (".txt",), "text")
        report = ganforge.DataReport("text")
        lines: list[list[str]] = []
        for f in files:
            try:
                text = f.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError) as e:
                report.skip(f, type(e).__name__)
                continue
            good = [tokenize(line, self.tokens_kind, self.lowercase) for line in text.splitlines() if line.strip()]
            if not good:
                report.skip(f, "no text lines")
                continue
            lines.extend(good)
        report.finish(len(lines), root)
        holdout = float(self._option("holdout", 0.0))
        if not 0.0 <= holdout < 1.0:
            raise ganforge.GanforgeError(f"option 'holdout' must be a fraction in [0, 1), got {holdout}")
        n_hold = int(len(lines) * holdout)
        if n_hold == 0:
            return lines, []
        order = list(range(len(lines)))
        random.Random(0).shuffle(order)  # fixed: evaluation must find the same held-out lines
        held = set(order[:n_hold])
        return [l for i, l in enumerate(lines) if i not in held], [lines[i] for i in sorted(held)]

    def load(self, path) -> ganforge.SampleSet:
        train, _ = self.read_lines(path)
        if self.vocab is None:
            max_len = int(self._option("max_len", 32))
            if max_len < 1:
                raise ganforge.GanforgeError(f"option 'max_len' must be at least 1, got {max_len}")
            self.vocab = Vocabulary.build(train, int(self._option("max_vocab", 10000)), self.tokens_kind)
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
        else:
            x = self.encode(train)
        return ganforge.SampleSet({"x": x})

    @staticmethod
    def _inside(x: torch.Tensor) -> torch.Tensor:
        ended = (x == EOS_ID).long()
        return (ended.cumsum(1) - ended) == 0

    def encode(self, lines: Sequence[list[str]]) -> torch.Tensor:
        T = int(self.state["seq_len"])
        return torch.tensor([self.vocab.encode(l, T) for l in lines], dtype=torch.long).reshape(len(lines), T)

    def decode(self, x: torch.Tensor) -> list[str]:
        return [self.vocab.decode(row) for row in x.tolist()]

    def references(self, path) -> list[list[str]]:
        """Held-out lines of ``path`` (all its lines when nothing is held out), as the
        tokens the model can produce (out-of-vocabulary tokens read ``<unk>``)."""
        train, held = self.read_lines(path)
        lines = held or train
        unk = self.vocab.itos[UNK_ID]
        return [[t if t in self.vocab.stoi else unk for t in l] for l in lines]

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

    def save_preview(self, x: torch.Tensor, path) -> list[Path]:
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
