"""The image recipes (no torch here: `ganforge recipes` imports this module)."""


from ganforge import Phase, Recipe

# ----------------------------------------------------------------------------- ADA options
# Recipes that list these let users tune ``--set augment=ada`` (others get ADA's defaults).
ADA_DEFAULTS = {"ada_target": 0.6, "ada_interval": 4, "ada_kimg": 500.0, "ada_p": 0.0, "ada_pipeline": "bgc"}
ADA_OPTIONS = {
    "ada_target": "augment=ada: target of r_t = E[sign(D(real))]; p rises above it, falls below (0: p fixed)",
    "ada_interval": "augment=ada: adjust p every N discriminator updates",
    "ada_kimg": "augment=ada: thousands of images for p to go from 0 to 1",
    "ada_p": "augment=ada: initial augmentation probability",
    "ada_pipeline": "augment=ada: b (flips, rot90, integer translation), g (scaling), c (colour), e.g. bgc",
}


DCGAN = Recipe(
    modality="image",
    generator="dcgan",
    discriminator="dcgan",
    objective="non-saturating",
    summary="DCGAN (Radford et al. 2016), any power-of-two size from 16, optional class conditioning",
    reference="Radford, Metz & Chintala, Unsupervised Representation Learning with Deep "
              "Convolutional Generative Adversarial Networks, ICLR 2016",
    defaults={
        "preset": "paper",
        "image_size": 64,
        "channels": 3,
        "nz": 100,
        "ngf": 64,
        "ndf": 64,
        "d_norm": "batch",
        "g_cond": "concat",
        "d_mbstd": 0,
        "encoder_pool": "sqrtn",
        "max_image_pixels": 89_478_485,
        "batch_size": 64,
        "optimizer": "adam",
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas_g": [0.5, 0.999],
        "betas_d": [0.5, 0.999],
        **ADA_DEFAULTS,
    },
    options={
        "preset": "paper (Radford et al., as published) or small-data (conditional batch norm in G, layer "
                  "norm in D, mode seeking 0.3: learns a class-conditional model of a small data set on a CPU "
                  "in minutes)",
        "image_size": "image side in pixels, a power of two from 16 (images are resized, then centre-cropped)",
        "channels": "3 for RGB, 1 for grayscale (images are converted on load)",
        "nz": "size of the latent vector z",
        "ngf": "generator width next to the image (doubles towards 4x4, at most 8*ngf)",
        "ndf": "discriminator width next to the image (doubles towards 4x4, at most 8*ndf)",
        "d_norm": "discriminator normalisation: batch (DCGAN), layer (WGAN-GP), spectral (SNGAN) or none",
        "g_cond": "how a conditional generator takes the class: concat (to z, cGAN) or cbn (conditional batch norm)",
        "d_mbstd": "minibatch standard deviation group size in the discriminator (PGGAN; 0: off)",
        "encoder_pool": "text:hashed: how a caption's n-gram embeddings combine, mean or sqrtn (sum / sqrt(count))",
        "max_image_pixels": "larger images are skipped before decoding (decompression-bomb limit; Pillow's default)",
        **ADA_OPTIONS,
    },
    presets={
        # Measured on the bold shapes (bench/quality_demo.py, docs/image.md): with batch norm
        # in D and z+class concatenated, 2,400 steps give one blob per image (class accuracy
        # 0.25-0.5); with these two changes 1.00 on four seeds. Batch norm lets D judge a
        # batch of all-real or all-fake images by its statistics and win outright; conditional
        # batch norm hands the class to every layer of G rather than to the first only.
        # Mode seeking: without it every sample of a class got one colour on one background
        # (variety 1.0-1.2 of the data's 9.4); at 0.3, 2.2-3.3 (seeds 0-2, 3,600 steps).
        "preset=small-data": {"g_cond": "cbn", "d_norm": "layer", "mode_seeking": 0.3},
        # Arjovsky et al. 2017: RMSProp 5e-5, 5 critic steps, clipping (the core's `clip`).
        "objective=wgan": {"optimizer": "rmsprop", "lr_g": 5e-5, "lr_d": 5e-5, "n_critic": 5},
        # Gulrajani et al. 2017: Adam 1e-4 (0.5, 0.9), 5 critic steps, no batch norm in the critic.
        "objective=wgan-gp": {"lr_g": 1e-4, "lr_d": 1e-4, "betas_g": [0.5, 0.9], "betas_d": [0.5, 0.9],
                              "n_critic": 5, "d_norm": "layer"},
    },
)




# ----------------------------------------------------------------------------- R3GAN
R3GAN = Recipe(
    modality="image",
    generator="r3gan",
    discriminator="r3gan",
    objective="rpgan",
    summary="R3GAN (Huang et al. 2024): relativistic pairing loss + R1 + R2, plain ResNet G and D",
    reference="Huang, Gokaslan, Kuleshov & Tompkin, The GAN is dead; long live the GAN! "
              "A Modern GAN Baseline, NeurIPS 2024",
    defaults={
        "image_size": 32, "channels": 3, "nz": 64, "width": 64, "blocks": 2, "expansion": 2, "group_width": 16,
        "max_image_pixels": 89_478_485, "batch_size": 64, "optimizer": "adam",
        "lr_g": 2e-4, "lr_d": 2e-4, "betas_g": [0.0, 0.9], "betas_d": [0.0, 0.9],
        "r1_gamma": 0.05, "r2_gamma": 0.05, "d_reg_interval": 1,
        "schedule": "cosine", "schedule_steps": 1000, "lr_end_ratio": 0.25, "beta2_end": 0.99,
        "gamma_decay_steps": 1000, "gamma_end_ratio": 0.1,
        "steps": 2000, "ema_beta": 0.999, "ema_rampup": 0.05,
        **ADA_DEFAULTS,
    },
    options={
        "image_size": "image side in pixels, a power of two from 8 (images are resized, then centre-cropped)",
        "channels": "3 for RGB, 1 for grayscale (images are converted on load)",
        "nz": "size of the latent vector z",
        "width": "channels next to the image; they double towards 4x4, at most 4x (R3GAN CIFAR-10: 768 everywhere)",
        "blocks": "residual blocks per resolution",
        "expansion": "bottleneck expansion of each residual block",
        "group_width": "channels per group in the grouped 3x3 convolutions",
        "max_image_pixels": "larger images are skipped before decoding (decompression-bomb limit)",
        "gamma_decay_steps": "R1/R2 gamma follows a cosine down to gamma_end_ratio of r1_gamma/r2_gamma over "
                             "this many steps (R3GAN decays it with lr and beta2: keep it = schedule_steps; 0: constant)",
        "gamma_end_ratio": "gamma at the end of its cosine decay, as a fraction of its start (R3GAN: 0.1)",
        **ADA_OPTIONS,
    },
    # lr 2e-4 -> 5e-5 and beta2 0.9 -> 0.99 on the core's cosine schedule, gamma with them
)


# ----------------------------------------------------------------------------- PGGAN
#: resolutions PGGAN grows through: 4x4 stable, then for each doubling a fade-in and a
#: stable phase; the stable phase at the target is the main phase (``--steps``).
PGGAN_SIZES = [2**k for k in range(3, 11)]  # 8 .. 1024


def _pggan_phases():
    phases = [Phase("4x4", steps="steps_4", settings={"resolution": 4, "fade": False})]
    for r in PGGAN_SIZES:
        phases.append(Phase(f"{r}x{r}-fade", steps=f"fade_{r}", settings={"resolution": r, "fade": True}))
        if r < PGGAN_SIZES[-1]:
            phases.append(Phase(f"{r}x{r}", steps=f"steps_{r}", settings={"resolution": r, "fade": False}))
    phases.append(Phase("train", settings={"resolution": 0, "fade": False}))
    return phases


def _pggan_presets():
    """Per target size: the phases above it have length 0 (the main phase trains at it)."""
    presets = {}
    for size in PGGAN_SIZES:
        zero = {f"steps_{r}": 0 for r in PGGAN_SIZES[:-1] if r >= size}
        zero.update({f"fade_{r}": 0 for r in PGGAN_SIZES if r > size})
        presets[f"image_size={size}"] = zero
    return presets


PGGAN = Recipe(
    modality="image",
    generator="pggan",
    discriminator="pggan",
    objective="wgan-gp-drift",
    summary="Progressive growing of GANs (Karras et al. 2018): 4x4 up to the image size with fade-in",
    reference="Karras, Aila, Laine & Lehtinen, Progressive Growing of GANs for Improved Quality, "
              "Stability, and Variation, ICLR 2018",
    defaults={
        "image_size": 32, "channels": 3, "nz": 128, "width": 32, "width_max": 256,
        "max_image_pixels": 89_478_485, "batch_size": 16, "optimizer": "adam",
        "lr_g": 1e-3, "lr_d": 1e-3, "betas_g": [0.0, 0.99], "betas_d": [0.0, 0.99],
        "n_critic": 1, "gp_weight": 10.0, "drift": 0.001, "steps": 1000, "ema_beta": 0.999,
        "resolution": 0, "fade": False,
        "steps_4": 500, **{f"fade_{r}": 500 for r in PGGAN_SIZES},
        **{f"steps_{r}": 500 for r in PGGAN_SIZES[:-1]},
        **ADA_DEFAULTS,
    },
    options={
        "image_size": "target side in pixels, a power of two from 8 to 1024; the phases above it are skipped",
        "channels": "3 for RGB, 1 for grayscale (images are converted on load)",
        "nz": "size of the latent vector z",
        "width": "channels at the target resolution; they double towards 4x4 up to width_max",
        "width_max": "most channels at any resolution",
        "max_image_pixels": "larger images are skipped before decoding (decompression-bomb limit)",
        "drift": "weight of the drift penalty E[D(real)^2] (objective wgan-gp-drift)",
        "resolution": "set by the schedule: the resolution a phase trains at (0: image_size)",
        "fade": "set by the schedule: whether a phase fades its resolution in",
        "steps_4": "steps at 4x4",
        **{f"fade_{r}": f"steps fading {r}x{r} in (0 above image_size)" for r in PGGAN_SIZES},
        **{f"steps_{r}": f"steps at {r}x{r} after its fade-in, below the target (0 from image_size up)"
           for r in PGGAN_SIZES[:-1]},
        **ADA_OPTIONS,
    },
    presets=_pggan_presets(),
    phases=_pggan_phases(),
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
        "preset": "full",
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
        **ADA_DEFAULTS,
    },
    options={
        "preset": "full (every StyleGAN2 regulariser, at the CIFAR-10 configuration's small widths) or cpu "
                  "(no path length regularisation, widths up to 64, style mixing 0.5: recognisable "
                  "class-conditional shapes in 1,500 steps on one CPU core; docs/benchmarks.md)",
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
        **ADA_OPTIONS,
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
        # Measured on the bold shapes, 32 px, class-conditional, one thread (docs/benchmarks.md):
        # 1,500 steps give class accuracy 0.99. Path length regularisation's double backward
        # and 128-wide layers cost most of a CPU step and buy nothing visible at this size.
        "preset=cpu": {"pl_weight": 0.0, "channel_max": 64, "style_mixing": 0.5},
    },
)


# ----------------------------------------------------------------------------- text-to-image
TEXT2IMAGE = Recipe(
    modality="image",
    generator="dfgan",
    discriminator="dfgan",
    objective="matching-aware",
    summary="text-to-image after DF-GAN (Tao et al. 2022): images from captions (metadata.jsonl 'text')",
    reference="Tao, Tang, Wu, Jing, Bao & Xu, DF-GAN: A Simple and Effective Baseline for "
              "Text-to-Image Synthesis, CVPR 2022",
    defaults={
        "image_size": 32, "channels": 3, "nz": 100, "ngf": 32, "ndf": 32,
        "conditional": True, "encoder": "text:minilm",
        "max_image_pixels": 89_478_485, "batch_size": 32, "optimizer": "adam",
        # DF-GAN: hinge, Adam (0, 0.9), G 1e-4, D 4e-4, MA-GP k=2 p=6 every step
        "lr_g": 1e-4, "lr_d": 4e-4, "betas_g": [0.0, 0.9], "betas_d": [0.0, 0.9],
        "ma_gp_weight": 2.0, "ma_gp_power": 6.0,
        "steps": 3000, "ema_beta": 0.999,
        **ADA_DEFAULTS,
    },
    options={
        "image_size": "image side in pixels, a power of two from 8 (images are resized, then centre-cropped)",
        "channels": "3 for RGB, 1 for grayscale (images are converted on load)",
        "nz": "size of the latent vector z",
        "ngf": "generator width next to the image (doubles towards 4x4, at most 8x)",
        "ndf": "discriminator width next to the image (doubles towards 4x4, at most 8x)",
        "max_image_pixels": "larger images are skipped before decoding (decompression-bomb limit)",
        **ADA_OPTIONS,
    },
)
