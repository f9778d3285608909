"""Trained models shipped with the image plugin (``ganforge_register_models``): each a
folder written by ``ganforge export --half``, found by name by ``ganforge generate`` and
``ganforge.load``. How each was made is in docs/prompts.md; the commands rebuild it."""

from pathlib import Path

HERE = Path(__file__).resolve().parent

#: the class-conditional DCGAN (preset small-data) on `ganforge data shapes --set style=prompts`,
#: conditioned on captions through text:hashed
SHAPES_T2I = HERE / "shapes-t2i"
