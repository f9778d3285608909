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


@hookimpl
def ganforge_register_discriminators(register):
    register("dcgan", "ganforge_image.dcgan:Discriminator",
             summary="DCGAN discriminator, batch/layer/no norm, projection conditioning")


@hookimpl
def ganforge_register_recipes(register):
    register("dcgan", "ganforge_image.recipes:DCGAN", summary="DCGAN (Radford et al. 2016)")


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
