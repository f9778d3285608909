"""Registration only: no torch import here, so `ganforge plugins` stays fast."""

from ganforge import hookimpl

GANFORGE_API = 1  # the ganforge plugin API this plugin is written for (ganforge.API_VERSION)


@hookimpl
def ganforge_register_modalities(register):
    register("video-points", "ganforge_video.model:Points", summary="points in CSV files")


@hookimpl
def ganforge_register_generators(register):
    register("video-mlp", "ganforge_video.model:Generator", summary="MLP generator")


@hookimpl
def ganforge_register_discriminators(register):
    register("video-mlp", "ganforge_video.model:Discriminator", summary="MLP discriminator")


@hookimpl
def ganforge_register_recipes(register):
    register("video", "ganforge_video.model:RECIPE", summary="an MLP GAN on points (data: `ganforge data video-demo`)")


@hookimpl
def ganforge_register_datasets(register):
    register("video-demo", "ganforge_video.data:make_demo", summary="points on a circle, drawn (never downloaded)")
