"""Registrations of the image plugin. Lazy references only: no torch import here."""

from ganforge import hookimpl

GANFORGE_API = 1  # the ganforge plugin API this plugin is written for (ganforge.API_VERSION)

__version__ = "0.1.0"


@hookimpl
def ganforge_register_modalities(register):
    register("image", "ganforge_image.modality:ImageModality",
             summary="folders of PNG/JPEG/WebP (class sub-folders, captions) or CIFAR-10 batches")


@hookimpl
def ganforge_register_generators(register):
    register("dcgan", "ganforge_image.dcgan:Generator", summary="DCGAN generator, any power-of-two size from 16")
    register("r3gan", "ganforge_image.r3gan:Generator", summary="R3GAN ResNet generator, no normalisation")
    register("dfgan", "ganforge_image.dfgan:Generator", summary="DF-GAN generator: text-conditioned fusion blocks")
    register("pggan", "ganforge_image.pggan:Generator",
             summary="PGGAN generator: grows from 4x4 with fade-in, pixel norm, equalised lr")
    register("stylegan", "ganforge_image.stylegan:Generator",
             summary="StyleGAN2 generator (mapping, modulated convs, noise, skip), or StyleGAN1 with AdaIN; 16-256 px")


@hookimpl
def ganforge_register_discriminators(register):
    register("dcgan", "ganforge_image.dcgan:Discriminator",
             summary="DCGAN discriminator, batch/layer/no norm, projection conditioning")
    register("r3gan", "ganforge_image.r3gan:Discriminator", summary="R3GAN ResNet discriminator, no normalisation")
    register("dfgan", "ganforge_image.dfgan:Discriminator", summary="DF-GAN one-way conditional discriminator")
    register("pggan", "ganforge_image.pggan:Discriminator",
             summary="PGGAN discriminator: grows with fade-in, minibatch stddev, equalised lr")
    register("stylegan", "ganforge_image.stylegan:Discriminator",
             summary="StyleGAN2 residual discriminator, minibatch stddev, projection conditioning")


@hookimpl
def ganforge_register_recipes(register):
    register("dcgan", "ganforge_image.recipes:DCGAN", summary="DCGAN (Radford et al. 2016)")
    register("r3gan", "ganforge_image.recipes:R3GAN", summary="R3GAN (Huang et al. 2024)")
    register("pggan", "ganforge_image.recipes:PGGAN", summary="Progressive growing of GANs (Karras et al. 2018)")
    register("stylegan", "ganforge_image.recipes:STYLEGAN", summary="StyleGAN2 / StyleGAN (Karras et al. 2020, 2019)")
    register("text2image", "ganforge_image.recipes:TEXT2IMAGE", summary="text-to-image after DF-GAN (Tao et al. 2022)")


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
    register("stylegan2", "ganforge_image.stylegan_objective:StyleGAN2Loss",
             summary="non-saturating + lazy R1 + lazy path length regularisation (StyleGAN2)")


@hookimpl
def ganforge_register_commands(register):
    register("stylegan-mix", "ganforge_image.stylegan_tools:mix_main",
             summary="style-mixing grid of a StyleGAN run: coarse styles from --rows, fine from --cols")
    register("interpolate", "ganforge_image.stylegan_tools:interpolate_main",
             summary="interpolation between seeds of an image run: a PNG strip and an animated GIF/WebP")


@hookimpl
def ganforge_register_models(register):
    register("shapes-t2i", "ganforge_image.pretrained:SHAPES_T2I",
             summary="text-to-image: 32x32 shapes from a prompt such as 'a small red star on a blue background'")
