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
