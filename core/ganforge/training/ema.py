"""The generator's exponential moving average (Karras et al.; StyleGAN2's ramp-up)."""

from __future__ import annotations

import torch


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, beta: float) -> None:
    """Parameters move towards the model's; buffers are copied (a StyleGAN ``w_avg``, a
    fade-in alpha and batch-norm statistics belong to the current model, not an average)."""
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - beta)  # one fused launch
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)


def ema_beta(beta: float, rampup: float, step: int) -> float:
    """With a ramp-up, early weights (poor) are averaged over at most ``rampup`` of the
    steps so far: the half-life is capped at ``step * rampup``."""
    if rampup > 0:
        return min(beta, 0.5 ** (1.0 / max(step * rampup, 1e-8)))
    return beta


@torch.no_grad()
def recalibrate_batch_norm(generator: torch.nn.Module, sample, batches: int = 8) -> None:
    """Give an averaged generator batch-norm statistics that match its own weights.

    The statistics copied from the trained generator describe *its* activations, not the
    EMA weights'; a few forward passes of the EMA generator re-estimate them (a cumulative
    average). ``sample()`` runs one batch. Generators without batch norm are untouched."""
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    generator.train()
    for _ in range(batches):
        sample()
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    generator.eval()
