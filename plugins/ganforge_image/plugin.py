"""Registrations of the image plugin. Lazy references only: no torch import here."""

from ganforge import hookimpl

__version__ = "0.1.0"


@hookimpl
def ganforge_register_modalities(register):
    register("image", "ganforge_image.modality:ImageModality",
             summary="folders of PNG/JPEG/WebP (class sub-folders, captions) or CIFAR-10 batches")


@hookimpl
def ganforge_register_generators(register):
    register("dcgan", "ganforge_image.dcgan:Generator", summary="DCGAN generator, any power-of-two size from 16")
    register("stylegan", "ganforge_image.stylegan:Generator",
             summary="StyleGAN2 generator (mapping, modulated convs, noise, skip), or StyleGAN1 with AdaIN; 16-256 px")


@hookimpl
def ganforge_register_discriminators(register):
    register("dcgan", "ganforge_image.dcgan:Discriminator",
             summary="DCGAN discriminator, batch/layer/no norm, projection conditioning")
    register("stylegan", "ganforge_image.stylegan:Discriminator",
             summary="StyleGAN2 residual discriminator, minibatch stddev, projection conditioning")


@hookimpl
def ganforge_register_recipes(register):
    register("dcgan", "ganforge_image.recipes:DCGAN", summary="DCGAN (Radford et al. 2016)")
    register("stylegan", "ganforge_image.recipes:STYLEGAN", summary="StyleGAN2 / StyleGAN (Karras et al. 2020, 2019)")


@hookimpl
def ganforge_register_datasets(register):
    register("shapes", "ganforge_image.datasets:make_shapes",
             summary="coloured shapes on coloured backgrounds, 4 classes, with captions (made locally)")


@hookimpl
def ganforge_register_demos(register):
    register("shapes", "ganforge_image.demo:shapes_demo",
             summary="class-conditional DCGAN on coloured shapes, about two minutes on a CPU")


@hookimpl
def ganforge_register_objectives(register):
    register("stylegan2", "ganforge_image.stylegan_objective:StyleGAN2Loss",
             summary="non-saturating + lazy R1 + lazy path length regularisation (StyleGAN2)")


@hookimpl
def ganforge_register_commands(register):
    register("stylegan-mix", "ganforge_image.stylegan_tools:mix_main",
             summary="style-mixing grid of a StyleGAN run: coarse styles from --rows, fine from --cols")
    register("interpolate", "ganforge_image.stylegan_tools:interpolate_main",
             summary="interpolation between seeds of an image run: a PNG strip and an animated GIF/WebP")
