"""The one training loop every recipe runs (imports torch)."""

from .loop import Run, train
from .objectives import Objective, Step

__all__ = ["Objective", "Run", "Step", "train"]
