"""The synthetic oracle of SeqGAN's first experiment (Yu et al. 2017, section "Synthetic
Data Experiments").

A randomly initialised LSTM (every parameter N(0, 1), vocabulary 5000, embedding and
hidden size 32) plays the real world: 10,000 sequences of 20 tokens drawn from it are the
training data, and because its density is known, generated text can be scored by it:
NLL_oracle = the oracle's mean per-token negative log-likelihood of generated sequences.

``ganforge data oracle --out DIR`` writes:

- ``train.txt``: the sequences, one per line, tokens spelled ``t0`` .. ``t4999`` (the text
  modality reads the folder like any corpus),
- ``oracle.safetensors`` + ``oracle.json``: the oracle itself, for ``ganforge evaluate``.

The oracle is the LSTM generator class with its start input being token 0 (like the
paper's code) and no special tokens.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

import ganforge

from .generator import Generator, LSTMGeneratorConfig
from .modality import ORACLE_CONFIG, ORACLE_WEIGHTS

FORMAT = "ganforge-text-oracle"
DATA_FILE = "train.txt"


def token_word(i: int) -> str:
    return f"t{i}"


def build_oracle(vocab_size: int = 5000, seq_len: int = 20, emb_dim: int = 32, hidden_dim: int = 32,
                 seed: int = 0) -> Generator:
    cfg = LSTMGeneratorConfig(vocab_size=vocab_size, seq_len=seq_len, emb_dim=emb_dim, hidden_dim=hidden_dim,
                              init_std=1.0, bos_id=0, eos_id=-1, pad_id=-1, banned_tokens=[])
    with torch.random.fork_rng(devices=[]):  # the oracle is a pure function of its seed
        torch.manual_seed(seed)
        return Generator(cfg).eval()


def make_oracle(out_dir, vocab_size: int = 5000, seq_len: int = 20, n: int = 10000, emb_dim: int = 32,
                hidden_dim: int = 32, seed: int = 0) -> Path:
    """Write the oracle data set to ``out_dir``; return the folder."""
    for name, value, low in (("vocab_size", vocab_size, 2), ("seq_len", seq_len, 1), ("n", n, 1),
                             ("emb_dim", emb_dim, 1), ("hidden_dim", hidden_dim, 1)):
        if not isinstance(value, int) or value < low:
            raise ganforge.GanforgeError(f"oracle option '{name}' must be a whole number >= {low}, got {value!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    oracle = build_oracle(vocab_size, seq_len, emb_dim, hidden_dim, seed)
    g = torch.Generator().manual_seed(seed + 1)
    lines = []
    for start in range(0, n, 1000):
        tokens = oracle.sample(min(1000, n - start), generator=g)
        lines.extend(" ".join(token_word(i) for i in row) for row in tokens.tolist())
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in oracle.state_dict().items()}, str(out / ORACLE_WEIGHTS))
    meta = {"format": FORMAT, "version": 1, "n": n, "seed": seed, "data": DATA_FILE,
            "token_format": "t{id}", **asdict(oracle.cfg)}
    (out / ORACLE_CONFIG).write_text(json.dumps(meta, indent=2) + "\n")
    (out / DATA_FILE).write_text("".join(line + "\n" for line in lines))
    return out


def load_oracle(folder) -> Generator:
    """The oracle stored in data folder ``folder`` (or the folder of a file in it)."""
    folder = Path(folder)
    folder = folder if folder.is_dir() else folder.parent
    try:
        meta = json.loads((folder / ORACLE_CONFIG).read_text())
    except FileNotFoundError:
        raise ganforge.GanforgeError(
            f"{folder} holds no oracle ({ORACLE_CONFIG}); make one with `ganforge data oracle --out {folder}`"
        ) from None
    except json.JSONDecodeError as e:
        raise ganforge.GanforgeError(f"{folder / ORACLE_CONFIG} is not valid JSON ({e}); remake the data set") from None
    if meta.get("format") != FORMAT:
        raise ganforge.GanforgeError(f"{folder / ORACLE_CONFIG} is not a ganforge text oracle; remake the data set")
    from safetensors.torch import load_file

    cfg = ganforge.build_config(LSTMGeneratorConfig, meta)
    with torch.random.fork_rng(devices=[]):  # loading must not move the caller's random stream
        oracle = Generator(cfg)
    try:
        oracle.load_state_dict(load_file(str(folder / ORACLE_WEIGHTS)))
    except Exception as e:  # missing, truncated or mismatched file
        raise ganforge.GanforgeError(f"{folder / ORACLE_WEIGHTS} cannot be loaded ({e}); remake the data set") from None
    return oracle.eval()


def oracle_ids(itos: list[str], oracle_vocab: int) -> torch.Tensor:
    """For each id of a run's vocabulary, the oracle's id of the same token, or -1."""
    out = torch.full((len(itos),), -1, dtype=torch.long)
    for i, word in enumerate(itos):
        if word.startswith("t") and word[1:].isdigit() and int(word[1:]) < oracle_vocab:
            out[i] = int(word[1:])
    return out
