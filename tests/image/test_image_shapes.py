"""The "shapes" demo data set."""

import json

import pytest

import ganforge
from ganforge_image.datasets import SHAPES, make_shapes
from ganforge_image.modality import ImageModality


def test_written_layout_and_captions(tmp_path):
    out = make_shapes(tmp_path / "s", n=20, size=16, seed=0)
    assert out == tmp_path / "s"
    for shape in SHAPES:
        assert len(list((out / shape).glob("*.png"))) == 5
    rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert len(rows) == 20
    for row in rows:
        assert (out / row["file_name"]).is_file()
        an = lambda word: "an" if word[0] in "aeiou" else "a"  # noqa: E731 -- "an orange square"
        assert row["text"] == (f"{an(row['colour'])} {row['colour']} {row['shape']} on "
                               f"{an(row['background'])} {row['background']} background")
        assert row["file_name"].startswith(row["shape"] + "/") and row["colour"] != row["background"]
        assert " a orange" not in " " + row["text"]


def test_prompts_style_captions_name_size_colour_shape_and_background(tmp_path):
    out = make_shapes(tmp_path / "p", n=40, size=16, seed=0, style="prompts")
    rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert {r["size"] for r in rows} == {"small", "large"}
    assert {r["background"] for r in rows} <= {"black", "white", "blue", "green"}
    for r in rows:
        assert r["text"] == f"a {r['size']} {r['colour']} {r['shape']} on a {r['background']} background"
        assert r["colour"] != r["background"]


def test_deterministic_per_seed(tmp_path):
    a = make_shapes(tmp_path / "a", n=12, size=16, seed=3)
    b = make_shapes(tmp_path / "b", n=12, size=16, seed=3)
    c = make_shapes(tmp_path / "c", n=12, size=16, seed=4)
    files = sorted(p.relative_to(a) for p in a.rglob("*.png"))
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert (a / "metadata.jsonl").read_text() == (b / "metadata.jsonl").read_text()
    assert (a / "metadata.jsonl").read_text() != (c / "metadata.jsonl").read_text()


def test_existing_folders(tmp_path):
    out = make_shapes(tmp_path / "s", n=8, size=16)
    assert make_shapes(tmp_path / "s", n=8, size=16) == out  # same options: reused
    with pytest.raises(ganforge.GanforgeError, match="not empty"):
        make_shapes(tmp_path / "s", n=9, size=16)
    with pytest.raises(ganforge.GanforgeError, match="'n'"):
        make_shapes(tmp_path / "t", n=0)


def test_readable_by_the_image_modality(shapes16):
    m = ImageModality({"image_size": 16, "channels": 3})
    data = m.load(shapes16)
    assert len(data) == 64 and data.fields["x"].shape == (64, 3, 16, 16)
    assert m.state["classes"] == sorted(SHAPES)
    assert data.fields["label"].bincount().tolist() == [16, 16, 16, 16]
    assert all(t.startswith(("a ", "an ")) and (" on a " in t or " on an " in t) for t in data.fields["text"])


def test_registered_as_a_dataset():
    from ganforge.plugins import get_plugin_manager

    registry = get_plugin_manager().registry
    assert registry.find("dataset", "shapes").full_name == "image:shapes"
    assert registry.get("dataset", "shapes") is make_shapes
