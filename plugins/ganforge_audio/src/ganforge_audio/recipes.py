"""The audio recipes, WaveGAN and SpecGAN (Donahue, McAuley & Puckette, ICLR 2019).

No torch here: `ganforge recipes wavegan` imports this module to list the options.
Both recipes follow the paper's training set-up: WGAN-GP (lambda 10), 5 critic
updates per generator update, Adam lr 1e-4 betas (0.5, 0.9), batch 64, z ~ U[-1, 1]^100.
"""

from ganforge import Phase, Recipe

# Options shared by both recipes: how audio is read and shaped for the networks.
_AUDIO_DEFAULTS = {
    "sample_rate": 16000,
    "audio_length": 16384,
    "mono": True,
    "max_slices_per_file": 0,
    "model_dim": 64,
    "nz": 100,
    "save_spectrograms": False,
    "preview_n": 16,
    # the paper's optimisation (WGAN-GP)
    "batch_size": 64,
    "n_critic": 5,
    "lr_g": 1e-4,
    "lr_d": 1e-4,
    "betas_g": [0.5, 0.9],
    "betas_d": [0.5, 0.9],
    "gp_weight": 10.0,
}

_AUDIO_OPTIONS = {
    "sample_rate": "rate (Hz) every file is resampled to; generated WAV files use it",
    "audio_length": "samples per training example: 4096, 8192, 16384 (paper), 32768 or 65536",
    "mono": "mix every file down to one channel (false: keep the channels of the data)",
    "max_slices_per_file": "cut long files into at most this many audio_length slices (0: all of them)",
    "model_dim": "network width d (paper: 64); small values make tiny test models",
    "nz": "size of the latent vector z, drawn uniformly from [-1, 1]",
    "save_spectrograms": "also write a spectrogram PNG beside every generated WAV",
    "representation": "what the networks see, set by the recipe: waveform (WaveGAN), spectrogram (SpecGAN's "
                      "linear 128-bin grid) or logfreq (128 bins on a log-frequency grid that separates semitones)",
}

# Changing the objective away from the paper's WGAN-GP brings the matching optimiser settings,
# unless the user sets those options too.
_PRESETS = {
    "objective=wgan": {"optimizer": "rmsprop", "lr_g": 5e-5, "lr_d": 5e-5},
    "objective=non-saturating": {"n_critic": 1, "lr_g": 1e-4, "lr_d": 1e-4,
                                 "betas_g": [0.5, 0.999], "betas_d": [0.5, 0.999]},
    "objective=hinge": {"n_critic": 1},
    "objective=lsgan": {"n_critic": 1},
}

WAVEGAN = Recipe(
    modality="audio:audio",
    generator="audio:wavegan",
    discriminator="audio:wavegan",
    objective="wgan-gp",
    summary="WaveGAN: raw-waveform GAN with transposed conv1d and phase shuffle",
    reference="Donahue, McAuley & Puckette, Adversarial Audio Synthesis, ICLR 2019",
    defaults={
        **_AUDIO_DEFAULTS,
        "representation": "waveform",
        "phase_shuffle": 2,
        "post_filter_len": 0,
    },
    options={
        **_AUDIO_OPTIONS,
        "phase_shuffle": "critic phase shuffle: shift activations by up to n samples (paper: 2; 0 disables)",
        "post_filter_len": "length of the learned post-processing filter after the generator (paper: 512; 0: none)",
    },
    presets=_PRESETS,
    phases=[Phase("train")],
)

SPECGAN = Recipe(
    modality="audio:audio",
    generator="audio:specgan",
    discriminator="audio:specgan",
    objective="wgan-gp",
    summary="SpecGAN: GAN over normalised log-magnitude spectrograms, inverted with Griffin-Lim",
    reference="Donahue, McAuley & Puckette, Adversarial Audio Synthesis, ICLR 2019",
    defaults={
        **_AUDIO_DEFAULTS,
        "representation": "spectrogram",
        "griffin_lim_iters": 16,
    },
    options={
        **_AUDIO_OPTIONS,
        "griffin_lim_iters": "Griffin-Lim iterations when turning spectrograms into audio (paper: 16)",
    },
    presets=_PRESETS,
    phases=[Phase("train")],
)

# Text-to-music: SpecGAN conditioned on captions ("C major chord, organ") through a text
# encoder, with a matching-aware objective from the core, as text-to-image: one code path
# for prompts in every modality. Two defaults differ from SpecGAN's, because prompts name
# notes (docs/prompts.md, tones-t2m): the log-frequency grid (SpecGAN's linear one is 62.5 Hz
# a bin, wider than a semitone below 1 kHz), and matching-hard, whose mismatched caption is
# the batch's nearest other one (usually one word apart: the root note the discriminator
# has not learned to check). With both, tones-t2m plays the prompt's root in 0.8 of clips;
# with the linear grid and DF-GAN's matching-aware hinge, in 0.2.
TEXT2MUSIC = Recipe(
    modality="audio:audio",
    generator="audio:specgan",
    discriminator="audio:specgan",
    objective="matching-aware",
    summary="text-to-music: SpecGAN conditioned on captions (metadata.jsonl 'text'), matching-aware loss",
    reference="Donahue et al., ICLR 2019 (SpecGAN); Tao et al., CVPR 2022 (matching-aware loss, MA-GP)",
    defaults={
        **SPECGAN.defaults,
        "conditional": True,
        "encoder": "text:minilm",
        "representation": "logfreq",
        "objective": "matching-hard",
        # DF-GAN's optimisation for the matching-aware hinge loss
        "n_critic": 1,
        "lr_g": 1e-4,
        "lr_d": 4e-4,
        "betas_g": [0.0, 0.9],
        "betas_d": [0.0, 0.9],
        "ma_gp_weight": 2.0,
        "ma_gp_power": 6.0,
    },
    options=dict(SPECGAN.options),
    phases=[Phase("train")],
)
