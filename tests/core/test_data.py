"""Shared reading of data folders: captions (metadata.jsonl / metadata.csv) and DataReport."""

import json

import pytest

import ganforge


def jsonl(*rows):
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def caption_rows(n):
    return [{"file_name": f"{i}.png", "text": f"caption {i}"} for i in range(n)]


# ----------------------------------------------------------------------------- metadata.jsonl


def test_a_malformed_jsonl_line_is_skipped_and_reported_by_its_own_line_number(tmp_path, capsys):
    rows = caption_rows(10)
    rows[6] = '{"file_name": "6.png", "text": '  # line 7: cut short
    (tmp_path / "metadata.jsonl").write_text(jsonl(*rows))
    captions = ganforge.read_captions(tmp_path)
    assert len(captions) == 9 and "6.png" not in captions and captions["9.png"] == "caption 9"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "skipped 1 unusable caption line" in err[0] and "metadata.jsonl:7:" in err[0] and "not JSON" in err[0]


def test_jsonl_rows_without_file_name_or_text_are_counted_skips(tmp_path, capsys):
    (tmp_path / "metadata.jsonl").write_text(jsonl(
        {"file_name": "a.png", "text": "fine"},
        {"file": "b.png", "caption": "wrong columns"},     # line 2
        {"file_name": "c.png", "text": None},              # line 3: null must not become "None"
        ["d.png", "a list"],                               # line 4
        "",                                                # a blank line is not a row
        {"file_name": "e.png", "text": 7},                 # a number is a usable caption
    ))
    captions = ganforge.read_captions(tmp_path)
    assert captions == {"a.png": "fine", "e.png": "7"}
    err = capsys.readouterr().err
    assert "skipped 3 unusable caption line(s)" in err and "metadata.jsonl:2:" in err and "file_name" in err


def test_one_bad_utf8_byte_costs_one_caption_line_and_a_bom_is_ignored(tmp_path, capsys):
    good = jsonl(*caption_rows(3)).encode()
    (tmp_path / "metadata.jsonl").write_bytes(b"\xef\xbb\xbf" + good + b'{"file_name": "x.png", "text": "\xff"}\n')
    captions = ganforge.read_captions(tmp_path)
    assert sorted(captions) == ["0.png", "1.png", "2.png"]  # the BOM did not spoil line 1
    assert "metadata.jsonl:4: not UTF-8" in capsys.readouterr().err


def test_a_metadata_file_with_no_usable_row_is_an_error_naming_file_and_line(tmp_path):
    (tmp_path / "metadata.jsonl").write_text(jsonl({"file_name": "a.png"}, "not json"))
    with pytest.raises(ganforge.GanforgeError, match=r"metadata\.jsonl.*no row.*metadata\.jsonl:1: needs 'file_name'"):
        ganforge.read_captions(tmp_path)


def test_a_utf16_metadata_file_is_an_error_saying_to_save_it_as_utf8(tmp_path):
    (tmp_path / "metadata.jsonl").write_bytes(jsonl(*caption_rows(2)).encode("utf-16"))
    with pytest.raises(ganforge.GanforgeError, match="UTF-16.*UTF-8"):
        ganforge.read_captions(tmp_path)


def test_an_empty_metadata_file_gives_no_captions_and_no_error(tmp_path):
    (tmp_path / "metadata.jsonl").write_text("\n")
    assert ganforge.read_captions(tmp_path) == {}


# ----------------------------------------------------------------------------- metadata.csv


def test_csv_unterminated_quote_is_reported_with_file_and_line(tmp_path, capsys):
    (tmp_path / "metadata.csv").write_text('file_name,text\na.png,one\nb.png,"two, and never closed\n'
                                           'c.png,three\nd.png,four\n')
    captions = ganforge.read_captions(tmp_path)
    assert captions == {"a.png": "one"}  # c and d were swallowed by the open quote: not silently merged into b
    err = capsys.readouterr().err
    assert "metadata.csv:3:" in err and "never closed" in err and "lines 3-5" in err


def test_csv_rows_with_a_wrong_field_count_or_bad_bytes_are_counted_skips(tmp_path, capsys):
    (tmp_path / "metadata.csv").write_bytes(b'file_name,text\n'
                                            b'a.png,one\n'
                                            b'b.png,two, with an unquoted comma\n'   # line 3
                                            b'c.png\n'                               # line 4
                                            b'd.png,f\xffour\n'                      # line 5
                                            b'e.png,"quoted, comma"\n'
                                            b'f.png,"multi\nline"\n')
    captions = ganforge.read_captions(tmp_path)
    assert captions == {"a.png": "one", "e.png": "quoted, comma", "f.png": "multi\nline"}
    err = capsys.readouterr().err
    assert "skipped 3 unusable caption line(s)" in err and "metadata.csv:3: 3 fields" in err


def test_csv_without_the_columns_is_an_error_naming_file_and_line(tmp_path):
    (tmp_path / "metadata.csv").write_text("image,caption\na.png,one\n")
    with pytest.raises(ganforge.GanforgeError, match=r"metadata\.csv:1: .*'file_name' and 'text'"):
        ganforge.read_captions(tmp_path)


def test_captions_in_sub_folders_are_keyed_relative_to_the_root(tmp_path):
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "metadata.csv").write_text("file_name,text\n1.png,a cat\n")
    (tmp_path / "metadata.jsonl").write_text(jsonl({"file_name": "dogs/2.png", "text": "a dog"}))
    assert ganforge.read_captions(tmp_path) == {"dogs/2.png": "a dog", "cats/1.png": "a cat"}


# ----------------------------------------------------------------------------- DataReport


def test_report_warns_once_with_the_first_reason_and_errors_when_nothing_is_left(tmp_path, capsys):
    report = ganforge.DataReport("image")
    report.skip(tmp_path / "sub" / "a.png", "too large: 9x9\nsecond line")
    report.skip(tmp_path / "b.png", "truncated")
    report.finish(3, tmp_path)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["warning: skipped 2 unreadable image file(s): sub/a.png, b.png (sub/a.png: too large: 9x9)"]
    with pytest.raises(ganforge.GanforgeError, match=r"none of the image files .* \(first: a.png: too large: 9x9\)$"):
        report.finish(0, tmp_path)


def test_report_names_each_kind_of_skip_with_its_first_reason(tmp_path, capsys):
    report = ganforge.DataReport("audio")
    report.skip(tmp_path / "a.wav", "0.1 s; one slice needs 1.0 s", kind="too short")
    report.skip(tmp_path / "b.wav", "not a sound file")
    report.skip(tmp_path / "c.wav", "0.2 s; one slice needs 1.0 s", kind="too short")
    report.finish(5, tmp_path)
    assert capsys.readouterr().err.strip() == (
        "warning: skipped 3 audio file(s): 2 too short: a.wav, c.wav (a.wav: 0.1 s; one slice needs 1.0 s); "
        "1 unreadable: b.wav (b.wav: not a sound file)")
    report = ganforge.DataReport("audio")
    report.skip(tmp_path / "a.wav", "0.1 s", kind="too short")
    report.finish(1, tmp_path)
    assert capsys.readouterr().err.strip() == "warning: skipped 1 too short audio file(s): a.wav (a.wav: 0.1 s)"


def test_report_text_lines_skip_only_undecodable_lines(tmp_path, capsys):
    path = tmp_path / "a.txt"
    path.write_bytes(b"one\r\ntw\xc3o\n\nthree")
    report = ganforge.DataReport("text")
    assert report.text_lines(path) == [(1, "one"), (3, ""), (4, "three")]
    assert report.skipped_lines == [(path, 2, "not UTF-8 (byte 0xc3 at column 3)")]
    report.finish(1, tmp_path)
    assert "a.txt:2: not UTF-8" in capsys.readouterr().err


def test_data_given_as_one_file_reads_only_the_metadata_beside_it(tmp_path):
    """A data file's captions come from its own folder: the metadata.jsonl that
    `ganforge generate` writes into an output folder next to it is not read."""
    from ganforge import read_captions

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "metadata.jsonl").write_text('{"file_name": "sample_00000.png", "seed": 0}\n')
    (tmp_path / "metadata.jsonl").write_text('{"file_name": "a.png", "text": "a red star"}\n')
    assert read_captions(tmp_path, recursive=False) == {"a.png": "a red star"}
    with pytest.raises(ganforge.GanforgeError, match="metadata.jsonl"):
        read_captions(tmp_path)  # a whole folder: every metadata file in it counts


# ----------------------------------------------------------------------------- fit_square


def test_fit_square_resizes_the_shorter_side_crops_the_centre_and_whitens_transparency():
    from PIL import Image

    img = Image.new("RGBA", (40, 20), (0, 0, 0, 0))  # transparent: onto white
    img.paste((255, 0, 0, 255), (15, 0, 25, 20))  # a red band in the middle
    out = ganforge.fit_square(img, 10)
    assert out.shape == (3, 10, 10) and out.dtype.name == "uint8"
    assert out[0, 5, 5] == 255 and out[1:, 5, 5].max() < 20 and out[:, 5, 0].min() > 240  # LANCZOS rings a little
    assert ganforge.fit_square(img, 10, channels=1).shape == (1, 10, 10)
    deep = Image.fromarray(__import__("numpy").full((4, 4), 65535, dtype="uint16"))  # 16-bit grey: scaled
    assert ganforge.fit_square(deep, 4).min() == 255


def test_conditional_batch_norm_starts_as_batch_norm_and_then_follows_the_condition():
    import torch

    for dims, x in ((2, torch.randn(4, 3, 5, 5)), (3, torch.randn(4, 3, 2, 5, 5))):
        layer = ganforge.ConditionalBatchNorm(3, cond_dim=2, dims=dims)
        layer.reset_parameters()
        cond = torch.randn(4, 2)
        plain = torch.nn.functional.batch_norm(x, None, None, training=True) * layer.weight.reshape(1, 3, *[1] * dims)
        assert torch.allclose(layer(x, cond), plain, atol=1e-5)  # G and B start at zero
        torch.nn.init.normal_(layer.gain.weight)
        assert not torch.allclose(layer(x, cond), layer(x, -cond))


def test_condition_input_joins_a_unit_length_condition_to_z_or_passes_it_on():
    import torch

    z, cond = torch.randn(4, 6), torch.randn(4, 3, dtype=torch.float64) * 10
    joined, c = ganforge.condition_input(z, cond, "DCGAN", concat=True)
    assert joined.shape == (4, 9) and torch.equal(joined[:, :6], z) and c.dtype == z.dtype
    assert torch.allclose(joined[:, 6:].norm(dim=1), torch.ones(4))  # as long as a one-hot label
    same, c = ganforge.condition_input(z, cond, "DCGAN", concat=False)  # conditional batch norm takes it
    assert same is z and torch.allclose(c, cond.float())
    with pytest.raises(ganforge.GanforgeError, match="this VGAN generator is conditional: give it classes"):
        ganforge.condition_input(z, None, "VGAN", concat=True, asked="classes (--class)")
