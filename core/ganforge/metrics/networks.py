"""Feature networks trained on the data's own domain, for metrics that need no download.

Frechet distance and KID are only as good as the feature space they are computed in.
Inception features do not exist offline, and they are meaningless for spectrograms or
toy data anyway. A small classifier trained for a few hundred steps on the real data
(on its class labels, or on a pretext task such as predicting which of four rotations
an image was given) gives features that separate what matters in that domain.

The convention a feature network follows:

- ``net(x)`` returns class logits ``[B, C]``: that is what :func:`fit_feature_network`
  trains with cross-entropy.
- ``net.features(x)`` returns the features ``[B, F]`` (anything with more dimensions is
  flattened). Without a ``features`` method, the features are the input of the last
  ``nn.Linear`` layer, that is the penultimate activation of a classifier.

Numbers are comparable only within one feature space: a modality names the space
(for example ``"rotnet-32x32-seed0"``) and ``ganforge evaluate`` prints the name
beside every figure.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GanforgeError


def fit_feature_network(net, x: torch.Tensor, y: torch.Tensor, steps: int = 300, batch_size: int = 64,
                        lr: float = 1e-3, seed: int = 0, weight_decay: float = 0.0,
                        transform: Callable[[torch.Tensor], torch.Tensor] | None = None) -> nn.Module:
    """Train ``net`` as a classifier of ``x`` into classes ``y`` and return it in eval mode.

    ``net`` is an ``nn.Module`` whose forward returns logits, or a zero-argument callable
    that builds one (then its initial weights are seeded too). ``x`` holds the samples
    ([N, ...], model space unless ``transform`` maps each batch there), ``y`` the class
    indices [N]. Adam for ``steps`` minibatches drawn with replacement.

    The result depends only on ``seed`` (and the initial weights): the minibatch order
    comes from a generator seeded with it, and initialisation (for a factory) and dropout
    run under forked, seeded global RNGs, so the caller's random state is left as it was.
    (On a GPU, cuDNN kernels may still add run-to-run noise.) The losses of every step are
    kept in ``net.fit_losses`` (to check that training did something).
    """
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise GanforgeError("fit_feature_network needs tensors x [N, ...] and y [N]")
    if y.dim() != 1 or len(y) != len(x):
        raise GanforgeError(f"fit_feature_network: y must be [N] class indices for x of length {len(x)}; got {tuple(y.shape)}")
    if len(x) == 0:
        raise GanforgeError("fit_feature_network: no samples to train the feature network on")
    if steps < 0 or batch_size < 1:
        raise GanforgeError(f"fit_feature_network: steps must be >= 0 and batch_size >= 1 (got {steps}, {batch_size})")
    y = y.long()
    order = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    # Fork the CPU RNG and the current CUDA device's (a net built or trained on the GPU
    # draws dropout there); manual_seed seeds both.
    cuda = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        if not isinstance(net, nn.Module):
            net = net()
        device = next(net.parameters()).device
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
        net.train()
        for _ in range(steps):
            idx = torch.randint(len(x), (min(batch_size, len(x)),), generator=order)
            xb = x[idx]
            if transform is not None:
                xb = transform(xb)
            xb, yb = xb.to(device), y[idx].to(device)
            logits = net(xb)
            if logits.dim() != 2:
                raise GanforgeError(f"the feature network must return logits [B, C]; it returned shape {tuple(logits.shape)}")
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    net.eval()
    net.fit_losses = losses
    return net


def _last_linear(net: nn.Module) -> nn.Linear | None:
    last = None
    for module in net.modules():
        if isinstance(module, nn.Linear):
            last = module
    return last


def features_from(net: nn.Module, batch_size: int | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """An ``extract(x) -> Tensor[B, F]`` function for ``net`` (the convention above).

    The returned function runs without gradients, in eval mode, moves ``x`` to the
    network's device and returns float features on the CPU. ``batch_size`` splits
    large inputs to bound memory.
    """
    net.eval()
    device = next(net.parameters()).device
    if callable(getattr(net, "features", None)):
        run = net.features
    else:
        head = _last_linear(net)
        if head is None:
            raise GanforgeError(f"{type(net).__name__} has no features() method and no nn.Linear head to take features from")
        captured: list[torch.Tensor] = []

        def run(x):
            hook = head.register_forward_hook(lambda mod, inputs, out: captured.append(inputs[0]))
            try:
                net(x)
            finally:
                hook.remove()
            return captured.pop()

    def extract(x: torch.Tensor) -> torch.Tensor:
        chunks = [x] if not batch_size else list(x.split(batch_size))
        with torch.no_grad():
            outs = [run(c.to(device)).flatten(1).float().cpu() for c in chunks]
        return torch.cat(outs)

    return extract


def rotation_pretext(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The rotation-prediction pretext task (Gidaris et al. 2018) for unlabelled images.

    ``x`` [N, C, H, W] -> (the four rotations by 0, 90, 180, 270 degrees [4N, C, H, W],
    their rotation index 0..3 [4N]). A classifier that learns to tell the rotations
    apart has to learn what upright objects look like, which makes its penultimate
    layer a usable feature space for data without labels. Non-square images keep
    their shape only under 0 and 180 degrees: they get those two (labels 0, 1).
    """
    if x.dim() != 4:
        raise GanforgeError(f"rotation_pretext needs images [N, C, H, W]; got shape {tuple(x.shape)}")
    turns = range(4) if x.shape[2] == x.shape[3] else (0, 2)
    rotated = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in turns])
    labels = torch.arange(len(turns)).repeat_interleave(len(x))
    return rotated, labels
