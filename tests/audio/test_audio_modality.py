"""The audio modality: reading any rate / channel count, skipping bad files, spectrograms,
previews and feature spaces."""

import json

import numpy as np
import pytest
import soundfile
import torch

import ganforge
from ganforge_audio import spectral
from ganforge_audio.modality import AudioModality

from audio_helpers import write_sine


def modality(**config):
    base = {"sample_rate": 16000, "audio_length": 4096, "mono": True, "representation": "waveform"}
    return AudioModality({**base, **config})


def peak_hz(wave: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(wave))
    return float(np.argmax(spectrum) * rate / len(wave))


@pytest.mark.parametrize("rate", [22050, 44100])
def test_stereo_input_is_resampled_and_mixed_to_mono(tmp_path, rate):
    write_sine(tmp_path / "a.wav", rate, 0.25, [1000, 1000])
    m = modality()
    data = m.load(tmp_path)
    x = data.batch(torch.arange(len(data)))["x"]
    assert x.shape == (1, 1, 4096)  # 0.25 s at 16 kHz is exactly 4000 samples, padded to 4096
    assert m.state["sample_rate"] == 16000 and m.derived_config()["channels"] == 1
    signal = x[0, 0, :4000].numpy()
    assert abs(peak_hz(signal, 16000) - 1000) < 10, "resampling must keep the pitch"
    assert x[0, 0, 4010:].abs().max() == 0, "the padding is silence"
    assert 0.4 < np.abs(signal).max() < 0.6


def test_stereo_kept_as_channels_when_asked(tmp_path):
    write_sine(tmp_path / "s.wav", 44100, 0.3, [500, 2000])
    write_sine(tmp_path / "m.flac", 22050, 0.3, [1000])  # a mono file joins a stereo set
    m = modality(mono=False)
    data = m.load(tmp_path)
    x = data.batch(torch.arange(len(data)))["x"]
    assert x.shape == (2, 2, 4096) and m.derived_config()["channels"] == 2
    stereo = 1 if torch.allclose(x[0, 0], x[0, 1]) else 0  # files load in sorted order: m.flac, s.wav
    assert stereo == 1
    assert abs(peak_hz(x[1, 0, :4096].numpy(), 16000) - 500) < 10
    assert abs(peak_hz(x[1, 1, :4096].numpy(), 16000) - 2000) < 10


def test_long_files_are_sliced_and_slices_can_be_capped(tmp_path):
    write_sine(tmp_path / "long.wav", 16000, 1.0, [440])  # 16000 = 3 full slices + 3712 (kept: > half)
    assert len(modality().load(tmp_path)) == 4
    assert len(modality(max_slices_per_file=2).load(tmp_path)) == 2


def test_ogg_is_read(tmp_path):
    write_sine(tmp_path / "a.ogg", 16000, 0.3, [440], subtype="VORBIS")
    assert len(modality().load(tmp_path)) == 1


def test_corrupt_wav_is_skipped_with_a_count(tmp_path, capsys):
    write_sine(tmp_path / "good.wav", 16000, 0.3, [440])
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00not really a wave file")
    m = modality()
    data = m.load(tmp_path)
    assert len(data) == 1
    assert m.state["skipped_files"] == 1 and m.state["files"] == 1
    err = capsys.readouterr().err
    assert "skipped 1 unreadable audio file" in err and "broken.wav" in err


def test_all_files_unreadable_is_an_error(tmp_path):
    (tmp_path / "broken.wav").write_bytes(b"nope")
    with pytest.raises(ganforge.GanforgeError, match="none of the audio files"):
        modality().load(tmp_path)


def write_float_wav_with(path, value):
    data = (0.5 * np.sin(np.arange(8000) / 5)).astype(np.float32)
    data[1234] = value
    soundfile.write(str(path), data, 16000, subtype="FLOAT")
    return path


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_a_counted_skip_not_clamped(tmp_path, capsys, value):
    write_float_wav_with(tmp_path / "bad.wav", value)
    write_sine(tmp_path / "good.wav", 16000, 0.3, [440])
    m = modality()
    data = m.load(tmp_path)
    assert len(data) == 1 and m.state["skipped_files"] == 1
    err = capsys.readouterr().err
    assert "bad.wav" in err and "non-finite samples" in err
    (tmp_path / "good.wav").unlink()
    with pytest.raises(ganforge.GanforgeError, match="none of the audio files.*bad.wav: non-finite"):
        modality().load(tmp_path)


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
def test_a_truncated_wav_is_skipped_not_used_as_a_shorter_file(tmp_path, capsys, subtype):
    full = write_sine(tmp_path / "cut.wav", 16000, 1.0, [440], subtype=subtype)
    data = full.read_bytes()
    full.write_bytes(data[: len(data) // 2])  # the header still promises 1 s
    write_sine(tmp_path / "good.wav", 16000, 0.3, [440])
    m = modality()
    assert len(m.load(tmp_path)) == 1 and m.state["skipped_files"] == 1
    err = capsys.readouterr().err
    assert "cut.wav" in err and "truncated" in err
    (tmp_path / "good.wav").unlink()
    with pytest.raises(ganforge.GanforgeError, match="none of the audio files.*cut.wav: truncated"):
        modality().load(tmp_path)


def test_streamed_wav_with_unknown_data_size_is_read(tmp_path):
    path = write_sine(tmp_path / "stream.wav", 16000, 0.3, [440])
    data = bytearray(path.read_bytes())
    at = data.index(b"data")
    data[at + 4:at + 8] = (0xFFFFFFFF).to_bytes(4, "little")  # how a pipe writer marks "unknown"
    path.write_bytes(bytes(data))
    assert len(modality().load(tmp_path)) == 1


def test_a_zero_length_wav_is_a_counted_skip(tmp_path, capsys):
    soundfile.write(str(tmp_path / "empty.wav"), np.zeros(0, np.float32), 16000)
    write_sine(tmp_path / "good.wav", 16000, 0.3, [440])
    assert len(modality().load(tmp_path)) == 1
    assert "empty.wav: no audio frames" in capsys.readouterr().err


def test_empty_folder_and_bad_options_are_clear_errors(tmp_path):
    with pytest.raises(ganforge.GanforgeError, match="no audio files"):
        modality().load(tmp_path)
    write_sine(tmp_path / "a.wav", 16000, 0.3, [440])
    with pytest.raises(ganforge.GanforgeError, match="audio_length"):
        modality(audio_length=5000).load(tmp_path)
    with pytest.raises(ganforge.GanforgeError, match="conditional"):
        modality(conditional=True).load(tmp_path)


def test_classes_and_captions(tones):
    m = modality(audio_length=16384)
    data = m.load(tones)
    assert m.state["classes"] == ["organ", "sine"] and m.derived_config()["n_classes"] == 2
    assert len(data) == 20
    assert set(data.fields["label"].tolist()) == {0, 1}
    assert all(t for t in data.fields["text"])
    rows = [json.loads(line) for line in (tones / "metadata.jsonl").read_text().splitlines()]
    first = min(rows, key=lambda r: r["file_name"])  # data files are read in sorted order
    assert data.fields["text"][0] == first["text"]


def test_spectrogram_normalisation_round_trip(tones):
    """audio -> normalised spectrogram -> audio (Griffin-Lim) keeps the spectrum."""
    waves = []
    for f in sorted(tones.rglob("*.wav"))[:4]:
        audio, rate = soundfile.read(str(f), dtype="float32")
        assert rate == 16000
        waves.append(torch.from_numpy(audio)[None])
    x = torch.stack(waves)  # [4, 1, 16384]
    logmag = spectral.log_magnitude(x)
    assert logmag.shape == (4, 1, 128, 128)  # the paper's 128 x 128
    mean, std = spectral.dataset_statistics([logmag])
    spec = spectral.normalise(logmag, mean, std)
    assert spec.min() >= -1 and spec.max() <= 1
    inside = spec.abs() < 0.999  # not clipped: the normalisation itself is exactly invertible
    back = torch.log(spectral.denormalise(spec, mean, std) + spectral.LOG_EPS)
    assert torch.allclose(back[inside], logmag[inside], atol=1e-3)

    audio = spectral.griffin_lim(spectral.denormalise(spec, mean, std), n_iter=32)
    assert audio.shape == x.shape
    again = spectral.normalise(spectral.log_magnitude(audio), mean, std)
    assert (again - spec).abs().mean() < 0.12
    target, got = spectral.denormalise(spec, mean, std), spectral.magnitude(audio)
    assert ((got - target).norm() / target.norm()) < 0.2  # spectral convergence
    # and the check has teeth: another clip's spectrum is far away
    assert (spec.roll(1, 0) - spec).abs().mean() > 0.25


def test_spectrogram_representation_learns_statistics(tones):
    m = modality(audio_length=16384, representation="spectrogram")
    data = m.load(tones)
    x = data.batch(torch.arange(4))["x"]
    assert x.shape == (4, 1, 128, 128) and x.dtype == torch.float32
    assert len(m.state["spec_mean"]) == 128 and len(m.state["spec_std"]) == 128
    json.dumps(m.state)  # the state goes into ganforge.json
    everything = data.batch(torch.arange(len(data)))["x"]
    assert everything.mean((0, 1, 3)).abs().max() < 0.1  # each frequency centred over the data set
    waves = m.to_waveform(x)
    assert waves.shape == (4, 1, 16384)
    # a trained run's statistics are kept when other data is loaded for evaluation
    trained = dict(m.state)
    other = modality(audio_length=16384, representation="spectrogram")
    other.state = trained
    other.load(sorted(tones.rglob("*.wav"))[0])
    assert other.state["spec_mean"] == trained["spec_mean"]


def test_save_samples_and_preview(tmp_path, tones):
    m = modality(save_spectrograms=True, sample_rate=8000)
    x = torch.rand(3, 1, 4096) * 2 - 1
    files = m.save_samples(x, tmp_path / "out", ["a", "b", "c"])
    assert [p.name for p in files] == ["a.wav", "b.wav", "c.wav"]  # one path per sample
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["a.png", "b.png", "c.png"]
    info = soundfile.info(str(tmp_path / "out" / "a.wav"))
    assert info.samplerate == 8000 and info.frames == 4096 and info.channels == 1
    preview = m.save_preview(x, tmp_path / "prev" / "step_0000010")
    assert [p.name for p in preview] == ["step_0000010.wav", "step_0000010.png"]
    audio, rate = soundfile.read(str(preview[0]))
    assert rate == 8000 and len(audio) == 3 * 4096 + 2 * 800  # 0.1 s of silence between clips
    from PIL import Image

    with Image.open(preview[1]) as im:
        assert im.mode == "RGB" and im.size[1] >= 128


def test_builtin_feature_space_tells_timbres_apart(tones):
    m = modality(audio_length=16384)
    data = m.load(tones)
    name, extract = m.feature_space(data, None)
    assert name == "audio-spectral-stats"
    feats = extract(data.batch(torch.arange(len(data)))["x"])
    assert feats.shape[0] == 20 and feats.dim() == 2 and torch.isfinite(feats).all()
    labels = data.fields["label"]
    a, b = feats[labels == 0], feats[labels == 1]
    within = (torch.cdist(a, a).mean() + torch.cdist(b, b).mean()) / 2
    assert torch.cdist(a, b).mean() > within


def test_torchscript_feature_network(tmp_path, tones):
    class Energy(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.stack([x.abs().mean((1, 2)), x.square().mean((1, 2))], 1)

    path = tmp_path / "energy.pt"
    torch.jit.script(Energy()).save(str(path))
    m = modality(audio_length=16384)
    data = m.load(tones)
    name, extract = m.feature_space(data, str(path))
    assert name == "torchscript:energy.pt"
    assert extract(data.batch(torch.arange(5))["x"]).shape == (5, 2)
    with pytest.raises(ganforge.GanforgeError, match="does not exist"):
        m.feature_space(data, str(tmp_path / "missing.pt"))
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ganforge.GanforgeError, match="TorchScript"):
        m.feature_space(data, str(tmp_path / "junk.pt"))
