"""Text metrics for ``ganforge evaluate``: BLEU, self-BLEU, NLL_gen, NLL_oracle.

- ``bleu``: BLEU-2..5 of generated lines against every line of ``--data``; when ``--data``
  is the run's own training data, against its held-out lines (``holdout``), which
  training never saw. ``eval_lines`` says how many lines were used. Higher: closer to
  the data.
- ``self-bleu``: BLEU-2..5 of each generated line against the other generated lines.
  Higher: less diverse.
- ``nll-gen``: the generator's mean per-token negative log-likelihood of the same lines
  as ``bleu``. Lower: the model covers the data better.
- ``nll-oracle``: on the synthetic oracle data (``ganforge data oracle``), the oracle's
  mean per-token NLL of generated sequences (SeqGAN's measure; lower is better; the
  paper reports random 10.310, MLE 9.038, SeqGAN 8.736).
"""

from __future__ import annotations

import torch

import ganforge

from .bleu import bleu as _bleu
from .bleu import self_bleu as _self_bleu
from .modality import holds_oracle
from .oracle import load_oracle, oracle_ids


def _text_modality(ctx):
    modality = ctx.modality
    if getattr(modality, "vocab", None) is None or not hasattr(modality, "read_lines"):
        raise ganforge.GanforgeError("text metrics need a run of the text modality (a seqgan recipe)")
    return modality


def _tokens(modality, x: torch.Tensor) -> list[list[str]]:
    return modality.bleu_tokens(x)


def _which_lines(ctx, modality) -> tuple[bool, str]:
    """(held_out, description): the run's own training data is scored on its held-out
    lines; any other file on all its lines (the run's ``holdout`` is not applied to it)."""
    if ctx.is_training_data and float(modality.config.get("holdout", 0.0)) > 0:
        return True, f"the held-out lines of the training data {ctx.data_path.name}"
    return False, f"all lines of {ctx.data_path.name}"


def _eval_lines(ctx, modality) -> tuple[list[list[str]], dict]:
    held_out, what = _which_lines(ctx, modality)
    lines = modality.evaluation_lines(ctx.data_path, held_out=held_out)
    return lines, {"eval_lines": len(lines), "eval_lines_from": what}


def bleu(ctx) -> dict:
    """BLEU-2..5 of generated lines against every line of ``--data`` (the held-out lines
    when ``--data`` is the run's training data)."""
    modality = _text_modality(ctx)
    held_out, what = _which_lines(ctx, modality)
    refs = modality.references(ctx.data_path, held_out=held_out)
    scores = _bleu(_tokens(modality, ctx.fake), refs)
    return {**{f"bleu{n}": v for n, v in scores.items()}, "eval_lines": len(refs), "eval_lines_from": what}


def self_bleu(ctx) -> dict:
    """Self-BLEU-2..5 of the generated lines (diversity: lower is more diverse)."""
    modality = _text_modality(ctx)
    fake = ctx.fake
    if len(fake) < 2:
        raise ganforge.GanforgeError("self-BLEU needs at least 2 generated lines; raise -n")
    scores = _self_bleu(_tokens(modality, fake))
    return {f"self_bleu{n}": v for n, v in scores.items()}


@torch.no_grad()
def nll_gen(ctx) -> dict:
    """The generator's per-token NLL of the evaluation lines (as for ``bleu``).

    Lines holding a token the run never generates (an ``<unk>`` in held-out text when the
    training text had none) have infinite NLL; they are left out and counted."""
    modality = _text_modality(ctx)
    lines, counted = _eval_lines(ctx, modality)
    x = modality.encode(lines)
    G = ctx.pipeline.generator
    device = next(G.parameters()).device
    banned = torch.isinf(G.logit_mask.cpu()).nonzero().flatten()
    impossible = (torch.isin(x, banned) & G.mask(x)).any(1)
    x = x[~impossible]
    if len(x) == 0:
        raise ganforge.GanforgeError(f"every line of {ctx.data_path} holds a token this run never generates (<unk>)")
    total, count = 0.0, 0
    for s in range(0, len(x), ctx.batch_size):
        part = x[s : s + ctx.batch_size].to(device)
        total += -G.log_prob(part).sum().item()
        count += int(G.mask(part).sum().item())
    out = {"nll_gen": total / max(count, 1), **counted}
    if impossible.any():
        out["nll_gen_skipped_lines"] = int(impossible.sum())
    return out


@torch.no_grad()
def nll_oracle(ctx) -> dict:
    """The oracle's per-token NLL of generated sequences (synthetic oracle data only)."""
    modality = _text_modality(ctx)
    if not holds_oracle(ctx.data_path):
        raise ganforge.GanforgeError(
            f"nll-oracle needs --data to be an oracle data set (made by `ganforge data oracle`); "
            f"{ctx.data_path} holds no oracle.json / oracle.safetensors"
        )
    oracle = load_oracle(ctx.data_path)
    fake = ctx.fake
    if fake.shape[1] != oracle.cfg.seq_len:
        raise ganforge.GanforgeError(
            f"this run makes sequences of {fake.shape[1]} tokens but the oracle's are {oracle.cfg.seq_len}; "
            f"train on the oracle data with --set max_len={oracle.cfg.seq_len}"
        )
    mapping = oracle_ids(modality.vocab.itos, oracle.cfg.vocab_size)
    ids = mapping[fake]
    if (ids < 0).any():
        raise ganforge.GanforgeError(
            "the run generated tokens the oracle does not know (<eos>/<unk>); train on the oracle data "
            f"with --set max_len={oracle.cfg.seq_len} and max_vocab >= {oracle.cfg.vocab_size}"
        )
    total = 0.0
    for s in range(0, len(ids), ctx.batch_size):
        total += -oracle.log_prob(ids[s : s + ctx.batch_size]).sum().item()
    return {"nll_oracle": total / ids.numel()}
