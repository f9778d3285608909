"""Adaptive discriminator augmentation (ADA; Karras et al. 2020, stylegan2-ada-pytorch).

Every discriminator input, real and generated alike, passes through one differentiable
pipeline. Each operation is applied to each sample independently with probability ``p``:

- blit ("b"): horizontal flip, rotation by a multiple of 90 degrees, integer translation
  of up to 1/8 of the image side (reflection at the border);
- geometric ("g"): isotropic scaling by 2^N(0, 0.2);
- colour ("c"): brightness + N(0, 0.2), contrast * 2^N(0, 0.5), hue rotation about the
  luma axis by U(-pi, pi), saturation * 2^N(0, 1) (grayscale images: brightness and
  contrast only, as stylegan2-ada does).

The geometric operations are composed into one 2-D affine matrix per sample and applied
with a single ``grid_sample`` (bilinear, reflection padding); the colour operations into
one 4x4 matrix per sample. Both are differentiable with respect to the images, so the
generator learns through them. Flips, 90-degree rotations and integer translations sample
exact pixel centres, so they move pixels without blurring them. ADA's remaining
operations (arbitrary rotation, anisotropic scaling, fractional translation, luma flip,
image-space filtering, cutout) are left out: flips, rotations, translations and colour
account for most of its gain on small data sets (ADA paper, Fig. 4, "bgc"), and
bilinear resampling stands in for ADA's wavelet upsampling in the one non-integer op.

``p`` starts at ``ada_p`` and, every ``ada_interval`` discriminator updates, moves by
``sign(r_t - ada_target) * batch * ada_interval / (ada_kimg * 1000)``, where
``r_t = E[sign(D(real))]`` over those updates: p rises when D is overconfident on the real
data (overfitting) and falls otherwise; at ``ada_kimg`` = 500 it can go from 0 to 1 in
500k images. ``ada_target`` 0 keeps p fixed at ``ada_p``. p, the running statistics and
the update count are buffers: they are saved in every checkpoint and a resume continues
exactly. With p = 0 the augmentation returns its input unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

import ganforge


@dataclass
class ADAConfig:
    channels: int = 3
    ada_target: float = 0.6      # target r_t = E[sign(D(real))]; 0: p stays at ada_p
    ada_interval: int = 4        # adjust p every N discriminator updates
    ada_kimg: float = 500.0      # thousands of images for p to go from 0 to 1
    ada_p: float = 0.0           # initial p
    ada_pipeline: str = "bgc"    # b: flips/rot90/integer translation, g: scaling, c: colour


_LUMA = torch.tensor([1.0, 1.0, 1.0]) / math.sqrt(3)


def _check(cfg: ADAConfig) -> None:
    if not 0 <= cfg.ada_target < 1:
        raise ganforge.GanforgeError(f"option 'ada_target' must be in [0, 1), got {cfg.ada_target}")
    if cfg.ada_interval < 1:
        raise ganforge.GanforgeError(f"option 'ada_interval' must be a whole number >= 1, got {cfg.ada_interval}")
    if not cfg.ada_kimg > 0:
        raise ganforge.GanforgeError(f"option 'ada_kimg' must be positive, got {cfg.ada_kimg}")
    if not 0 <= cfg.ada_p <= 1:
        raise ganforge.GanforgeError(f"option 'ada_p' must be in [0, 1], got {cfg.ada_p}")
    if not cfg.ada_pipeline or set(cfg.ada_pipeline) - set("bgc"):
        raise ganforge.GanforgeError(f"option 'ada_pipeline' takes letters from 'bgc' (blit, geometric, colour), "
                                     f"got {cfg.ada_pipeline!r}")


def _reflect(coord: torch.Tensor, size: int) -> torch.Tensor:
    """Pixel coordinates reflected into [0, size - 1] about the image border (-0.5, size - 0.5)."""
    c = (coord + 0.5).abs().remainder(2 * size)
    c = torch.where(c > size, 2 * size - c, c) - 0.5
    return c.clamp(0, size - 1)


def bilinear_reflect(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """``F.grid_sample(x, grid, "bilinear", "reflection", align_corners=False)`` written with
    gathers, so it is twice differentiable in ``x``: R1 through the augmentation needs the
    gradient of a gradient, which grid_sample lacks (stylegan2-ada ships a "gradfix" for it).
    The weights come from the grid alone: the result is linear in ``x``."""
    n, c, h, w = x.shape
    gx = _reflect(((grid[..., 0] + 1) * w - 1) / 2, w)  # [n, H, W] source pixel coordinates
    gy = _reflect(((grid[..., 1] + 1) * h - 1) / 2, h)
    x0, y0 = gx.floor(), gy.floor()
    wx, wy = (gx - x0).to(x.dtype), (gy - y0).to(x.dtype)
    x0, y0 = x0.long(), y0.long()
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
    flat = x.reshape(n, c, h * w)

    def take(yy, xx):
        index = (yy * w + xx).reshape(n, 1, -1).expand(n, c, -1)
        return flat.gather(2, index).reshape(n, c, *gx.shape[1:])

    wx, wy = wx[:, None], wy[:, None]
    top = take(y0, x0) * (1 - wx) + take(y0, x1) * wx
    bottom = take(y1, x0) * (1 - wx) + take(y1, x1) * wx
    return top * (1 - wy) + bottom * wy


class ADA(ganforge.Augmentation):
    config_class = ADAConfig

    def __init__(self, cfg: ADAConfig):
        super().__init__()
        _check(cfg)
        self.cfg = cfg
        self.register_buffer("p", torch.tensor(float(cfg.ada_p)))
        self.register_buffer("rt", torch.tensor(0.0))                 # the last interval's r_t (logged)
        self.register_buffer("stats", torch.zeros(2))                 # sum of signs, count, this interval
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        self._batch = None

    # ---------------------------------------------------------------- p

    def set_progress(self, progress) -> None:
        self._batch = int(progress.config.get("batch_size", 0)) or None  # the global batch

    @torch.no_grad()
    def observe(self, real_scores: torch.Tensor) -> None:
        if self.cfg.ada_target <= 0:
            return
        scores = real_scores.detach().reshape(-1).float().to(self.stats.device)
        self.stats += torch.stack([scores.sign().sum(), scores.new_tensor(float(len(scores)))])
        self.updates += 1
        stats = ganforge.all_reduce_mean(self.stats.clone())  # every rank observes at the same point
        due = (self.updates % self.cfg.ada_interval) == 0
        rt = stats[0] / stats[1].clamp(min=1)
        batch = self._batch or len(scores)
        step = batch * self.cfg.ada_interval / (self.cfg.ada_kimg * 1000)
        new_p = (self.p + torch.sign(rt - self.cfg.ada_target) * step).clamp(0, 1)
        self.p.copy_(torch.where(due, new_p, self.p))
        self.rt.copy_(torch.where(due, rt, self.rt))
        self.stats.copy_(torch.where(due, torch.zeros_like(self.stats), self.stats))

    def log_values(self) -> dict:
        """What to log with each step: p and the last r_t."""
        return {"ada_p": self.p.detach(), "ada_rt": self.rt.detach()}

    # ---------------------------------------------------------------- the pipeline

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ganforge.GanforgeError(f"augment=ada works on images [B, C, H, W], got a tensor of shape "
                                         f"{tuple(x.shape)}; use it with an image recipe")
        if float(self.p) <= 0:
            return x
        return self.augment(x, self.p)

    def augment(self, x: torch.Tensor, p) -> torch.Tensor:
        """``x`` with every operation applied to each sample with probability ``p``."""
        if "b" in self.cfg.ada_pipeline or "g" in self.cfg.ada_pipeline:
            x = self._geometric(x, p)
        if "c" in self.cfg.ada_pipeline:
            x = self._colour(x, p)
        return x

    def _draw(self, n, p, device):
        return torch.rand(n, device=device) < p

    def _geometric(self, x, p):
        n, _, h, w = x.shape
        dev, dtype = x.device, torch.float32
        eye = torch.eye(3, device=dev, dtype=dtype).expand(n, 3, 3)
        m = eye.clone()
        chosen = torch.zeros(n, dtype=torch.bool, device=dev)

        def compose(mat, use):
            nonlocal m, chosen
            mat = torch.where(use[:, None, None], mat, eye)
            m = m @ mat
            chosen = chosen | use

        if "b" in self.cfg.ada_pipeline:
            use = self._draw(n, p, dev)  # horizontal flip
            flip = eye.clone()
            flip[:, 0, 0] = 1 - 2 * torch.randint(0, 2, (n,), device=dev).to(dtype)
            compose(flip, use)
            use = self._draw(n, p, dev)  # rotation by k * 90 degrees
            k = torch.randint(0, 4, (n,), device=dev).to(dtype) * (math.pi / 2)
            cos, sin = torch.cos(k).round(), torch.sin(k).round()
            rot = eye.clone()
            rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = cos, -sin, sin, cos
            compose(rot, use)
            use = self._draw(n, p, dev)  # integer translation, at most 1/8 of the side
            t = ((torch.rand(n, 2, device=dev) * 2 - 1) * 0.125 * torch.tensor([w, h], device=dev)).round()
            shift = eye.clone()
            shift[:, 0, 2], shift[:, 1, 2] = 2 * t[:, 0] / w, 2 * t[:, 1] / h
            compose(shift, use)
        if "g" in self.cfg.ada_pipeline:
            use = self._draw(n, p, dev)  # isotropic scaling
            s = torch.exp2(torch.randn(n, device=dev) * 0.2)
            scale = eye.clone()
            scale[:, 0, 0], scale[:, 1, 1] = s, s
            compose(scale, use)
        grid = F.affine_grid(m[:, :2, :], list(x.shape), align_corners=False)
        moved = bilinear_reflect(x, grid)
        return torch.where(chosen[:, None, None, None], moved, x)

    def _colour(self, x, p):
        n, c = x.shape[:2]
        dev = x.device
        if c != 3:  # grayscale (or any other channel count): luma operations only
            use_b, use_c = self._draw(n, p, dev), self._draw(n, p, dev)
            b = torch.where(use_b, torch.randn(n, device=dev) * 0.2, 0.0)
            k = torch.where(use_c, torch.exp2(torch.randn(n, device=dev) * 0.5), 1.0)
            out = x * k[:, None, None, None].to(x.dtype) + b[:, None, None, None].to(x.dtype)
            return torch.where((use_b | use_c)[:, None, None, None], out, x)
        eye = torch.eye(4, device=dev).expand(n, 4, 4)
        m = eye.clone()
        chosen = torch.zeros(n, dtype=torch.bool, device=dev)
        v = _LUMA.to(dev)
        vv = torch.outer(v, v)

        def compose(mat, use):
            nonlocal m, chosen
            m = torch.where(use[:, None, None], mat, eye) @ m
            chosen = chosen | use

        use = self._draw(n, p, dev)  # brightness
        mat = eye.clone()
        mat[:, :3, 3] = (torch.randn(n, device=dev) * 0.2)[:, None]
        compose(mat, use)
        use = self._draw(n, p, dev)  # contrast
        mat = eye.clone()
        mat[:, :3, :3] *= torch.exp2(torch.randn(n, device=dev) * 0.5)[:, None, None]
        compose(mat, use)
        use = self._draw(n, p, dev)  # hue rotation about the luma axis (Rodrigues)
        theta = (torch.rand(n, device=dev) * 2 - 1) * math.pi
        a = 1 / math.sqrt(3)  # the cross-product matrix of the luma axis (a, a, a)
        cross = torch.tensor([[0.0, -a, a], [a, 0.0, -a], [-a, a, 0.0]], device=dev)
        rot = (torch.cos(theta)[:, None, None] * torch.eye(3, device=dev)
               + torch.sin(theta)[:, None, None] * cross + (1 - torch.cos(theta))[:, None, None] * vv)
        mat = eye.clone()
        mat[:, :3, :3] = rot
        compose(mat, use)
        use = self._draw(n, p, dev)  # saturation
        s = torch.exp2(torch.randn(n, device=dev))
        mat = eye.clone()
        mat[:, :3, :3] = vv + s[:, None, None] * (torch.eye(3, device=dev) - vv)
        compose(mat, use)
        m = m.to(x.dtype)
        out = torch.einsum("nij,njhw->nihw", m[:, :3, :3], x) + m[:, :3, 3, None, None]
        return torch.where(chosen[:, None, None, None], out, x)
