"""Registration only: no torch import here, so `ganforge plugins` stays fast."""

from ganforge import hookimpl

GANFORGE_API = 1  # the ganforge plugin API this plugin is written for (ganforge.API_VERSION)


@hookimpl
def ganforge_register_modalities(register):
    register("video", "ganforge_video.modality:VideoModality",
             summary="clips: folders of frames, GIF/WebP, MP4/AVI/WebM with PyAV <-> GIF, WebP, MP4, PNG strips")


@hookimpl
def ganforge_register_generators(register):
    register("vgan", "ganforge_video.vgan:Generator", summary="VGAN two-stream generator (3-D foreground + mask, 2-D background)")


@hookimpl
def ganforge_register_discriminators(register):
    register("vgan", "ganforge_video.vgan:Discriminator", summary="VGAN 3-D convolutional discriminator")


@hookimpl
def ganforge_register_objectives(register):
    register("vgan", "ganforge_video.vgan:VGANObjective", summary="non-saturating GAN + L1 sparsity of VGAN's mask")


@hookimpl
def ganforge_register_recipes(register):
    register("vgan", "ganforge_video.recipes:VGAN",
             summary="VGAN (Vondrick et al. 2016), video with scene dynamics (data: `ganforge data moving-shapes`)")


@hookimpl
def ganforge_register_datasets(register):
    register("moving-shapes", "ganforge_video.data:make_moving_shapes",
             summary="clips of circles, squares and triangles moving over a still background, a class each (drawn)")
