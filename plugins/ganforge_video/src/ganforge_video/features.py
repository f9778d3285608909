"""A fixed feature space for video metrics (``ganforge evaluate RUN --data DIR``).

No video network can be downloaded, and a clip's quality is mostly two things a few
statistics capture: what the still scene looks like, and what moves where. Per clip
[C, T, H, W] in [-1, 1]:

- appearance: the clip's mean frame, average-pooled to 8x8 (C x 64);
- motion: each pixel's distance from its own mean over time, averaged over channels,
  i.e. what moves; its mean over time pooled to 8x8 (64), its amount per frame (T), and
  the centre of that motion per frame as (x, y) in [-1, 1] (2T): the moving thing's path;
- smoothness: the mean change from each frame to the next (T - 1) and how far the centre
  of motion moves between them (T - 1): shuffled frames have the same frames but jump.

Fréchet distance and KID in this space compare scenes and motion, not object identity
(a blob moving like a square scores like a square); the name says which space it was.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

NAME = "video-stats-v1"
JUDGES = "the still scene's colours and layout, where and how much things move, and the moving part's path"


def video_stats(x: torch.Tensor) -> torch.Tensor:
    """[B, C, T, H, W] -> [B, C*64 + 64 + 5T - 2] features."""
    x = x.float().cpu()
    b, c, t, h, w = x.shape
    appearance = F.adaptive_avg_pool2d(x.mean(2), 8).reshape(b, -1)
    moving = (x - x.mean(2, keepdim=True)).abs().mean(1)  # [B, T, H, W]
    where = F.adaptive_avg_pool2d(moving.mean(1, keepdim=True), 8).reshape(b, -1)
    amount = moving.mean((2, 3))  # [B, T]
    weight = moving / moving.sum((2, 3), keepdim=True).clamp(min=1e-8)
    ys = torch.linspace(-1, 1, h).view(1, 1, h, 1)
    xs = torch.linspace(-1, 1, w).view(1, 1, 1, w)
    path = torch.cat([(weight * xs).sum((2, 3)), (weight * ys).sum((2, 3))], dim=1)  # [B, 2T]
    change = (x[:, :, 1:] - x[:, :, :-1]).abs().mean((1, 3, 4))  # [B, T-1]
    centre = path.reshape(b, 2, t)
    speed = (centre[:, :, 1:] - centre[:, :, :-1]).norm(dim=1)  # [B, T-1]
    return torch.cat([appearance, where, amount, path, change, speed], dim=1)


video_stats.judges = JUDGES
