"""The musegan recipe. No torch here: `ganforge recipes musegan` imports this module.

MuseGAN's training set-up (Dong et al. 2018 and its code): WGAN-GP (lambda 10), 5 critic
updates per generator update, Adam lr 1e-3 betas (0.5, 0.9). The CPU default is 4 bars of
16 steps (4 per beat) over 48 pitches (C2-B5) and 5 tracks; ``--set size=paper`` gives the
paper's 4 bars x 48 steps x 84 pitches.
"""

from ganforge import Phase, Recipe

from .midi import DEFAULT_TRACKS

_DEFAULTS = {
    # how MIDI becomes rolls
    "tracks": DEFAULT_TRACKS,
    "beat_resolution": 4,
    "beats_per_bar": 4,
    "lowest_pitch": 36,
    "n_pitches": 48,
    "n_bars": 4,
    "phrase_hop_bars": 4,
    "max_phrases_per_file": 0,
    "size": "cpu",
    # writing
    "tempo": 0.0,
    "synth": "auto",
    # networks
    "z_dim": 32,
    "g_channels": 64,
    "d_channels": 16,
    "temporal_hidden": 256,
    "condition_tracks": "melody",
    "harmony": True,
    "condition_norm": True,
    # MuseGAN's optimisation (WGAN-GP)
    "batch_size": 16,
    "n_critic": 5,
    "lr_g": 1e-3,
    "lr_d": 1e-3,
    "betas_g": [0.5, 0.9],
    "betas_d": [0.5, 0.9],
    "gp_weight": 10.0,
    "ema_beta": 0.999,
    "preview_n": 8,
    "sample_every": 500,
    "steps": 3000,
}

_OPTIONS = {
    "tracks": "track name:General MIDI programs (0-127, ranges, 'drums' for channel 10), space-separated; "
              "an instrument goes to the first track whose programs hold its program",
    "beat_resolution": "time steps per beat (MuseGAN: 12 or 24)",
    "beats_per_bar": "beats per bar (bars are counted from the file's start)",
    "lowest_pitch": "MIDI note of the roll's lowest row (MuseGAN: 24)",
    "n_pitches": "rows of the roll, whole octaves (MuseGAN: 84); notes outside are folded in by octaves",
    "n_bars": "bars per phrase (MuseGAN: 4)",
    "phrase_hop_bars": "a phrase starts every this many bars (fewer than n_bars: overlapping phrases)",
    "max_phrases_per_file": "keep at most this many phrases of each file (0: all)",
    "size": "cpu (4 bars x 16 steps x 48 pitches) or paper (4 x 48 x 84, MuseGAN's); sets the grid options",
    "tempo": "tempo of written MIDI and WAV in BPM (0: the median first tempo of the training files)",
    "synth": "WAV rendering: auto (FluidSynth with a GM SoundFont when installed, else built-in), fluidsynth, builtin",
    "z_dim": "size of each of MuseGAN's four latents (shared, shared temporal, private, private temporal; paper 128)",
    "g_channels": "width of the generator's shared bar layers",
    "d_channels": "width of the critic's private layers, per track",
    "temporal_hidden": "hidden units of the temporal generators",
    "condition_tracks": "with --set encoder=track: the tracks given from MIDI (condition_midi), the others generated",
    "harmony": "a chord per beat (12 pitch-class logits from the shared latents and the condition) added to every "
               "pitched track: the tracks play in one harmony (not in MuseGAN; false: MuseGAN's generator)",
    "condition_norm": "standardise the caption or class embedding per dimension in both networks, so small "
                      "differences such as the key of a caption are heard (false: as MuseGAN's projection)",
}

MUSEGAN = Recipe(
    modality="music:music",
    generator="music:musegan",
    discriminator="music:musegan",
    objective="wgan-gp",
    summary="MuseGAN: multi-track piano-roll phrases from MIDI (hybrid generator, WGAN-GP)",
    reference="Dong, Hsiao, Yang & Yang, MuseGAN, AAAI 2018",
    defaults=_DEFAULTS,
    options=_OPTIONS,
    presets={
        "size=paper": {"beat_resolution": 12, "lowest_pitch": 24, "n_pitches": 84, "z_dim": 128,
                       "g_channels": 256, "d_channels": 64, "batch_size": 64},
        "objective=non-saturating": {"n_critic": 1, "lr_g": 2e-4, "lr_d": 2e-4,
                                     "betas_g": [0.5, 0.999], "betas_d": [0.5, 0.999]},
        "objective=hinge": {"n_critic": 1},
    },
    phases=[Phase("train")],
)
