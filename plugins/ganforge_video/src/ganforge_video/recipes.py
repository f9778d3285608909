"""The vgan recipe (no torch here: `ganforge recipes` imports it)."""

from ganforge import Recipe

VGAN = Recipe(
    modality="video",
    generator="vgan",
    discriminator="vgan",
    objective="vgan",
    summary="VGAN (Vondrick et al. 2016): two-stream video GAN, a moving masked foreground over a still background",
    reference="Vondrick, Pirsiavash & Torralba, Generating Videos with Scene Dynamics, NeurIPS 2016",
    defaults={
        "preset": "small",
        # the small preset: what class-conditional moving shapes need to come out recognisable on
        # a CPU (README "Quality": each change measured with bench/quality_video.py)
        "frames": 8,
        "frame_size": 32,
        "channels": 3,
        "frame_step": 1,
        "clips_per_file": 1,
        "nz": 100,
        "ngf": 16,
        "ndf": 16,
        "d_norm": "layer",
        "g_up": "resize",
        "g_cond": "cbn",
        "d_frames": True,
        "loss": "non-saturating",
        "mask_l1": 0.1,
        "batch_size": 16,
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas_g": [0.5, 0.999],
        "betas_d": [0.5, 0.999],
        "steps": 3500,
        "checkpoint_every": 200,
        "sample_every": 100,
        "preview_n": 8,
    },
    options={
        "preset": "small (8 frames of 32x32, ngf=ndf=16, batch 16, resize upsampling, conditional batch norm in G, "
                  "layer norm in D and a frame discriminator beside the video one: sized for a CPU) or paper (32 "
                  "frames of 64x64, ngf=ndf=64, batch 64, transposed convolutions, batch norm in D, z alone into G, "
                  "as Vondrick et al.)",
        "frames": "frames per clip T, a power of two (a clip gives its first T frames)",
        "frame_size": "frame side in pixels, a power of two from 16 (frames are resized, then centre-cropped)",
        "channels": "3 (RGB) or 1 (grayscale)",
        "frame_step": "take every N-th frame of a clip (slower motion in the data: 2 or more)",
        "clips_per_file": "non-overlapping windows of T frames taken from each long clip",
        "nz": "latent size",
        "ngf": "generator width next to the video (doubles towards 4x4, at most 8x)",
        "ndf": "discriminator width next to the video",
        "d_norm": "discriminator normalisation: batch (the paper), layer or none",
        "g_up": "generator upsampling: transposed (the paper's 4x4x4 stride-2 transposed convolutions) or resize "
                "(nearest-neighbour x2, then a 3x3x3 convolution: no checkerboard)",
        "g_cond": "how a conditional generator takes the class: concat (to z) or cbn (conditional batch norm "
                  "in every layer of both streams)",
        "d_frames": "true: a 2-D frame discriminator beside the 3-D one judges every frame (its mean logit is added)",
        "loss": "non-saturating (the paper) or hinge",
        "mask_l1": "weight of the L1 sparsity of the foreground mask in the generator loss (the paper: 0.1)",
    },
    presets={
        "preset=paper": {"frames": 32, "frame_size": 64, "ngf": 64, "ndf": 64, "batch_size": 64, "g_up": "transposed",
                         "d_norm": "batch", "g_cond": "concat", "d_frames": False},
    },
)
