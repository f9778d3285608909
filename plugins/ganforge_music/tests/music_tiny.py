"""Tiny settings for the music plugin's tests (a module of its own: conftest names clash across plugins)."""

#: a MuseGAN small enough to train a few steps in a second or two
TINY = {"z_dim": 4, "g_channels": 16, "d_channels": 4, "temporal_hidden": 16, "batch_size": 4, "n_critic": 2,
        "preview_n": 2, "sample_every": 0, "checkpoint_every": 0, "log_every": 1, "progress": False,
        "device": "cpu", "synth": "builtin"}
