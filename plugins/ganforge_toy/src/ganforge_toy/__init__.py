"""ganforge's smallest complete plugin: 2-D points (the ring and grid of Gaussians), MLPs.

Read ``plugin.py`` (registration), ``recipes.py`` (what a user trains), ``modality.py``
(files <-> tensors) and ``mlp.py`` (the networks) in that order.
"""

__version__ = "0.1.0"
