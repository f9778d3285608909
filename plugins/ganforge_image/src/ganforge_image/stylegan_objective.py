"""The StyleGAN2 loss: non-saturating logistic loss, lazy R1 on D, lazy path-length
regularisation on G (Karras et al. 2020, section 3.2 and appendix B).

- D: softplus(D(G(z))) + softplus(-D(x)); R1 gamma/2 ||grad_x D(x)||^2 on reals every
  ``d_reg_interval`` D steps (the core's ``r1_gamma`` / ``d_reg_interval``).
- G: softplus(-D(G(z))).
- Path length, every ``pl_interval`` G steps, on a batch ``pl_batch_shrink`` times smaller:
  for y ~ N(0, I) / sqrt(H W), the length ||J_w^T y|| (root mean over the layers' ws of the
  squared gradient norm per w) should stay near its running mean a; the penalty is
  ``pl_weight * E (||J_w^T y|| - a)^2`` and a moves towards the batch mean with decay
  ``pl_decay`` (0.01). a is averaged over ranks (``ganforge.all_reduce_mean``) and kept in
  the checkpoint (``state_dict``), so a resumed run continues it exactly.

Style mixing regularisation lives in the generator's training forward (stylegan.py).
"""

from __future__ import annotations

import math

import torch

import ganforge


def path_lengths(images: torch.Tensor, ws: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """||J_w^T y|| per sample for y = ``noise``: the gradient of sum(images * noise) with
    respect to ``ws`` [B, num_ws, w_dim], squared-summed over w_dim, averaged over the
    layers, square-rooted. Keeps the graph (the penalty is differentiated again)."""
    (grad,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
    return grad.square().sum(dim=2).mean(dim=1).sqrt()


class StyleGAN2Loss(ganforge.NonSaturating):
    """Non-saturating loss + lazy R1 (discriminator) + lazy path length (generator)."""

    def __init__(self, config):
        super().__init__(config)
        self.pl_mean = torch.zeros(())  # running mean of the path lengths, kept in checkpoints

    # the game is the core's non-saturating loss; StyleGAN2 adds the lazy regularisers

    # lazy regularisers
    def regularizers(self):
        out = super().regularizers()  # R1 (r1_gamma) every d_reg_interval D steps
        if float(self.config.get("pl_weight", 0)) > 0:
            out.append(ganforge.Regularizer("pl", "generator", int(self.config.get("pl_interval", 4)),
                                            self.path_length_penalty))
        return out

    def path_length_penalty(self, s):
        G = s.generator
        n = max(1, len(s.real) // max(1, int(self.config.get("pl_batch_shrink", 2))))
        z = s.latents(n)
        cond = s.cond[:n] if s.cond is not None else None  # the loop encodes it afresh for regularisers
        ws = G.training_ws(z, cond)
        images = G.synthesis(ws, noise_mode="random")
        noise = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
        lengths = path_lengths(images, ws, noise)
        batch_mean = ganforge.all_reduce_mean(lengths.mean().detach())
        self.pl_mean = self.pl_mean.to(batch_mean.device).lerp(batch_mean.float(), float(self.config.get("pl_decay", 0.01)))
        penalty = (lengths - self.pl_mean).square().mean() * float(self.config["pl_weight"])
        return penalty, {"pl_length": batch_mean, "pl_mean": self.pl_mean.clone()}

    # state for the whole run
    def state_dict(self):
        return {"pl_mean": self.pl_mean.detach().cpu().clone()}

    def load_state_dict(self, state):
        if "pl_mean" in state:
            self.pl_mean = torch.as_tensor(state["pl_mean"]).float().clone()
