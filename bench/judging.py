"""The small classifiers the quality benches judge generated samples with: one trainer."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """Class indices of ``x``, in batches (a video's frames do not fit one forward)."""
    return torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])


def fit_classifier(make_model: Callable[[], nn.Module], x: torch.Tensor, y: torch.Tensor, epochs: int,
                   augment: Callable[[torch.Tensor], torch.Tensor] | None = None) -> tuple[nn.Module, float]:
    """Train ``make_model()`` on a random 80% of (x, y): Adam with a one-cycle learning rate
    up to 3e-3, batches of 64, ``augment`` applied to each training batch. Returns the model
    (in eval mode) and its accuracy on the other 20%. Seed torch before calling: the split,
    the weights and the batches are drawn in that order."""
    perm = torch.randperm(len(x))
    n_test = len(x) // 5
    test, train = perm[:n_test], perm[n_test:]
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * (len(train) // 64))
    model.train()
    for _ in range(epochs):
        order = train[torch.randperm(len(train))]
        for i in range(0, len(order) - 63, 64):
            idx = order[i:i + 64]
            xb = augment(x[idx]) if augment is not None else x[idx]
            loss = nn.functional.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    return model, (predict(model, x[test]) == y[test]).float().mean().item()
