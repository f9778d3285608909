"""ganforge's audio plugin: the audio modality, WaveGAN and SpecGAN (Donahue et al., ICLR 2019),
a built-in "tones" demo data set and the nn-distance metric.

Registered in :mod:`ganforge_audio.plugin`; nothing here imports torch at import time.
"""

__version__ = "0.1.0"
