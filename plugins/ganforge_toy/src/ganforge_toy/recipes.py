"""The toy recipes (PacGAN's 2-D mode-collapse benchmark, Lin et al. 2018)."""

from ganforge import Recipe

_OPTIONS = {
    "hidden": "width of the generator's hidden layers",
    "layers": "generator hidden layers",
    "g_norm": "generator normalisation: batch (PacGAN) or none",
    "d_hidden": "width of the discriminator's hidden layers",
    "d_layers": "discriminator hidden layers",
    "d_maxout": "maxout pieces per discriminator unit (PacGAN: 5); 0 for LeakyReLU(0.2)",
    "nz": "latent size",
    "pack": "PacGAN packing degree (1 = plain GAN); batch_size counts samples, so pack=4 on the grid wants "
            "batch_size=1600 (400 packed groups; measured with r1_gamma=0 and 48,000 steps: docs/benchmarks.md)",
    "init_std": "linear weights drawn from N(0, init_std), biases 0 (PacGAN: 0.02); 0 keeps PyTorch's default",
}

# PacGAN's networks and initialisation (its code: Adam 1e-4, beta1 0.8, 400 epochs of 100,000
# points = 400,000 steps, no EMA). 400,000 steps is hours a run on a CPU; 10x the learning
# rate on a cosine decay to 1% and an EMA of the generator reach the paper's figures on the
# ring in 48,000 (docs/benchmarks.md). The paper's own settings: --set lr_g=1e-4
# --set lr_d=1e-4 --set schedule=constant --set ema_beta=0 --steps 400000; its batch with
# packing is 100 packed groups: --set batch_size=400 with pack=4. On the grid a packed
# discriminator needs 400 groups a step to resolve the modes before the generator spreads
# into a sheet: --set pack=4 --set batch_size=1600 --set r1_gamma=0 --steps 48000 (25 modes /
# 95% at 36,000 steps, seed 0, on a GPU; with 25 groups a sheet at 1-8%).
_DEFAULTS = {
    "hidden": 400, "layers": 4, "g_norm": "batch", "d_hidden": 200, "d_layers": 3, "d_maxout": 5,
    "nz": 2, "pack": 1, "init_std": 0.02,
    "steps": 48000, "batch_size": 100, "lr_g": 1e-3, "lr_d": 1e-3,
    "betas_g": [0.8, 0.999], "betas_d": [0.8, 0.999],
    "schedule": "cosine", "lr_end_ratio": 0.01, "beta2_end": 0.999, "ema_beta": 0.999,
    "checkpoint_every": 5000, "sample_every": 5000, "preview_n": 2500, "log_every": 50,
}

TOY_RING = Recipe(
    modality="points", generator="mlp", discriminator="mlp",
    summary="MLP GAN on 8 Gaussians on a ring (data: `ganforge data ring`)",
    # PyTorch's initialisation on the ring: with PacGAN's, packed runs kept 7 of the 8 modes
    # (seeds 0 and 1, 48,000 steps); with PyTorch's, all 8 (docs/benchmarks.md)
    defaults={**_DEFAULTS, "init_std": 0.0}, options=_OPTIONS, reference="Lin et al. 2018, PacGAN, section 5",
)

TOY_GRID = Recipe(
    modality="points", generator="mlp", discriminator="mlp",
    summary="MLP GAN on a 5x5 grid of Gaussians (data: `ganforge data grid`)",
    # The plain GAN on the grid drops two thirds of the modes at 48,000 steps (9 / 95.6%, seeds
    # 0-2). R1 (gamma 0.01) keeps the discriminator from chasing single modes, and twice the
    # schedule pulls the points off the bridges between them: 21.8 modes / 91.3% over five seeds
    # (docs/benchmarks.md) against the paper's GAN 17.3 / 94.8.
    defaults={**_DEFAULTS, "steps": 96000, "r1_gamma": 0.01}, options=_OPTIONS,
    reference="Lin et al. 2018, PacGAN, section 5",
)
