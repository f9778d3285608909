"""ganforge-video: VGAN (Vondrick et al. 2016), a two-stream video GAN, for ganforge.

``ganforge.load(run).generate(...)`` gives samples as tensors [N, C, T, H, W];
``frames(result)`` gives each clip as a list of PIL frames, and ``result.save(dir)``
writes GIF, WebP, a PNG frame strip and (with PyAV) MP4 files.
"""

__version__ = "0.1.0"


def frames(result) -> list:
    """The clips of a ``ganforge`` GenerationResult of a video run, each a list of PIL
    images (ganforge's result has ``images`` / ``audio`` / ``texts`` but no ``videos``)."""
    return result.modality.to_user(result.samples, **result.save_options)
