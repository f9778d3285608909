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
        "preset": "paper",
        "image_size": 64,
        "channels": 3,
        "nz": 100,
        "ngf": 64,
        "ndf": 64,
        "d_norm": "batch",
        "g_cond": "concat",
        "d_mbstd": 0,
        "max_image_pixels": 89_478_485,
        "batch_size": 64,
        "optimizer": "adam",
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas_g": [0.5, 0.999],
        "betas_d": [0.5, 0.999],
    },
    options={
        "preset": "paper (Radford et al., as published) or small-data (conditional batch norm in G, layer "
                  "norm in D: learns a class-conditional model of a small data set on a CPU in minutes)",
        "image_size": "image side in pixels, a power of two from 16 (images are resized, then centre-cropped)",
        "channels": "3 for RGB, 1 for grayscale (images are converted on load)",
        "nz": "size of the latent vector z",
        "ngf": "generator width next to the image (doubles towards 4x4, at most 8*ngf)",
        "ndf": "discriminator width next to the image (doubles towards 4x4, at most 8*ndf)",
        "d_norm": "discriminator normalisation: batch (DCGAN), layer (WGAN-GP), spectral (SNGAN) or none",
        "g_cond": "how a conditional generator takes the class: concat (to z, cGAN) or cbn (conditional batch norm)",
        "d_mbstd": "minibatch standard deviation group size in the discriminator (PGGAN; 0: off)",
        "max_image_pixels": "larger images are skipped before decoding (decompression-bomb limit; Pillow's default)",
    },
    presets={
        # Measured on the bold shapes (bench/quality_demo.py, docs/image.md): with batch norm
        # in D and z+class concatenated, 2,400 steps give one blob per image (class accuracy
        # 0.25-0.5); with these two changes 1.00 on four seeds. Batch norm lets D judge a
        # batch of all-real or all-fake images by its statistics and win outright; conditional
        # batch norm hands the class to every layer of G rather than to the first only.
        "preset=small-data": {"g_cond": "cbn", "d_norm": "layer"},
        # Arjovsky et al. 2017: RMSProp 5e-5, 5 critic steps, clipping (the core's `clip`).
        "objective=wgan": {"optimizer": "rmsprop", "lr_g": 5e-5, "lr_d": 5e-5, "n_critic": 5},
        # Gulrajani et al. 2017: Adam 1e-4 (0.5, 0.9), 5 critic steps, no batch norm in the critic.
        "objective=wgan-gp": {"lr_g": 1e-4, "lr_d": 1e-4, "betas_g": [0.5, 0.9], "betas_d": [0.5, 0.9],
                              "n_critic": 5, "d_norm": "layer"},
    },
)
