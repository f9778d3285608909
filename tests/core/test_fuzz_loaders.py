"""Property-based fuzzing of the data loaders: a folder of random or mutated files (images,
audio, text, captions) loads, or fails with a one-line GanforgeError; never another
exception, never a hang, never a write into the data folder."""

import io
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

import ganforge  # noqa: E402

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="ganforge-hypothesis-"))
FUZZ = settings(deadline=None, database=None, max_examples=40,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _png(seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _wav(seed: int) -> bytes:
    import soundfile

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    soundfile.write(buf, rng.uniform(-0.5, 0.5, 2000).astype(np.float32), 8000, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def mutated(make):
    """A valid file's bytes, then cut, flipped, or with random bytes spliced in."""

    @st.composite
    def strategy(draw):
        data = bytearray(make(draw(st.integers(0, 3))))
        for _ in range(draw(st.integers(0, 4))):
            action = draw(st.sampled_from(["cut", "flip", "splice", "nan"]))
            at = draw(st.integers(0, max(len(data) - 1, 0)))
            if action == "cut":
                del data[at:]
            elif action == "flip" and data:
                data[at] ^= draw(st.integers(1, 255))
            elif action == "splice":
                data[at:at] = draw(st.binary(max_size=16))
            elif action == "nan" and len(data) > at + 4:
                data[at:at + 4] = np.float32(math.nan).tobytes()
        return bytes(data)

    return strategy()


def _load(modality_name: str, config: dict, files: dict[str, bytes], tmp: Path):
    root = tmp / "data"
    root.mkdir()
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    before = sorted(p.name for p in root.rglob("*"))
    modality = ganforge.get_registry().get("modality", modality_name)(config)
    try:
        data = modality.load(root)
        assert len(data) > 0
    except ganforge.GanforgeError as e:
        assert "\n" not in str(e), str(e)
    assert sorted(p.name for p in root.rglob("*")) == before  # loading writes nothing into the data


JSONL_LINES = st.lists(st.sampled_from(['{"file_name": "a/0.png", "text": "a red star"}', '{"file_name": 1}', "{",
                                        '{"text": null, "file_name": "0.wav"}', "file_name,text", '"x,1', ""]),
                       max_size=4).map(lambda lines: "\n".join(lines).encode())
CAPTIONS = st.one_of(st.binary(max_size=80), st.text(max_size=80).map(lambda t: t.encode("utf-8", "replace")),
                     JSONL_LINES)


@FUZZ
@given(files=st.lists(mutated(_png), min_size=1, max_size=3), meta=CAPTIONS)
def test_image_folders_of_mutated_files(files, meta):
    with tempfile.TemporaryDirectory() as tmp:
        named = {f"a/{i}.png": data for i, data in enumerate(files)}
        named["metadata.jsonl"] = meta
        _load("image", {"image_size": 16, "channels": 3}, named, Path(tmp))


@FUZZ
@given(files=st.lists(mutated(_wav), min_size=1, max_size=3), meta=CAPTIONS)
def test_audio_folders_of_mutated_files(files, meta):
    with tempfile.TemporaryDirectory() as tmp:
        named = {f"{i}.wav": data for i, data in enumerate(files)}
        named["metadata.csv"] = meta
        _load("audio", {"sample_rate": 8000, "audio_length": 4096, "channels": 1}, named, Path(tmp))


@FUZZ
@given(files=st.lists(st.binary(max_size=200), min_size=1, max_size=3), meta=CAPTIONS)
def test_text_folders_of_random_bytes(files, meta):
    with tempfile.TemporaryDirectory() as tmp:
        named = {f"{i}.txt": data for i, data in enumerate(files)}
        named["metadata.jsonl"] = meta
        _load("text", {"max_vocab": 100, "max_len": 16, "holdout": 0.0, "tokens": "word"}, named, Path(tmp))
