"""The image modality: reading folders and CIFAR-10 batches, writing PNGs, feature spaces."""

import csv
import json
import pickle
import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge
from ganforge_image import features
from ganforge_image.modality import ImageModality, to_model


def modality(size=16, channels=3):
    return ImageModality({"image_size": size, "channels": channels})


def solid(path, size=(20, 20), colour=(200, 30, 30), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path)
    return path


# ----------------------------------------------------------------------------- folders


def test_mixed_files_are_resized_and_a_corrupt_one_is_skipped_with_a_count(tmp_path, capsys):
    solid(tmp_path / "a.png", (64, 64))
    solid(tmp_path / "b.jpg", (30, 90), (10, 200, 10))        # non-square, JPEG
    solid(tmp_path / "c.webp", (17, 17), (10, 10, 200))       # odd size, WebP
    solid(tmp_path / "d.png", (50, 40), 128, mode="L")        # grayscale file
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (tmp_path / "notes.txt").write_text("ignored: not an image")
    data = modality().load(tmp_path)
    assert len(data) == 4
    assert data.fields["x"].shape == (4, 3, 16, 16) and data.fields["x"].dtype == torch.uint8
    err = capsys.readouterr().err
    assert "skipped 1 unreadable image file" in err and "broken.png" in err
    assert "label" not in data.fields  # all in the root: unlabelled


def test_empty_missing_and_all_broken_folders_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ganforge.GanforgeError, match="no image files"):
        modality().load(tmp_path / "empty")
    with pytest.raises(ganforge.GanforgeError, match="does not exist"):
        modality().load(tmp_path / "nowhere")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_bytes(b"junk")
    with pytest.raises(ganforge.GanforgeError, match="could be read"):
        modality().load(tmp_path / "bad")


def test_class_sub_folders_become_sorted_labels(tmp_path):
    for name, n in (("zebra", 2), ("apple", 3)):
        for i in range(n):
            solid(tmp_path / name / f"{i}.png")
    solid(tmp_path / "apple" / "nested" / "deep.png")  # nested deeper: still class "apple"
    m = modality()
    data = m.load(tmp_path)
    assert m.state["classes"] == ["apple", "zebra"]
    assert data.fields["label"].tolist() == [0, 0, 0, 0, 1, 1]
    assert m.derived_config() == {"channels": 3, "image_size": 16, "n_classes": 2}


def test_images_outside_class_folders_make_the_data_unlabelled(tmp_path, capsys):
    solid(tmp_path / "cats" / "1.png")
    solid(tmp_path / "loose.png")
    m = modality()
    data = m.load(tmp_path)
    assert "label" not in data.fields and m.state["classes"] == []
    assert "outside any class sub-folder" in capsys.readouterr().err


def test_captions_from_jsonl_and_csv(tmp_path):
    solid(tmp_path / "a" / "1.png")
    solid(tmp_path / "a" / "2.png")
    solid(tmp_path / "b" / "3.png")
    (tmp_path / "metadata.jsonl").write_text(json.dumps({"file_name": "a/1.png", "text": "one"}) + "\n"
                                             + json.dumps({"file_name": "a/2.png", "text": "two"}) + "\n")
    with (tmp_path / "b" / "metadata.csv").open("w", newline="") as f:  # relative to its own folder
        csv.writer(f).writerows([["file_name", "text"], ["3.png", "three"]])
    data = modality().load(tmp_path)
    assert data.fields["text"] == ["one", "two", "three"]
    assert data.fields["label"].tolist() == [0, 0, 1]


def test_bad_metadata_is_an_error_naming_the_file(tmp_path):
    solid(tmp_path / "1.png")
    (tmp_path / "metadata.jsonl").write_text(json.dumps({"file": "1.png", "caption": "x"}) + "\n")
    with pytest.raises(ganforge.GanforgeError, match="metadata.jsonl.*file_name"):
        modality().load(tmp_path)


def test_non_square_images_are_resized_then_centre_cropped(tmp_path):
    # 90x30: blue | red | green thirds; the centre 30x30 square is all red.
    img = Image.new("RGB", (90, 30), (0, 0, 255))
    img.paste((255, 0, 0), (30, 0, 60, 30))
    img.paste((0, 255, 0), (60, 0, 90, 30))
    img.save(tmp_path / "wide.png")
    x = modality(size=16).load(tmp_path).fields["x"][0].int()
    assert x.shape == (3, 16, 16)
    assert (x[0, :, 1:-1] > 230).all() and (x[1:, :, 1:-1] < 25).all()  # red, away from the resampled edges


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (20, 0, 40, 20))  # stored: red left, blue right
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": red on top, blue below
    img.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    x = modality(size=16).load(tmp_path).fields["x"][0].int()
    assert x[0, 1].min() > 200 and x[2, 1].max() < 60    # top row red
    assert x[2, -2].min() > 200 and x[0, -2].max() < 60  # bottom row blue


def test_grayscale_and_rgb_conversions(tmp_path):
    solid(tmp_path / "red.png", colour=(255, 0, 0))
    solid(tmp_path / "gray.png", colour=100, mode="L")
    gray = modality(channels=1).load(tmp_path).fields["x"]
    assert gray.shape == (2, 1, 16, 16)
    assert gray[1].unique().tolist() == [round(255 * 0.299)]  # red -> its luma (sorted: gray.png first)
    rgb = modality(channels=3).load(tmp_path).fields["x"]
    assert (rgb[0] == 100).all()  # a grayscale file repeated over three channels


def test_transparency_is_composited_on_white(tmp_path):
    solid(tmp_path / "clear.png", colour=(255, 0, 0, 0), mode="RGBA")
    assert (modality().load(tmp_path).fields["x"] == 255).all()


def test_bad_channels_option():
    with pytest.raises(ganforge.GanforgeError, match="channels"):
        modality(channels=2).load(".")


def test_to_model_range():
    x = torch.tensor([0, 255, 128], dtype=torch.uint8)
    assert to_model(x).tolist() == pytest.approx([-1.0, 1.0, 128 / 127.5 - 1], abs=1e-6)


# ----------------------------------------------------------------------------- bit depths, modes, sizes


def png16(path, array, color_type=0, width=None):
    """A 16-bit PNG written byte by byte (grayscale: color_type 0, RGB: 2), so the test does
    not depend on how Pillow writes one; ``width`` may lie in the header."""
    h, w = array.shape[:2]
    raw = b"".join(b"\x00" + array[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w if width is None else width, h, 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))
    return path


def gradient16(h=32, w=32):  # square: the centre crop keeps the whole ramp
    return np.tile(np.linspace(0, 65535, w).round().astype(np.uint16), (h, 1))


@pytest.mark.parametrize("writer", ["pillow", "bytes"])
def test_16_bit_grayscale_is_scaled_to_8_bits_not_clipped(tmp_path, writer):
    grad = gradient16()
    if writer == "pillow":
        Image.fromarray(grad).save(tmp_path / "g.png")  # Pillow writes uint16 as a 16-bit PNG
    else:
        png16(tmp_path / "g.png", grad)
    with Image.open(tmp_path / "g.png") as img:
        assert img.mode.startswith("I")  # the case under test: Pillow hands over 16-bit pixels
    for channels in (1, 3):
        x = ImageModality({"image_size": 16, "channels": channels}).load(tmp_path).fields["x"].float()
        assert x.min() <= 10 and x.max() >= 245
        assert abs(x.mean().item() - grad.mean() / 257) < 3  # was 98% white (clipped at 255)
        assert (x[0, 0, 8].diff() >= 0).all()  # still a left-to-right ramp


def test_16_bit_rgb_keeps_its_range(tmp_path):
    grad = gradient16()
    png16(tmp_path / "c.png", np.stack([grad, 65535 - grad, grad // 2], -1), color_type=2)
    x = modality().load(tmp_path).fields["x"].float()
    assert x[0, 0].min() <= 10 and x[0, 0].max() >= 245 and abs(x[0, 0].mean().item() - 127.5) < 3
    assert abs(x[0, 2].mean().item() - 63.7) < 3


def test_a_decompression_bomb_is_skipped_before_decoding(tmp_path, capsys):
    Image.new("P", (12000, 12000)).save(tmp_path / "bomb.png")  # 144 megapixels in ~18 KB
    solid(tmp_path / "ok.png")
    limit_before = Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not leak
        data = modality().load(tmp_path)
    assert len(data) == 1 and (data.fields["x"][0, 0] == 200).all()
    err = capsys.readouterr().err
    assert "skipped 1 unreadable image file(s): bomb.png" in err
    assert "too large: 12000x12000" in err and "raise max_image_pixels" in err
    assert Image.MAX_IMAGE_PIXELS == limit_before  # Pillow's own check is back


def test_max_image_pixels_option_sets_the_limit(tmp_path):
    solid(tmp_path / "a.png", (20, 20))
    solid(tmp_path / "b.png", (10, 10))
    m = ImageModality({"image_size": 8, "max_image_pixels": 399})
    assert len(m.load(tmp_path)) == 1
    assert len(ImageModality({"image_size": 8, "max_image_pixels": 400}).load(tmp_path)) == 2
    with pytest.raises(ganforge.GanforgeError, match="could be read.*a.png: too large: 20x20.*max_image_pixels"):
        ImageModality({"image_size": 8, "max_image_pixels": 50}).load(tmp_path)
    with pytest.raises(ganforge.GanforgeError, match="max_image_pixels"):
        ImageModality({"image_size": 8, "max_image_pixels": 0}).load(tmp_path)


def test_an_image_with_zero_width_is_a_counted_skip(tmp_path, capsys):
    png16(tmp_path / "zero.png", gradient16(), width=0)
    solid(tmp_path / "ok.png")
    assert len(modality().load(tmp_path)) == 1
    assert "zero.png" in capsys.readouterr().err


def test_cmyk_and_transparent_modes_convert_to_the_colours_a_viewer_shows(tmp_path):
    Image.new("CMYK", (20, 20), (0, 255, 255, 0)).save(tmp_path / "1_cmyk.jpg", quality=95)  # red
    Image.new("LA", (20, 20), (0, 0)).save(tmp_path / "2_la.png")                            # clear black
    pal = Image.new("P", (20, 20), 1)
    pal.putpalette([0, 0, 0, 200, 0, 0])
    pal.save(tmp_path / "3_p.png", transparency=1)                                           # clear red
    Image.new("L", (20, 20), 50).save(tmp_path / "4_l_key.png", transparency=50)             # colour key
    Image.new("RGB", (20, 20), (1, 2, 3)).save(tmp_path / "5_rgb_key.png", transparency=(1, 2, 3))
    x = modality().load(tmp_path).fields["x"].int()
    red = x[0].flatten(1).float().mean(1)
    assert red[0] > 240 and red[1] < 15 and red[2] < 15
    assert (x[1:] == 255).all()  # every transparent pixel is white, whatever the mode


# ----------------------------------------------------------------------------- CIFAR-10


def write_cifar(folder, n_per_batch=5, batches=2, seed=0):
    """A tiny folder in the layout of cifar-10-batches-py (Python-2 style pickles, bytes keys)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    names = [n.encode() for n in ("airplane", "automobile", "bird", "cat", "deer",
                                  "dog", "frog", "horse", "ship", "truck")]
    with (folder / "batches.meta").open("wb") as f:
        pickle.dump({b"label_names": names, b"num_vis": 3072}, f, protocol=2)
    data, labels = [], []
    for b in range(1, batches + 1):
        d = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        lab = rng.integers(0, 10, n_per_batch).tolist()
        with (folder / f"data_batch_{b}").open("wb") as f:
            pickle.dump({b"batch_label": b"training batch", b"labels": lab, b"data": d,
                         b"filenames": [b"x.png"] * n_per_batch}, f, protocol=2)
        data.append(d)
        labels += lab
    with (folder / "test_batch").open("wb") as f:  # not used when training batches exist
        pickle.dump({b"labels": [0], b"data": np.zeros((1, 3072), np.uint8)}, f, protocol=2)
    return np.concatenate(data).reshape(-1, 3, 32, 32), labels


def test_cifar10_batches_folder(tmp_path):
    data, labels = write_cifar(tmp_path / "cifar-10-batches-py")
    m = ImageModality({"image_size": 32, "channels": 3})
    s = m.load(tmp_path / "cifar-10-batches-py")
    assert torch.equal(s.fields["x"], torch.from_numpy(data))
    assert s.fields["label"].tolist() == labels
    assert m.state["classes"][:2] == ["airplane", "automobile"] and m.derived_config()["n_classes"] == 10


def test_cifar10_resized_and_grayscale(tmp_path):
    data, _ = write_cifar(tmp_path / "c")
    x = ImageModality({"image_size": 16, "channels": 1}).load(tmp_path / "c").fields["x"]
    assert x.shape == (10, 1, 16, 16) and x.dtype == torch.uint8
    # same luma as PIL's convert("L") of the first image, then its mean survives the resize
    pil = Image.fromarray(data[0].transpose(1, 2, 0)).convert("L")
    assert abs(float(x[0].float().mean()) - float(np.asarray(pil).mean())) < 2


class _Exploit:
    def __reduce__(self):
        import os
        return (os.system, ("touch pwned",))


def test_cifar_batch_that_runs_code_is_refused_not_executed(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "c"
    write_cifar(folder)
    with (folder / "data_batch_2").open("wb") as f:
        pickle.dump({b"labels": [0], b"data": _Exploit()}, f, protocol=2)
    monkeypatch.chdir(tmp_path)
    s = ImageModality({"image_size": 32}).load(folder)
    assert len(s) == 5  # batch 1 only
    assert not (tmp_path / "pwned").exists()
    assert "skipped 1 unreadable CIFAR-10 batch" in capsys.readouterr().err


# ----------------------------------------------------------------------------- writing


def test_save_samples_round_trip_and_preview(tmp_path):
    x = torch.rand(5, 3, 16, 16) * 2 - 1
    m = modality()
    paths = m.save_samples(x, tmp_path / "out", [f"s{i}" for i in range(5)])
    assert [p.name for p in paths] == [f"s{i}.png" for i in range(5)]
    back = m.load(tmp_path / "out").fields["x"]  # 16x16 files at image_size 16: no resampling
    assert torch.equal(back, ((x + 1) * 127.5).round().to(torch.uint8))
    (grid,) = m.save_preview(x, tmp_path / "prev")
    assert grid.name == "prev.png"
    with Image.open(grid) as img:
        assert img.mode == "RGB" and img.size == (3 * 18 + 2, 2 * 18 + 2)  # 3 columns, 2 rows, 2px padding


def test_grayscale_files_are_written_as_grayscale(tmp_path):
    m = modality(channels=1)
    (p,) = m.save_samples(torch.zeros(1, 1, 16, 16), tmp_path, ["g"])
    (grid,) = m.save_preview(torch.zeros(4, 1, 16, 16), tmp_path / "grid")
    for path in (p, grid):
        with Image.open(path) as img:
            assert img.mode == "L"


# ----------------------------------------------------------------------------- features


@pytest.fixture
def quick_features(monkeypatch, tmp_path):
    """A few training steps, and no cached Inception weights."""
    monkeypatch.setattr(features, "CNN_STEPS", 4)
    monkeypatch.setattr(features, "inception_weights_path", lambda: tmp_path / "absent.pth")
    features._cache.clear()
    yield
    features._cache.clear()


def test_trained_feature_space_is_deterministic(shapes16, quick_features):
    m = modality()
    real = m.load(shapes16)
    name, extract = m.feature_space(real)
    assert name.startswith("trained-on-data cnn") and "labels" in name
    x = real.batch(torch.arange(8))["x"]
    first = extract(x)
    assert first.shape == (8, 128)
    features._cache.clear()
    name2, extract2 = m.feature_space(real, "trained")
    assert name2 == name and torch.equal(extract2(x), first)


def test_unlabelled_data_uses_rotations(shapes16, quick_features):
    m = modality()
    real = m.load(shapes16)
    del real.fields["label"]
    name, extract = m.feature_space(real)
    assert "rotations" in name
    assert extract(real.batch(torch.arange(4))["x"]).shape == (4, 128)


def test_feature_space_from_torchscript_and_errors(tmp_path, shapes16, quick_features):
    net = torch.jit.script(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 7)))
    net.save(str(tmp_path / "feat.pt"))
    m = modality()
    real = m.load(shapes16)
    name, extract = m.feature_space(real, str(tmp_path / "feat.pt"))
    assert name == "torchscript feat.pt" and extract(torch.zeros(2, 3, 16, 16)).shape == (2, 7)
    with pytest.raises(ganforge.GanforgeError, match="neither a file"):
        m.feature_space(real, "resnet")
    with pytest.raises(ganforge.GanforgeError, match="Inception-v3 weights"):
        m.feature_space(real, "inception")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ganforge.GanforgeError, match="TorchScript"):
        m.feature_space(real, str(tmp_path / "junk.pt"))


def test_inception_features_when_weights_are_cached(tmp_path, shapes16, monkeypatch):
    """With a weights file in the hub cache (here random weights of the same layout), the
    default feature space of unlabelled data is torchvision's Inception-v3 pool layer
    (labelled data defaults to the label-trained CNN: tests/image/test_image_features.py)."""
    from torchvision.models import inception_v3

    weights = tmp_path / features.INCEPTION_FILE
    torch.save(inception_v3(weights=None, aux_logits=True, init_weights=False).state_dict(), weights)
    monkeypatch.setattr(features, "inception_weights_path", lambda: weights)
    m = modality(channels=1)
    real = m.load(shapes16)
    unlabelled = ganforge.SampleSet({"x": real.fields["x"]}, to_model=real.to_model)
    name, extract = m.feature_space(unlabelled)
    assert name == "inception-v3 (torchvision)"
    assert extract(torch.zeros(2, 1, 16, 16)).shape == (2, 2048)
