"""The image recipes (no torch here: `ganforge recipes` imports this module)."""

from ganforge import Recipe

DCGAN = Recipe(
    modality="image",
    generator="dcgan",
    discriminator="dcgan",
    objective="non-saturating",
    summary="DCGAN (Radford et al. 2016), any power-of-two size from 16, optional class conditioning",
    reference="Radford, Metz & Chintala, Unsupervised Representation Learning with Deep "
              "Convolutional Generative Adversarial Networks, ICLR 2016",
    defaults={
        "image_size": 64,
        "channels": 3,
        "nz": 100,
        "ngf": 64,
        "ndf": 64,
        "d_norm": "batch",
        "max_image_pixels": 89_478_485,
        "batch_size": 64,
        "optimizer": "adam",
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas_g": [0.5, 0.999],
        "betas_d": [0.5, 0.999],
    },
    options={
        "image_size": "image side in pixels, a power of two from 16 (images are resized, then centre-cropped)",
        "channels": "3 for RGB, 1 for grayscale (images are converted on load)",
        "nz": "size of the latent vector z",
        "ngf": "generator width next to the image (doubles towards 4x4, at most 8*ngf)",
        "ndf": "discriminator width next to the image (doubles towards 4x4, at most 8*ndf)",
        "d_norm": "discriminator normalisation: batch (DCGAN), layer (WGAN-GP) or none",
        "max_image_pixels": "larger images are skipped before decoding (decompression-bomb limit; Pillow's default)",
    },
    presets={
        # Arjovsky et al. 2017: RMSProp 5e-5, 5 critic steps, clipping (the core's `clip`).
        "objective=wgan": {"optimizer": "rmsprop", "lr_g": 5e-5, "lr_d": 5e-5, "n_critic": 5},
        # Gulrajani et al. 2017: Adam 1e-4 (0.5, 0.9), 5 critic steps, no batch norm in the critic.
        "objective=wgan-gp": {"lr_g": 1e-4, "lr_d": 1e-4, "betas_g": [0.5, 0.9], "betas_d": [0.5, 0.9],
                              "n_critic": 5, "d_norm": "layer"},
    },
)


# StyleGAN2 with lazy regularisation: R1 every 16 D steps, path length every 4 G steps.
# As in StyleGAN2 (appendix B), the extra optimiser steps are compensated by scaling each
# network's Adam learning rate by k / (k + 1) and its betas to the power k / (k + 1).
_STYLEGAN_LR = 0.0025
_D_RATIO, _G_RATIO = 16 / 17, 4 / 5

STYLEGAN = Recipe(
    modality="image",
    generator="stylegan",
    discriminator="stylegan",
    objective="stylegan2",
    summary="StyleGAN2 (Karras et al. 2020) at 16-256 px, variant=stylegan1 for AdaIN; small CPU-sized defaults",
    reference="Karras et al., Analyzing and Improving the Image Quality of StyleGAN, CVPR 2020; "
              "Karras, Laine & Aila, A Style-Based Generator Architecture for GANs, CVPR 2019; "
              "the CIFAR-10 configuration of stylegan2-ada-pytorch",
    defaults={
        "image_size": 32,
        "channels": 3,
        "max_image_pixels": 89_478_485,
        "variant": "stylegan2",
        "nz": 128,
        "w_dim": 128,
        "map_layers": 2,
        "map_lr_mul": 0.01,
        "channel_base": 1024,
        "channel_max": 128,
        "mbstd_group": 4,
        "style_mixing": 0.9,
        "w_avg_beta": 0.995,
        "pl_weight": 2.0,
        "pl_interval": 4,
        "pl_decay": 0.01,
        "pl_batch_shrink": 2,
        "batch_size": 32,
        "optimizer": "adam",
        "lr_g": _STYLEGAN_LR * _G_RATIO,
        "lr_d": _STYLEGAN_LR * _D_RATIO,
        "betas_g": [0.0, 0.99 ** _G_RATIO],
        "betas_d": [0.0, 0.99 ** _D_RATIO],
        "r1_gamma": 0.01,
        "d_reg_interval": 16,
        # ema_kimg = batch * 10 / 32 thousand images: a half-life of 10,000 images at batch 32
        "ema_beta": 0.5 ** (32 / 10_000),
        "ema_rampup": 0.05,
        "sample_every": 100,
    },
    options={
        "image_size": "image side in pixels: 16, 32, 64, 128 or 256 (images are resized, then centre-cropped)",
        "channels": "3 for RGB, 1 for grayscale (images are converted on load)",
        "max_image_pixels": "larger images are skipped before decoding (decompression-bomb limit; Pillow's default)",
        "variant": "stylegan2 (modulated/demodulated convs, skip G) or stylegan1 (AdaIN after every conv)",
        "nz": "size of the latent z",
        "w_dim": "size of the intermediate latent w",
        "map_layers": "fully connected layers in the mapping network (8 in the papers, 2 in the CIFAR config)",
        "map_lr_mul": "learning-rate multiplier of the mapping network (0.01 in the papers)",
        "channel_base": "width at resolution r is min(channel_base / r, channel_max), in G and D (16384+ in the papers)",
        "channel_max": "widest layer in G and D (512 in the papers)",
        "mbstd_group": "minibatch standard deviation group size in D (0 disables)",
        "style_mixing": "probability that a training forward mixes the ws of two latents (0.9 in the papers; 0 disables)",
        "w_avg_beta": "decay of the tracked mean w used by truncation",
        "pl_weight": "path length regularisation weight (0 disables)",
        "pl_interval": "apply the path length penalty every N generator steps (lazy regularisation)",
        "pl_decay": "decay of the running mean path length",
        "pl_batch_shrink": "the path length penalty runs on batch_size / N samples",
    },
    presets={
        # R1 gamma by resolution: stylegan2-ada-pytorch's heuristic 0.0002 * size^2 / batch at
        # batch 32, except 32 px, where the CIFAR-10 configuration's 0.01 is used.
        "image_size=16": {"r1_gamma": 0.0016},
        "image_size=64": {"r1_gamma": 0.0256},
        "image_size=128": {"r1_gamma": 0.1024},
        "image_size=256": {"r1_gamma": 0.4096},
        # StyleGAN1 had no path length regularisation.
        "variant=stylegan1": {"pl_weight": 0.0},
    },
)
