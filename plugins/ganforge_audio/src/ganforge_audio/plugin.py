"""Registrations of the audio plugin. No torch here: `ganforge plugins` imports this module."""

from ganforge import hookimpl

GANFORGE_API = 1  # the ganforge plugin API this plugin is written for (ganforge.API_VERSION)


@hookimpl
def ganforge_register_modalities(register):
    register("audio", "ganforge_audio.modality:AudioModality",
             summary="folders of WAV/FLAC/OGG, any rate and channel count, class sub-folders, captions")


@hookimpl
def ganforge_register_generators(register):
    register("wavegan", "ganforge_audio.wavegan:Generator",
             summary="WaveGAN generator: transposed conv1d k25 s4, 4096..65536 samples")
    register("specgan", "ganforge_audio.specgan:Generator",
             summary="SpecGAN generator: normalised 128-bin log-magnitude spectrograms")


@hookimpl
def ganforge_register_discriminators(register):
    register("wavegan", "ganforge_audio.wavegan:Discriminator",
             summary="WaveGAN critic: conv1d k25 s4 with phase shuffle")
    register("specgan", "ganforge_audio.specgan:Discriminator",
             summary="SpecGAN critic: conv2d k5 s2 over spectrograms")


@hookimpl
def ganforge_register_recipes(register):
    register("wavegan", "ganforge_audio.recipes:WAVEGAN", summary="WaveGAN, Donahue et al. 2019 (WGAN-GP)")
    register("specgan", "ganforge_audio.recipes:SPECGAN", summary="SpecGAN, Donahue et al. 2019 (WGAN-GP)")
    register("text2music", "ganforge_audio.recipes:TEXT2MUSIC",
             summary="text-to-music: SpecGAN conditioned on captions, matching-aware loss")


@hookimpl
def ganforge_register_datasets(register):
    register("tones", "ganforge_audio.datasets:make_tones",
             summary="synthesized notes and chords from a few timbres, 16 kHz WAV with captions")


@hookimpl
def ganforge_register_metrics(register):
    register("nn-distance", "ganforge_audio.metrics:nn_distance",
             summary="mean nearest-neighbour distance from generated samples to the training set")


@hookimpl
def ganforge_register_models(register):
    register("tones-t2m", "ganforge_audio.pretrained:TONES_T2M",
             summary="text-to-music: 1 s tones from a prompt such as 'C major chord, organ'")
