"""The core's conditioning encoder for class labels (text encoders live in plugins)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .components import ConditioningEncoder
from .errors import GanforgeError


@dataclass
class LabelEncoderConfig:
    n_classes: int = 0
    cond_dim: int = 64


class LabelEncoder(ConditioningEncoder):
    """Learned class embeddings (trained with the generator; the discriminator sees them detached)."""

    config_class = LabelEncoderConfig
    condition_key = "label"
    trainable = True
    user_option = "class"

    def __init__(self, cfg: LabelEncoderConfig):
        super().__init__()
        if cfg.n_classes < 2:
            raise GanforgeError(
                f"conditional=true with the '{type(self).__name__}' encoder (--set encoder=label) reads the data "
                f"field '{self.condition_key}', and this data has fewer than 2 classes in it: a modality with class "
                f"sub-folders (images, audio) needs each class in its own sub-folder of --data; otherwise choose an "
                f"encoder for a field your data has (--set encoder=NAME)"
            )
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.n_classes, cfg.cond_dim)
        nn.init.normal_(self.embed.weight, 0.0, 1.0)

    def forward(self, labels):
        return self.embed(labels)

    def from_user(self, values, modality):
        """Class names (as the sub-folders are named) -> class indices."""
        names = modality.class_names()
        index = []
        for value in values:
            if value not in names:
                raise GanforgeError(f"unknown class '{value}'; this run knows: {', '.join(names) or 'none'}")
            index.append(names.index(value))
        return torch.tensor(index)

    def default_conditions(self, n, modality):
        """Every class in turn."""
        return torch.arange(n) % self.cfg.n_classes
