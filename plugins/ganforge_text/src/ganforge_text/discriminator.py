"""SeqGAN's discriminator: a CNN text classifier over token embeddings (Yu et al. 2017,
after Kim 2014 and Zhang & LeCun 2015).

Each filter width k slides over the embedded sequence, max-over-time pooling keeps one
value per filter, a highway layer mixes the pooled features, dropout, then one logit
(the paper's code uses two softmax classes; one logit with BCE is the same model).
The paper's sizes are filter widths 1..10, 15, 20 with 100, 200, 200, 200, 200, 100,
100, 100, 100, 100, 160, 160 filters over 64-d embeddings, dropout 0.25.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

import ganforge

PAPER_FILTER_SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20]
PAPER_NUM_FILTERS = [100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160]


@dataclass
class CNNDiscriminatorConfig:
    vocab_size: int = 5000
    seq_len: int = 20
    pad_id: int = 0
    d_emb_dim: int = 64
    d_filter_sizes: list = field(default_factory=lambda: list(PAPER_FILTER_SIZES))
    d_num_filters: list = field(default_factory=lambda: list(PAPER_NUM_FILTERS))
    d_dropout: float = 0.25


class Discriminator(ganforge.Discriminator):
    config_class = CNNDiscriminatorConfig

    def __init__(self, cfg: CNNDiscriminatorConfig):
        super().__init__()
        if len(cfg.d_filter_sizes) != len(cfg.d_num_filters) or not cfg.d_filter_sizes:
            raise ganforge.GanforgeError(
                "options 'd_filter_sizes' and 'd_num_filters' must be non-empty lists of the same length, got "
                f"{cfg.d_filter_sizes} and {cfg.d_num_filters}"
            )
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_emb_dim)
        self.convs = nn.ModuleList(nn.Conv1d(cfg.d_emb_dim, n, k) for k, n in zip(cfg.d_filter_sizes, cfg.d_num_filters))
        width = sum(cfg.d_num_filters)
        self.highway_h = nn.Linear(width, width)
        self.highway_t = nn.Linear(width, width)
        self.dropout = nn.Dropout(cfg.d_dropout)
        self.out = nn.Linear(width, 1)
        # the paper's code: truncated N(0, 0.1) weights, biases 0.1 on the convolutions
        for conv in self.convs:
            nn.init.trunc_normal_(conv.weight, std=0.1, a=-0.2, b=0.2)
            nn.init.constant_(conv.bias, 0.1)
        nn.init.uniform_(self.embed.weight, -1.0, 1.0)

    def forward(self, x: torch.Tensor, cond=None) -> torch.Tensor:
        # right-pad short sequences so the widest filter fits at least once
        widest = max(self.cfg.d_filter_sizes)
        if x.shape[1] < widest:
            x = F.pad(x, (0, widest - x.shape[1]), value=max(self.cfg.pad_id, 0))
        e = self.embed(x).transpose(1, 2)  # [B, E, T]
        pooled = torch.cat([F.relu(conv(e)).amax(dim=2) for conv in self.convs], 1)
        # highway: a gate t decides how much of the transformed features to let through
        t = torch.sigmoid(self.highway_t(pooled))
        h = t * F.relu(self.highway_h(pooled)) + (1 - t) * pooled
        return self.out(self.dropout(h)).squeeze(1)

    def l2_penalty(self) -> torch.Tensor:
        """tf.nn.l2_loss of the output layer, as the paper's code regularises it."""
        return 0.5 * (self.out.weight.square().sum() + self.out.bias.square().sum())
