"""The text modality reading files: line-by-line UTF-8, byte-order marks, captions."""

import json

import pytest
import torch

import ganforge
from ganforge_text.modality import TextModality


def modality(**config):
    return TextModality({"tokens": "word", "max_vocab": 100, "max_len": 8, "holdout": 0.0, **config})


def test_one_bad_byte_drops_one_line_not_the_file(tmp_path, capsys):
    (tmp_path / "a.txt").write_bytes(b"the cat sat\nthe d\xffg ran\n\na bird flew\n")
    m = modality()
    data = m.load(tmp_path)
    assert m.decode(data.fields["x"]) == ["the cat sat", "a bird flew"]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "skipped 1 unusable text line(s) in 1 file(s)" in err[0] and "a.txt:2: not UTF-8" in err[0]


def test_a_file_with_no_utf8_line_is_a_counted_skip_and_only_such_files_an_error(tmp_path, capsys):
    (tmp_path / "good.txt").write_text("the cat sat\n")
    (tmp_path / "latin1.txt").write_bytes("caf\u00e9 cr\u00e8me\n".encode("latin-1"))
    assert len(modality().load(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "skipped 1 unreadable text file(s): latin1.txt (latin1.txt: no line is UTF-8)" in err
    (tmp_path / "good.txt").unlink()
    with pytest.raises(ganforge.GanforgeError, match="none of the text files.*latin1.txt"):
        modality().load(tmp_path)


def test_a_file_of_blank_lines_is_called_empty_not_unreadable(tmp_path, capsys):
    (tmp_path / "good.txt").write_text("the cat sat\n")
    (tmp_path / "blank.txt").write_text("\n   \n")
    assert len(modality().load(tmp_path)) == 1
    assert "skipped 1 empty text file(s): blank.txt (blank.txt: no text lines)" in capsys.readouterr().err


def test_utf16_file_is_skipped_with_what_to_do_and_a_utf8_bom_is_not_a_token(tmp_path, capsys):
    (tmp_path / "bom.txt").write_bytes("\ufeffhello world\n".encode("utf-8"))
    (tmp_path / "wide.txt").write_text("hello there\n", encoding="utf-16")  # NULs would pass as UTF-8
    m = modality()
    data = m.load(tmp_path)
    assert m.decode(data.fields["x"]) == ["hello world"]
    assert "\ufeffhello" not in m.vocab.stoi
    assert "wide.txt: UTF-16 text; save it as UTF-8" in capsys.readouterr().err


def write_captioned(folder):
    (folder / "cats.txt").write_text("the cat sat\na cat ran\n\nthe cat slept\n")
    (folder / "dogs.txt").write_text("the dog sat\nthe dog ran\n")
    (folder / "metadata.jsonl").write_text(
        json.dumps({"file_name": "cats.txt", "text": "about cats"}) + "\n"
        + json.dumps({"file_name": "dogs.txt", "text": "about dogs"}) + "\n")


def test_metadata_captions_become_the_text_field_aligned_with_lines(tmp_path):
    write_captioned(tmp_path)
    m = modality()
    data = m.load(tmp_path)
    lines = m.decode(data.fields["x"])
    assert lines == ["the cat sat", "a cat ran", "the cat slept", "the dog sat", "the dog ran"]
    assert data.fields["text"] == ["about cats"] * 3 + ["about dogs"] * 2
    assert "about" not in m.vocab.stoi  # captions are conditions, not training text
    batch = data.batch(torch.tensor([4, 0]))
    assert batch["text"] == ["about dogs", "about cats"]


def test_captions_follow_their_lines_through_the_holdout_split(tmp_path):
    write_captioned(tmp_path)
    m = modality(holdout=0.4)
    data = m.load(tmp_path)
    assert len(data) == 3
    for line, caption in zip(m.decode(data.fields["x"]), data.fields["text"]):
        assert caption == ("about cats" if "cat" in line else "about dogs")


def test_files_without_a_caption_get_an_empty_one_with_a_warning(tmp_path, capsys):
    write_captioned(tmp_path)
    (tmp_path / "zebra.txt").write_text("a zebra ran\n")
    data = modality().load(tmp_path)
    assert data.fields["text"][-1] == "" and data.fields["text"][0] == "about cats"
    assert "1 text file(s) have no caption" in capsys.readouterr().err


def test_without_metadata_naming_txt_files_there_is_no_text_field(tmp_path, corpus):
    assert "text" not in modality().load(corpus).fields
    (tmp_path / "metadata.jsonl").write_text(json.dumps({"file_name": "photo.png", "text": "not about text"}) + "\n")
    assert "text" not in modality().load(corpus).fields
