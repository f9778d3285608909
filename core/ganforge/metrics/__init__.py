"""Modality-independent metrics: distances between feature sets, mode coverage, evaluate.

- :func:`frechet_distance`, :func:`kernel_inception_distance`,
  :func:`precision_recall_density_coverage`: two feature sets [N, F] -> floats;
  :func:`inception_score_of`: class probabilities [N, C] -> (mean, std)
- :func:`evaluate` and :class:`EvalContext`: ``ganforge evaluate RUN --data PATH``
- :func:`fd`, :func:`kid`, :func:`prc`, :func:`class_acc`, :func:`inception_score`: the
  built-in metrics, registered by the core as ``ganforge.metrics:fd`` and so on
  (``class-acc`` is added to the defaults of a label-conditioned run); the last two
  judge with a :class:`LabelClassifier` trained on the real data's labels
- :func:`fit_feature_network`, :func:`features_from`, :func:`rotation_pretext`: a feature
  space for a modality without downloads (a classifier trained on the data itself)

Figures are comparable only within one feature space; its name comes with every result.
"""

from .distances import frechet_distance, kernel_inception_distance, precision_recall_density_coverage
from .distances import inception_score as inception_score_of
from .context import EvalContext, LabelClassifier, class_acc, evaluate, fd, inception_score, kid, prc, r_precision
from .networks import features_from, fit_feature_network, rotation_pretext

__all__ = [
    "EvalContext",
    "class_acc",
    "evaluate",
    "fd",
    "features_from",
    "fit_feature_network",
    "frechet_distance",
    "inception_score",
    "inception_score_of",
    "kernel_inception_distance",
    "kid",
    "LabelClassifier",
    "precision_recall_density_coverage",
    "prc",
    "r_precision",
    "rotation_pretext",
]
