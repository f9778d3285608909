"""Registration only: no torch import here, so `ganforge plugins` stays fast."""

from ganforge import hookimpl

GANFORGE_API = 1  # the ganforge plugin API this plugin is written for (ganforge.API_VERSION)


@hookimpl
def ganforge_register_modalities(register):
    register("points", "ganforge_toy.modality:PointsModality", summary="2-D points from CSV files")


@hookimpl
def ganforge_register_generators(register):
    register("mlp", "ganforge_toy.mlp:Generator", summary="MLP generator for low-dimensional points")


@hookimpl
def ganforge_register_discriminators(register):
    register("mlp", "ganforge_toy.mlp:Discriminator", summary="MLP discriminator, optional PacGAN packing")


@hookimpl
def ganforge_register_recipes(register):
    register("toy-ring", "ganforge_toy.recipes:TOY_RING", summary="MLP GAN on 8 Gaussians on a ring (PacGAN benchmark)")
    register("toy-grid", "ganforge_toy.recipes:TOY_GRID", summary="MLP GAN on a 5x5 grid of Gaussians (PacGAN benchmark)")


@hookimpl
def ganforge_register_datasets(register):
    register("ring", "ganforge_toy.datasets:make_ring", summary="8 Gaussians on the unit circle, std 0.01")
    register("grid", "ganforge_toy.datasets:make_grid", summary="25 Gaussians on {-4,-2,0,2,4}^2, std 0.05")


@hookimpl
def ganforge_register_metrics(register):
    register("modes", "ganforge_toy.metrics:modes", summary="modes captured and % high-quality samples (PacGAN)")
