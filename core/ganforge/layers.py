"""Network layers more than one plugin's models use. Public as ``ganforge.ConditionalBatchNorm``
and ``ganforge.condition_input``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .errors import GanforgeError


def condition_input(z: torch.Tensor, cond: torch.Tensor | None, network: str, concat: bool,
                    asked: str = "classes or prompts") -> tuple[torch.Tensor, torch.Tensor]:
    """A conditional generator's inputs: ``(z, cond)`` with ``cond`` in z's dtype; where the
    condition enters by concatenation (``concat``, not conditional batch norm), z is joined by
    the condition scaled to unit length, as a one-hot label is. An embedding as long as z (64
    N(0,1) entries against 100) let DCGAN key on the class alone and ignore z: one image per
    class after 600 steps on shapes (pixel std within a class 0.02; 0.16 normalised)."""
    if cond is None:
        raise GanforgeError(f"this {network} generator is conditional: give it {asked}")
    cond = cond.to(z.dtype)
    if concat:
        z = torch.cat([z, F.normalize(cond, dim=1)], dim=1)
    return z, cond


class ConditionalBatchNorm(nn.Module):
    """Conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018), for 2-D (images)
    or 3-D (video) feature maps: batch statistics shared by every class, a scale and shift
    per condition embedding ``c``: ``(w + G c) * bn(x) + (b + B c)``. ``reset_parameters``
    starts w near 1 (N(1, 0.02), DCGAN's init), b and G, B at zero, so the layer starts as
    plain batch norm and learns how much each condition changes it. The parameter names
    (``bn``, ``weight``, ``bias``, ``gain``, ``shift``) are part of saved runs."""

    def __init__(self, channels: int, cond_dim: int, dims: int = 2):
        super().__init__()
        if dims not in (2, 3):
            raise ValueError(f"ConditionalBatchNorm takes 2-D or 3-D feature maps, not dims={dims}")
        self.bn = (nn.BatchNorm3d if dims == 3 else nn.BatchNorm2d)(channels, affine=False)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.gain = nn.Linear(cond_dim, channels, bias=False)
        self.shift = nn.Linear(cond_dim, channels, bias=False)

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, 1.0, 0.02)
        nn.init.zeros_(self.bias)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        shape = (len(x), -1) + (1,) * (x.dim() - 2)
        scale = (self.weight + self.gain(cond)).reshape(shape)
        return self.bn(x) * scale + (self.bias + self.shift(cond)).reshape(shape)
