"""Trained models shipped with the audio plugin (``ganforge_register_models``): each a
folder written by ``ganforge export --half``, found by name by ``ganforge generate`` and
``ganforge.load``. How each was made is in docs/prompts.md; the commands rebuild it."""

from pathlib import Path

HERE = Path(__file__).resolve().parent

#: text2music (SpecGAN, d = 16) on `ganforge data tones --set n=400`, prompts through text:hashed
TONES_T2M = HERE / "tones-t2m"
