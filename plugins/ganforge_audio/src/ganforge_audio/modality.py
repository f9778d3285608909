"""The audio modality: folders of WAV/FLAC/OGG in, WAV files and spectrogram pictures out.

Reading and writing go through soundfile only (torchaudio's load/save need torchcodec);
torchaudio supplies the transforms (resampling, STFT, Griffin-Lim, mel filters).

Every file is read at its own rate and channel count, mixed to mono (or kept as
channels with ``mono=false``), resampled to ``sample_rate`` and cut into
``audio_length``-sample slices (short files and a long enough last piece are
zero-padded). Class sub-folders give labels; ``metadata.jsonl`` / ``metadata.csv`` with
``file_name`` and ``text`` give captions (the Hugging Face audiofolder convention).

Two tensor spaces, chosen by the recipe's ``representation``:

- ``waveform`` (WaveGAN): [B, C, L] in [-1, 1], stored as int16;
- ``spectrogram`` (SpecGAN): [B, C, 128, L/128] normalised log magnitudes in [-1, 1],
  with the per-frequency statistics learned here and kept in the run's state;
- ``logfreq`` (an option of text2music): [B, C, 128, 32..128] on a log-frequency grid
  that separates semitones (see :mod:`ganforge_audio.spectral`).

Everything that writes audio accepts either space: a 4-D batch is a spectrogram and is
turned into sound with Griffin-Lim.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

import ganforge

from . import spectral

EXTENSIONS = (".wav", ".flac", ".ogg")
LENGTHS = (4096, 8192, 16384, 32768, 65536)
_INT16 = 32767.0


def write_wav(path: Path, wave: torch.Tensor, sample_rate: int) -> Path:
    """[C, L] float waveform -> 16-bit PCM WAV (soundfile)."""
    import soundfile

    data = wave.detach().float().clamp(-1, 1).cpu().numpy().T
    soundfile.write(str(path), data, int(sample_rate), subtype="PCM_16")
    return path


def _wav_shortfall(file: Path) -> str | None:
    """Why a WAV file is cut short, or None.

    libsndfile quietly shortens a WAV whose ``data`` chunk declares more bytes than the
    file holds (a copy or download cut off), so its frame count looks fine; the RIFF
    header is compared with the file size instead. Sizes 0 and 0xFFFFFFFF mean "unknown"
    (streaming writers) and are not a shortfall.
    """
    try:
        size = file.stat().st_size
        f = file.open("rb")
    except OSError:
        return None  # soundfile has just read it; a file gone since is not a WAV question
    with f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return None
        order = "big" if head[:4] == b"RIFX" else "little"
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            n = int.from_bytes(chunk[4:8], order)
            if chunk[:4] == b"data":
                held = size - pos - 8
                if n not in (0, 0xFFFFFFFF) and n > held:
                    return f"truncated: its header declares {n:,} bytes of audio, the file holds {held:,}"
                return None
            pos += 8 + n + (n & 1)  # chunks are padded to an even size
    return None


class AudioModality(ganforge.Modality):
    result_kind = "audio"
    file_kind = "WAV"
    default_metrics = ("fd", "kid", "nn-distance", "inception-score")
    #: class-acc and inception-score judge with a log-mel CNN trained on the data's labels
    classifier_features = "trained"
    generation_options = ("save_spectrograms",)

    # ------------------------------------------------------------------ options

    @property
    def sample_rate(self) -> int:
        return int(self.state.get("sample_rate", self.config.get("sample_rate", 16000)))

    def _audio_length(self) -> int:
        length = self.config.get("audio_length", 16384)
        if length not in LENGTHS:
            raise ganforge.GanforgeError(
                f"option 'audio_length' is {length}; use one of {', '.join(map(str, LENGTHS))}")
        return int(length)

    # ------------------------------------------------------------------ reading

    def _read(self, file: Path, channels: int, report) -> torch.Tensor | None:
        """One file as a [channels, n] float tensor at ``sample_rate``, or None (skipped)."""
        import soundfile
        import torchaudio

        try:
            with soundfile.SoundFile(str(file)) as sf:
                declared, rate = sf.frames, sf.samplerate
                data = sf.read(dtype="float32", always_2d=True)
        except Exception as e:  # soundfile raises LibsndfileError, RuntimeError, TypeError ...
            report.skip(file, str(e).splitlines()[0] if str(e) else type(e).__name__)
            return None
        problem = _wav_shortfall(file)  # before the frame count: libsndfile hides a cut-off WAV
        if problem is None and data.shape[0] < declared:
            problem = f"truncated: {data.shape[0]:,} of the {declared:,} frames its header declares"
        if problem is None and data.shape[0] == 0:
            problem = "no audio frames"
        wave = torch.from_numpy(data.T.copy())  # [file channels, n]
        if problem is None and not torch.isfinite(wave).all():
            # clamping NaN/inf would train on made-up samples; the file is broken, say so
            problem = "non-finite samples (NaN or inf); fix or remove the file"
        if problem:
            report.skip(file, problem)
            return None
        if wave.shape[0] != channels:
            # mono target, or a file with other channels than the data set: mix down, then copy out
            wave = wave.mean(0, keepdim=True).expand(channels, -1)
        if rate != self.sample_rate:
            wave = torchaudio.functional.resample(wave.contiguous(), int(rate), self.sample_rate)
        return wave.clamp(-1.0, 1.0)

    def _slices(self, wave: torch.Tensor, length: int) -> list[torch.Tensor]:
        """Consecutive ``length``-sample pieces; the last one kept (zero-padded) when at least
        half full, and a file shorter than ``length`` always padded to one piece."""
        n = wave.shape[-1]
        pieces = [wave[:, i:i + length] for i in range(0, n, length)]
        if len(pieces) > 1 and pieces[-1].shape[-1] < length // 2:
            pieces.pop()
        limit = int(self.config.get("max_slices_per_file", 0) or 0)
        if limit > 0:
            pieces = pieces[:limit]
        return [torch.nn.functional.pad(p, (0, length - p.shape[-1])) for p in pieces]

    def load(self, path) -> ganforge.SampleSet:
        import soundfile

        root = Path(path)
        # a trained run's state (evaluation data): keep its classes and spectrogram statistics
        trained = dict(self.state)
        length = self._audio_length()
        representation = self.config.get("representation", "waveform")
        if representation not in ("waveform", *spectral.REPRESENTATIONS):
            raise ganforge.GanforgeError(
                f"option 'representation' is '{representation}'; use waveform, spectrogram or logfreq")
        files = ganforge.data_files(root, EXTENSIONS, "audio")
        base = root if root.is_dir() else root.parent
        report = ganforge.DataReport("audio")

        # channel count: 1, or with mono=false the largest one found in the files' headers
        channels = 1
        if not self.config.get("mono", True):
            for f in files:
                try:
                    channels = max(channels, soundfile.info(str(f)).channels)
                except Exception:
                    pass  # reported when the file is read

        # class sub-folders (ImageFolder convention): only when every file sits in one
        folders = [f.relative_to(base).parts[0] if len(f.relative_to(base).parts) > 1 else None for f in files]
        classes = sorted({c for c in folders if c is not None}) if all(folders) else []
        if classes and trained.get("classes") and set(classes) <= set(trained["classes"]):
            classes = list(trained["classes"])
        captions = ganforge.read_captions(base, recursive=root.is_dir())

        xs, labels, texts = [], [], []
        for file, folder in zip(files, folders):
            wave = self._read(file, channels, report)
            if wave is None:
                continue
            caption = captions.get(file.relative_to(base).as_posix())
            for piece in self._slices(wave, length):
                xs.append((piece * _INT16).round().to(torch.int16))
                if classes:
                    labels.append(classes.index(folder))
                texts.append(caption)
        report.finish(len(xs), root)

        self.state = {
            "sample_rate": self.sample_rate,
            "channels": channels,
            "audio_length": length,
            "representation": representation,
            "files": len(files) - len(report.skipped),
            "skipped_files": len(report.skipped),
            "examples": len(xs),
        }
        if classes:
            self.state["classes"] = classes
        if self.config.get("conditional") and len(classes) < 2:
            raise ganforge.GanforgeError(
                f"conditional=true needs labelled data: put each class of {root} in its own sub-folder")

        fields: dict = {"x": torch.stack(xs)}
        if classes:
            fields["label"] = torch.tensor(labels, dtype=torch.long)
        if any(t is not None for t in texts):
            fields["text"] = [t or "" for t in texts]

        if representation == "waveform":
            return ganforge.SampleSet(fields, to_model=lambda x: x.float() / _INT16)

        # SpecGAN (either grid): learn per-frequency statistics over the whole data set, then store the
        # normalised spectrograms (float16 costs as much memory as the int16 waveforms)
        # (two passes over chunks: the STFT is cheap, float32 spectrograms of a whole data set are not)
        def chunks():
            for i in range(0, len(xs), 256):
                yield spectral.grid_log_magnitude(fields["x"][i:i + 256].float() / _INT16, representation,
                                                  self.sample_rate)

        if "spec_mean" in trained:
            self.state["spec_mean"], self.state["spec_std"] = trained["spec_mean"], trained["spec_std"]
        else:
            mean, std = spectral.dataset_statistics(chunks())
            self.state["spec_mean"] = [round(v, 6) for v in mean.tolist()]
            self.state["spec_std"] = [round(v, 6) for v in std.tolist()]
        mean, std = self._spec_stats()
        fields["x"] = torch.cat([spectral.normalise(c, mean, std).half() for c in chunks()])
        return ganforge.SampleSet(fields, to_model=lambda x: x.float())

    def derived_config(self) -> dict:
        out = {"channels": int(self.state.get("channels", 1)),
               "audio_length": int(self.state.get("audio_length", self.config.get("audio_length", 16384)))}
        if self.state.get("classes"):
            out["n_classes"] = len(self.state["classes"])
        if "spec_mean" in self.state:
            # SpecGAN's generator turns its spectrograms into audio itself, so it needs them too
            out["spec_mean"], out["spec_std"] = self.state["spec_mean"], self.state["spec_std"]
        return out

    # ------------------------------------------------------------------ back to sound

    def _spec_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        if "spec_mean" not in self.state:
            raise ganforge.GanforgeError(
                "this run has no spectrogram statistics (modality state 'spec_mean'); retrain it with the specgan recipe")
        return torch.tensor(self.state["spec_mean"]), torch.tensor(self.state["spec_std"])

    @property
    def _grid(self) -> str:
        """Which spectrogram grid a 4-D batch is on (runs from before ``logfreq``: the linear one)."""
        return str(self.state.get("representation", self.config.get("representation", "spectrogram")))

    def to_waveform(self, x: torch.Tensor, griffin_lim_iters: int | None = None) -> torch.Tensor:
        """A batch in either tensor space -> [B, C, L] waveforms in [-1, 1]."""
        x = x.detach()
        if x.dim() == 3:
            return x.float()
        if x.dim() != 4:
            raise ganforge.GanforgeError(f"audio samples must be [B, C, L] or [B, C, 128, T], got {list(x.shape)}")
        mean, std = self._spec_stats()
        iters = griffin_lim_iters or int(self.config.get("griffin_lim_iters", 16))
        return spectral.grid_to_audio(spectral.denormalise(x.float(), mean, std), self._grid, self.sample_rate,
                                      int(self.state.get("audio_length", self._audio_length())), iters)

    def _log_magnitudes(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, 128, T] log magnitudes of a batch in either space (no Griffin-Lim needed)."""
        if x.dim() == 4:
            mean, std = self._spec_stats()
            return torch.log(spectral.denormalise(x.detach().float(), mean, std) + spectral.LOG_EPS)
        return spectral.log_magnitude(x.detach().float())

    def to_user(self, x: torch.Tensor, save_spectrograms=None) -> list:
        """numpy float32 waveforms [frames, channels] at ``self.sample_rate``."""
        return [w.T.contiguous().numpy() for w in self.to_waveform(x.cpu()).float()]

    def save_samples(self, x: torch.Tensor, out_dir, names: Sequence[str], metadata: Sequence[dict] = (),
                     append: bool = False, save_spectrograms=None) -> list[Path]:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        waves = self.to_waveform(x.cpu())
        if save_spectrograms is None:
            save_spectrograms = self.config.get("save_spectrograms", False)
        pictures = bool(save_spectrograms)
        logmags = spectral.log_magnitude(waves) if pictures else None
        written = []
        for i, name in enumerate(names):
            stem = name[:-4] if str(name).lower().endswith(".wav") else str(name)
            written.append(write_wav(out_dir / f"{stem}.wav", waves[i], self.sample_rate))
            if pictures:  # beside its WAV; the list returned names one file per sample
                spectral.spectrogram_grid(logmags[i][:1], columns=1).save(out_dir / f"{stem}.png")
        return written

    def save_preview(self, x: torch.Tensor, path, labels=None) -> list[Path]:
        """``path``.wav: the samples one after another with 0.1 s of silence between;
        ``path``.png: their spectrograms in a grid (first channel)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        x = x.detach().cpu()
        waves = self.to_waveform(x)
        gap = torch.zeros(waves.shape[1], self.sample_rate // 10)
        joined = torch.cat([piece for w in waves for piece in (w, gap)][:-1], dim=-1)
        wav = write_wav(path.with_name(path.name + ".wav"), joined, self.sample_rate)
        png = path.with_name(path.name + ".png")
        spectral.spectrogram_grid(self._log_magnitudes(x)[:, 0]).save(png)
        return [wav, png]

    # ------------------------------------------------------------------ metrics

    def feature_space(self, real, spec: str | None = None):
        """``(name, extract)``: the built-in spectral statistics (default, spec None or
        "spectral"), a log-mel CNN trained on ``real``'s class labels (spec "trained"; the
        label classifier's space, see :mod:`ganforge_audio.classifier`), or a TorchScript
        network mapping [B, C, L] waveforms to [B, F] features (spec: the path of its .pt
        file)."""
        if spec in ("trained", "cnn"):
            from .classifier import trained_feature_space

            return trained_feature_space(real, self.to_waveform, self.sample_rate)
        if spec in (None, "", "spectral", "default"):
            def extract(x: torch.Tensor) -> torch.Tensor:
                # spectrograms (SpecGAN's real data) are decoded first, so real and generated
                # clips both pass Griffin-Lim and are compared on equal terms
                mag = spectral.magnitude(self.to_waveform(x.cpu()))
                return spectral.spectral_features(mag, self.sample_rate)

            extract.judges = spectral.SPECTRAL_JUDGES
            return "audio-spectral-stats", extract

        file = Path(spec)
        if not file.is_file():
            raise ganforge.GanforgeError(
                f"feature network {file} does not exist; give the path of a TorchScript .pt file "
                "(waveform batch [B, C, L] -> features [B, F]), 'spectral' or 'trained'")
        try:
            net = torch.jit.load(str(file), map_location="cpu").eval()
        except Exception as e:
            raise ganforge.GanforgeError(f"{file} is not a TorchScript model ({str(e).splitlines()[0]}); "
                                         "save one with torch.jit.script(model).save(path)") from None

        def extract(x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                feats = net(self.to_waveform(x.cpu()))
            if not isinstance(feats, torch.Tensor):
                raise ganforge.GanforgeError(f"feature network {file} must return one tensor [B, F]")
            return feats.reshape(len(x), -1).float()

        return f"torchscript:{file.name}", extract
