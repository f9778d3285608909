"""A matching-aware discriminator with hard negatives, for caption- (or class-) conditional runs.

GAN-INT-CLS (Reed et al. 2016) teaches the discriminator that a real image with a wrong
caption is fake, so it must check the caption rather than realism alone:

    D: softplus(-D(x, c)) + (softplus(D(G(z, c), c)) + softplus(D(x, c'))) / 2
    G: softplus(-D(G(z, c), c))                      (non-saturating, as plain GANs)

The wrong caption c' here is not a random other caption but the *most similar* other
caption of the batch, by the cosine of the run's own condition embeddings (a hard
negative, as in VSE++, Faghri et al. 2018). Two random captions usually differ in many
words, and the easiest one (a colour, a background) gives them away; the nearest one
usually differs in a single attribute, and most often in the one the embedding tells
apart least, which is the one the discriminator has not learned to check yet.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

import ganforge


def nearest_other(keys, embeddings: torch.Tensor) -> torch.Tensor:
    """For each sample, the index of the sample whose embedding is most similar (cosine)
    among those whose condition value differs from its own."""
    keys = keys.tolist() if isinstance(keys, torch.Tensor) else list(keys)
    n = len(keys)
    codes = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    code = torch.tensor([codes[k] for k in keys], device=embeddings.device)
    same = code[:, None] == code[None, :]
    if bool(same.all(dim=1).any()):
        raise ganforge.GanforgeError("a batch whose samples all have the same condition has no mismatched "
                                     "condition; use more varied captions or classes, or a larger batch_size")
    unit = F.normalize(embeddings.float().reshape(n, -1), dim=1)
    similarity = (unit @ unit.T).masked_fill(same, float("-inf"))
    return similarity.argmax(dim=1)


class HardMatching(ganforge.NonSaturating):
    """Non-saturating loss; the discriminator also scores real samples with the batch's
    nearest other condition as fake (matching-aware, hard negatives)."""

    def discriminator_loss(self, s):
        if s.cond_d is None or s.condition_key is None:
            raise ganforge.GanforgeError("objective 'matching-hard' needs a conditional run: --set conditional=true "
                                         "and an encoder for the data's captions or classes")
        real, fake = s.D_real(), s.D(s.fake().detach())
        wrong = nearest_other(s.batch[s.condition_key], s.cond_d)
        mismatched = s.D(s.real, s.cond_d[wrong])
        loss = F.softplus(-real).mean() + 0.5 * (F.softplus(fake).mean() + F.softplus(mismatched).mean())
        return loss, {"d_real": real.detach().mean(), "d_fake": fake.detach().mean(),
                      "d_mismatched": mismatched.detach().mean()}
