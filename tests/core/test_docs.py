"""The documentation's code runs: every ```python block of docs/plugin-guide.md (and
README.md) whose first line is ``# runnable`` is executed, in order, in one namespace per
document, in an empty folder. Blocks starting with ``# not run`` are shapes of the API,
not programs; in the plugin guide every block says which it is."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["docs/plugin-guide.md", "README.md"]
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """(line number, code) of every ```python block."""
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def runnable(code: str) -> bool:
    return code.lstrip().startswith("# runnable")


def test_every_plugin_guide_block_says_whether_it_runs():
    blocks = python_blocks(ROOT / "docs/plugin-guide.md")
    assert sum(runnable(code) for _, code in blocks) >= 1, "the guide has no runnable example"
    unmarked = [line for line, code in blocks if not runnable(code) and not code.lstrip().startswith("# not run")]
    assert not unmarked, f"python blocks at lines {unmarked} start with neither '# runnable' nor '# not run'"


def test_block_extraction():
    text = "a\n```python\n# runnable\nx = 1\n```\n```python\n# not run\ny\n```\n```bash\nls\n```\n"
    path_blocks = [(m.group(1)) for m in BLOCK.finditer(text)]
    assert path_blocks == ["# runnable\nx = 1\n", "# not run\ny\n"]


@pytest.mark.parametrize("doc", DOCS)
def test_runnable_blocks_run(doc, tmp_path, monkeypatch):
    blocks = [(line, code) for line, code in python_blocks(ROOT / doc) if runnable(code)]
    if not blocks:
        pytest.skip(f"{doc} has no runnable python block")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__doc_example__"}
    for line, code in blocks:
        exec(compile(code, f"{doc}:{line}", "exec"), namespace)  # a failure names the block's line
