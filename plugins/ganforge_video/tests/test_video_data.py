"""Reading clips: frame folders, GIF, WebP, MP4 (with PyAV), class folders, bad input."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge
from ganforge_video import modality as video_modality
from ganforge_video.data import make_moving_shapes
from ganforge_video.modality import VideoModality, has_pyav


def _frames(n, size=20, shift=3):
    """``n`` RGB frames: a white square moving right by ``shift`` px per frame on black."""
    out = []
    for t in range(n):
        a = np.zeros((size, size, 3), np.uint8)
        a[4:10, t * shift:t * shift + 6] = 255
        out.append(Image.fromarray(a))
    return out


def _gif(path: Path, frames):
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _folder(path: Path, frames, ext="png"):
    path.mkdir(parents=True, exist_ok=True)
    for t, f in enumerate(frames):
        f.save(path / f"f{t:03d}.{ext}")


def _load(path, **config):
    m = VideoModality({"frames": 4, "frame_size": 16, **config})
    return m, m.load(path)


def test_video_frames_folder_is_one_clip_in_name_order(tmp_path):
    frames = _frames(5)
    _folder(tmp_path / "clip", frames[::-1])  # written newest first: the names decide the order
    (tmp_path / "clip" / "f000.png").rename(tmp_path / "clip" / "tmp.png")
    names = sorted(p.name for p in (tmp_path / "clip").iterdir())
    m, data = _load(tmp_path / "clip", frame_size=20)
    x = data.fields["x"]
    assert x.shape == (1, 3, 4, 20, 20) and x.dtype == torch.uint8
    first = np.array(Image.open(tmp_path / "clip" / names[0]).convert("RGB")).transpose(2, 0, 1).copy()
    assert torch.equal(x[0, :, 0], torch.from_numpy(first))
    batch = data.batch(torch.tensor([0]))["x"]
    assert batch.dtype == torch.float32 and batch.min() == -1 and batch.max() == 1
    assert m.derived_config() == {"frames": 4, "frame_size": 20, "channels": 3, "n_classes": 0}


def test_video_gif_clips_with_classes_and_jpeg_folders(tmp_path):
    _gif(tmp_path / "right" / "a.gif", _frames(4))
    _gif(tmp_path / "right" / "b.gif", _frames(6))
    _folder(tmp_path / "left" / "c", _frames(4)[::-1], ext="jpg")
    m, data = _load(tmp_path)
    assert len(data) == 3 and m.class_names() == ["left", "right"]
    assert data.fields["label"].tolist() == [0, 1, 1]
    # the square moves right in "right": its column of mass grows frame by frame
    clip = data.fields["x"][1].float().mean(0)  # [T, H, W]
    centre = [(c.sum(0) * torch.arange(16)).sum() / c.sum() for c in clip]
    assert all(b > a for a, b in zip(centre, centre[1:]))


def test_video_windows_and_frame_step(tmp_path):
    _gif(tmp_path / "long.gif", _frames(6, shift=2))
    _, data = _load(tmp_path, frames=2, clips_per_file=3)
    assert len(data) == 3  # frames 0-1, 2-3, 4-5
    _, stepped = _load(tmp_path, frames=2, frame_step=3)
    assert torch.equal(stepped.fields["x"][0, :, 1], data.fields["x"][1, :, 1])  # frame 3 both times


def test_video_short_corrupt_and_undecodable_clips_are_skipped_with_one_warning(tmp_path, capsys, monkeypatch):
    _gif(tmp_path / "good.gif", _frames(4))
    _gif(tmp_path / "short.gif", _frames(2))
    (tmp_path / "broken.gif").write_bytes(b"GIF89a not really")
    (tmp_path / "movie.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    monkeypatch.setattr(video_modality, "has_pyav", lambda: False)
    _, data = _load(tmp_path)
    assert len(data) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "skipped 3 video clip file(s): 2 unreadable: broken.gif, movie.mp4" in err[0]
    assert "1 too short: short.gif (short.gif: has 2 frame(s)" in err[0]
    # the reason for the first, and what to do about a missing decoder when it is the only clip
    with pytest.raises(ganforge.GanforgeError, match="pip install av"):
        _load(tmp_path / "movie.mp4")
    with pytest.raises(ganforge.GanforgeError, match="short.gif: has 2 frame"):
        _load(tmp_path / "short.gif")


def test_video_corrupt_only_empty_and_single_image_are_one_line_errors(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.gif").write_bytes(b"nothing")
    (tmp_path / "empty").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "one.png")
    for path, message in [(tmp_path / "bad", "none of the video clip files"),
                          (tmp_path / "empty", "no video"),
                          (tmp_path / "one.png", "one image, not a clip"),
                          (tmp_path / "missing", "does not exist")]:
        with pytest.raises(ganforge.GanforgeError, match=message) as e:
            _load(path)
        assert "\n" not in str(e.value)


def test_video_bad_options_are_errors(tmp_path):
    _gif(tmp_path / "a.gif", _frames(4))
    for key, value in [("frames", 0), ("channels", 2), ("frame_size", "big")]:
        with pytest.raises(ganforge.GanforgeError, match=key):
            _load(tmp_path, **{key: value})


def test_video_moving_shapes_as_frame_folders_reads_like_gifs(tmp_path):
    gifs = make_moving_shapes(tmp_path / "g", n=3, frames=4, size=16)
    folders = make_moving_shapes(tmp_path / "f", n=3, frames=4, size=16, format="frames")
    _, a = _load(gifs)
    _, b = _load(folders)
    assert a.fields["label"].tolist() == b.fields["label"].tolist() == [0, 1, 2]
    # GIF keeps at most 256 colours per frame: close to the PNG frames, not equal
    assert (a.fields["x"].float() - b.fields["x"].float()).abs().mean() < 3
    with pytest.raises(ganforge.GanforgeError, match="format"):
        make_moving_shapes(tmp_path / "x", n=1, format="mov")


@pytest.mark.skipif(not has_pyav(), reason="PyAV is not installed")
def test_video_mp4_round_trip_with_pyav(tmp_path):
    from ganforge_video.modality import write_mp4

    write_mp4(_frames(6, size=16), tmp_path / "clip.mp4", fps=8)
    _, data = _load(tmp_path, frames=4)
    x = data.fields["x"][0].float()
    expected = torch.from_numpy(np.stack([np.asarray(f) for f in _frames(4, size=16)])).permute(3, 0, 1, 2).float()
    assert (x - expected).abs().mean() < 12  # H.264 is lossy; the square is where it was


def test_video_feature_space_tells_moving_shapes_from_still_and_shuffled_ones(tmp_path):
    from ganforge.metrics import frechet_distance

    m, data = _load(make_moving_shapes(tmp_path / "s", n=120, frames=8, size=16), frames=8)
    name, extract = m.feature_space(data)
    assert name == "video-stats-v1" and extract.judges
    x = data.batch(torch.randperm(120, generator=torch.Generator().manual_seed(0)))["x"]
    a, b = x[:60], x[60:]
    real = frechet_distance(extract(a), extract(b))
    still = frechet_distance(extract(a), extract(b[:, :, :1].expand_as(b)))
    shuffled = frechet_distance(extract(a), extract(b[:, :, torch.randperm(8, generator=torch.Generator().manual_seed(1))]))
    assert real < shuffled < still
    with pytest.raises(ganforge.GanforgeError, match="one feature space"):
        m.feature_space(data, "inception")


def test_video_grayscale_clips_load_and_save(tmp_path):
    _gif(tmp_path / "a.gif", _frames(4))
    m, data = _load(tmp_path, channels=1)
    x = data.batch(torch.tensor([0]))["x"]
    assert x.shape == (1, 1, 4, 16, 16)
    paths = m.save_samples(x, tmp_path / "out", ["g"], formats="gif,webp,png")
    assert paths == [tmp_path / "out" / "g.gif"]
    for ext in ("gif", "webp"):
        with Image.open(tmp_path / "out" / f"g.{ext}") as img:
            assert img.n_frames == 4


def test_video_moving_shapes_styles_bold_is_flat_and_large_varied_is_banded(tmp_path):
    from ganforge_video.data import BOLD_BACKGROUNDS

    _, bold = _load(make_moving_shapes(tmp_path / "b", n=6, frames=4, size=64, style="bold"), frame_size=64)
    _, varied = _load(make_moving_shapes(tmp_path / "v", n=6, frames=4, size=64, style="varied"), frame_size=64)

    def scene_and_shape(x):  # uint8 [C, T, S, S] -> (scene colours seen, share of the frame the shape covers)
        first = x[:, 0].reshape(3, -1).T  # [pixels, 3]
        colours, counts = first.unique(dim=0, return_counts=True)
        scene = colours[counts.argmax()]
        return scene, 1 - counts.max().item() / len(first)

    for x in bold.fields["x"]:
        scene, covered = scene_and_shape(x)
        assert tuple(scene.tolist()) in BOLD_BACKGROUNDS  # one flat pale colour
        assert covered > 0.08  # about half the frame across (a triangle covers the least)
    for x in varied.fields["x"]:
        top, bottom = x[:, 0, 0, 0], x[:, 0, -1, -1]
        assert not torch.equal(top, bottom)  # two bands: the scene is not one colour
    with pytest.raises(ganforge.GanforgeError, match="style"):
        make_moving_shapes(tmp_path / "x", n=1, style="fancy")
