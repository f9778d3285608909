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
    register("r3gan", "ganforge_image.r3gan:Generator", summary="R3GAN ResNet generator, no normalisation")
    register("pggan", "ganforge_image.pggan:Generator",
             summary="PGGAN generator: grows from 4x4 with fade-in, pixel norm, equalised lr")


@hookimpl
def ganforge_register_discriminators(register):
    register("dcgan", "ganforge_image.dcgan:Discriminator",
             summary="DCGAN discriminator, batch/layer/no norm, projection conditioning")
    register("r3gan", "ganforge_image.r3gan:Discriminator", summary="R3GAN ResNet discriminator, no normalisation")
    register("pggan", "ganforge_image.pggan:Discriminator",
             summary="PGGAN discriminator: grows with fade-in, minibatch stddev, equalised lr")


@hookimpl
def ganforge_register_recipes(register):
    register("dcgan", "ganforge_image.recipes:DCGAN", summary="DCGAN (Radford et al. 2016)")
    register("r3gan", "ganforge_image.recipes:R3GAN", summary="R3GAN (Huang et al. 2024)")
    register("pggan", "ganforge_image.recipes:PGGAN", summary="Progressive growing of GANs (Karras et al. 2018)")


@hookimpl
def ganforge_register_datasets(register):
    register("shapes", "ganforge_image.datasets:make_shapes",
             summary="coloured shapes on coloured backgrounds, 4 classes, with captions (made locally)")


@hookimpl
def ganforge_register_demos(register):
    register("shapes", "ganforge_image.demo:shapes_demo",
             summary="class-conditional DCGAN on coloured shapes, about two minutes on a CPU")


@hookimpl
def ganforge_register_augmentations(register):
    register("ada", "ganforge_image.ada:ADA",
             summary="adaptive discriminator augmentation (Karras et al. 2020): flips, rot90, translation, scale, colour")


@hookimpl
def ganforge_register_objectives(register):
    register("wgan-gp-drift", "ganforge_image.pggan:WGANGPDrift",
             summary="WGAN-GP plus PGGAN's drift penalty 0.001 * E[D(x)^2] on reals")
