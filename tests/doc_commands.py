"""The ganforge commands of a doc section's first ```bash block (the shipped models' rebuild
commands): shared by the tests that run them."""

import shlex
from pathlib import Path


def documented_commands(doc: Path, heading: str) -> list[list[str]]:
    """Each `ganforge ...` line (continuations joined) after ``heading``, as argv without 'ganforge'."""
    text = doc.read_text()
    block = text[text.index(heading):]
    block = block[block.index("```bash") + len("```bash"):]
    block = block[:block.index("```")].replace("\\\n", " ")
    return [shlex.split(line)[1:] for line in block.strip().splitlines() if line.startswith("ganforge ")]
