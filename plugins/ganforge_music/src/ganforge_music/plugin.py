"""Registrations of the music plugin. No torch here: `ganforge plugins` imports this module."""

from ganforge import hookimpl

GANFORGE_API = 1  # the ganforge plugin API this plugin is written for (ganforge.API_VERSION)


@hookimpl
def ganforge_register_modalities(register):
    register("music", "ganforge_music.modality:MusicModality",
             summary="MIDI folders -> multi-track piano-roll phrases (tracks by GM program family); MIDI/WAV/PNG out")


@hookimpl
def ganforge_register_generators(register):
    register("musegan", "ganforge_music.musegan:Generator",
             summary="MuseGAN hybrid generator: shared + private latents, temporal and bar generators")


@hookimpl
def ganforge_register_discriminators(register):
    register("musegan", "ganforge_music.musegan:Discriminator",
             summary="MuseGAN shared/private critic with chroma and onset streams")


@hookimpl
def ganforge_register_encoders(register):
    register("track", "ganforge_music.encoders:TrackEncoder",
             summary="MuseGAN track-conditional mode: given tracks (condition_tracks) from the phrase / condition_midi")


@hookimpl
def ganforge_register_recipes(register):
    register("musegan", "ganforge_music.recipes:MUSEGAN", summary="MuseGAN, Dong et al. 2018 (WGAN-GP)")


@hookimpl
def ganforge_register_datasets(register):
    register("band", "ganforge_music.datasets:make_band",
             summary="procedural MIDI songs: rock, blues, pop, ballad in 24 keys, 5 tracks, captions")


@hookimpl
def ganforge_register_metrics(register):
    register("musegan", "ganforge_music.metrics:musegan",
             summary="MuseGAN's EB, UPC, QN, DP, TD of generated vs real phrases")
    register("prompt-agreement", "ganforge_music.metrics:prompt_agreement",
             summary="key and chord agreement of generated phrases with the keys and progressions prompts name")
