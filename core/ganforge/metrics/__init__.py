"""Modality-independent metrics: distances between feature sets, mode coverage, evaluate.

- :func:`frechet_distance`, :func:`kernel_inception_distance`,
  :func:`precision_recall_density_coverage`: two feature sets [N, F] -> floats
- :func:`evaluate` and :class:`EvalContext`: ``ganforge evaluate RUN --data PATH``
- :func:`fd`, :func:`kid`, :func:`prc`, :func:`class_acc`: the built-in metrics,
  registered by the core as ``ganforge.metrics:fd`` and so on (``class-acc`` is added
  to the defaults of a label-conditioned run)
- :func:`fit_feature_network`, :func:`features_from`, :func:`rotation_pretext`: a feature
  space for a modality without downloads (a classifier trained on the data itself)

Figures are comparable only within one feature space; its name comes with every result.
"""

from .distances import frechet_distance, kernel_inception_distance, precision_recall_density_coverage
from .context import EvalContext, class_acc, evaluate, fd, kid, prc
from .networks import features_from, fit_feature_network, rotation_pretext

__all__ = [
    "EvalContext",
    "class_acc",
    "evaluate",
    "fd",
    "features_from",
    "fit_feature_network",
    "frechet_distance",
    "kernel_inception_distance",
    "kid",
    "precision_recall_density_coverage",
    "prc",
    "rotation_pretext",
]
