"""ganforge-video: VGAN (Vondrick et al. 2016), a two-stream video GAN, for ganforge.

``ganforge.load(run).generate(...)`` gives samples as tensors [N, C, T, H, W];
``result.objects`` gives each clip as a list of PIL frames, and ``result.save(dir)``
writes GIF, WebP, a PNG frame strip and (with PyAV) MP4 files.
"""

__version__ = "0.1.0"
