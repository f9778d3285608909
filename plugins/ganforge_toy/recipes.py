"""The toy recipes (PacGAN's 2-D mode-collapse benchmark, Lin et al. 2018)."""

from ganforge import Recipe

_OPTIONS = {
    "hidden": "width of the MLP hidden layers",
    "layers": "hidden layers in each MLP",
    "nz": "latent size",
    "pack": "PacGAN packing degree (1 = plain GAN)",
}

_DEFAULTS = {
    "hidden": 400, "layers": 3, "nz": 2, "pack": 1,
    "steps": 5000, "batch_size": 100, "lr_g": 1e-4, "lr_d": 1e-4,
    "betas_g": [0.5, 0.999], "betas_d": [0.5, 0.999], "ema_beta": 0.0,
    "checkpoint_every": 1000, "sample_every": 1000, "preview_n": 2500, "log_every": 50,
}

TOY_RING = Recipe(
    modality="points", generator="mlp", discriminator="mlp",
    summary="MLP GAN on 8 Gaussians on a ring (data: `ganforge data ring`)",
    defaults=dict(_DEFAULTS), options=_OPTIONS, reference="Lin et al. 2018, PacGAN, section 5",
)

TOY_GRID = Recipe(
    modality="points", generator="mlp", discriminator="mlp",
    summary="MLP GAN on a 5x5 grid of Gaussians (data: `ganforge data grid`)",
    defaults=dict(_DEFAULTS), options=_OPTIONS, reference="Lin et al. 2018, PacGAN, section 5",
)
