"""Argument parsing shared by the plugin's commands."""

from __future__ import annotations


def parse(parser, argv: list[str]):
    """``parser.parse_args(argv)``, accepting a leading ``--``: until ganforge's own parser
    hands a plugin command the options that come before its first positional argument,
    ``ganforge serve -- --port 8000`` is how such options reach it."""
    return parser.parse_args(argv[1:] if argv[:1] == ["--"] else argv)
