"""The core's own registrations (objectives), loaded like a plugin under the name "core"."""

from .plugins import hookimpl

_OBJECTIVES = {
    "non-saturating": ("NonSaturating", "GAN with the non-saturating G loss (softplus / BCE with logits)"),
    "minimax": ("Minimax", "the original saturating minimax game"),
    "wgan": ("WGAN", "Wasserstein GAN with critic weight clipping"),
    "wgan-gp": ("WGANGP", "Wasserstein GAN with gradient penalty"),
    "hinge": ("Hinge", "hinge loss"),
    "lsgan": ("LSGAN", "least-squares GAN"),
    "rpgan": ("RpGAN", "relativistic pairing GAN with R1 + R2 (R3GAN), optional cosine-decayed gamma"),
    "matching-aware": ("MatchingAware", "conditional hinge loss with mismatched pairs and MA-GP (DF-GAN)"),
    "matching-hard": ("HardMatching", "non-saturating, and real samples with the batch's most similar other "
                                      "caption count as fake"),
}


@hookimpl
def ganforge_register_objectives(register):
    for name, (cls, summary) in _OBJECTIVES.items():
        register(name, f"ganforge.training.objectives:{cls}", summary=summary)


@hookimpl
def ganforge_register_encoders(register):
    register("label", "ganforge.encoders:LabelEncoder", summary="learned class embeddings (class sub-folders)")


@hookimpl
def ganforge_register_metrics(register):
    register("fd", "ganforge.metrics:fd", summary="Frechet distance in the modality's feature space")
    register("kid", "ganforge.metrics:kid", summary="kernel (inception) distance, unbiased MMD^2 with a cubic kernel")
    register("prc", "ganforge.metrics:prc", summary="precision, recall, density, coverage (k=5)")
    register("class-acc", "ganforge.metrics:class_acc",
             summary="class-conditional runs: accuracy of a classifier trained on the real labels, with its own ceiling")
    register("r-precision", "ganforge.metrics:r_precision",
             summary="caption-conditioned runs: is a sample's prompt the best match among 100 captions (contrastive matching model)")
    register("inception-score", "ganforge.metrics:inception_score",
             summary="data with class sub-folders: inception score from a classifier trained on the real labels")
