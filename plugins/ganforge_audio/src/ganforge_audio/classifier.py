"""A log-mel CNN trained on the evaluation data's class labels: the audio judge.

``ganforge evaluate`` trains a classifier of the data's classes (class sub-folders) on
the real clips to compute ``inception-score`` and ``class-acc`` (the core's
``LabelClassifier``: a feature space fitted on four fifths of the real data, then a
small MLP on its features, measured on the held-out fifth). The audio modality's
default space, the spectral statistics, is not trained on anything; for the
classifier it names this one instead (``AudioModality.classifier_features``), the
analogue of the WaveGAN paper's SC09 digit classifier: a small CNN over 40-band
log-mel spectrograms, trained on the labels of the clips it is given. Its 64-d
penultimate layer is the feature space. ``--features trained`` uses it for FD and KID
too.

Seeded and trained on a fixed subset, so the same data always gives the same network;
it is trained once per process and data (kept in memory, keyed on a hash of the clips
and labels), so asking for several metrics, or evaluating several runs on one data set
in one process, trains it once.
"""

from __future__ import annotations

import hashlib

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

import ganforge

from . import spectral

N_MELS = 40
STEPS = 300          # Adam steps of batch 32
BATCH = 32
MAX_CLIPS = 5000     # trained on at most this many real clips (a seeded subset)
SEED = 0

JUDGES = ("a log-mel CNN trained on this data's class labels: judges whether clips carry what tells the "
          "classes apart (for the tones data: timbre), not quality within a class")

_cache: dict[str, tuple[str, object]] = {}  # data fingerprint -> (name, extract)


def log_mel(wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """[B, C, L] waveforms -> [B, 1, 40, L/256] log-mel spectrograms (channels averaged; pairs
    of 8 ms frames averaged, which keeps the CNN cheap on a CPU)."""
    power = spectral.magnitude(wave.float()).mean(1).square()  # [B, 128, T]
    fb = torchaudio.functional.melscale_fbanks(spectral.N_BINS + 1, 0.0, sample_rate / 2, N_MELS,
                                               sample_rate)[: spectral.N_BINS]
    mel = torch.einsum("bft,fm->bmt", power, fb.to(power))
    mel = F.avg_pool1d(mel, 2) if mel.shape[-1] >= 2 else mel
    return torch.log(mel + 1e-8)[:, None]


class LogMelCNN(nn.Module):
    """Three conv blocks over a log-mel spectrogram, global average pooling, 64-d features."""

    def __init__(self, n_classes: int, mean: float = 0.0, std: float = 1.0):
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

        def block(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]

        self.body = nn.Sequential(*block(1, 16), *block(16, 32), *block(32, 64),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, n_classes)

    def features(self, mel: torch.Tensor) -> torch.Tensor:
        return self.body((mel - self.mean) / self.std)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(mel))


def _shift(mel: torch.Tensor) -> torch.Tensor:
    """Training augmentation: each batch moved by up to 4 frames (64 ms) in time, so the
    judge does not learn where in the clip the sound starts."""
    k = int(torch.randint(-4, 5, ()))
    return torch.roll(mel, k, dims=-1)


def trained_feature_space(real: ganforge.SampleSet, to_waveform, sample_rate: int):
    """``(name, extract)``: the CNN trained on ``real``'s labels; ``extract`` maps a batch
    in model space (waveforms, or SpecGAN's spectrograms via ``to_waveform``) to [B, 64]."""
    import ganforge.metrics as metrics

    labels = real.fields.get("label")
    if not isinstance(labels, torch.Tensor) or len(labels) == 0 or len(torch.unique(labels)) < 2:
        raise ganforge.GanforgeError("the trained audio feature space (a log-mel CNN) needs labelled clips: "
                                     "put each class of the data in its own sub-folder (at least 2)")
    g = torch.Generator().manual_seed(SEED)
    index = torch.randperm(len(real), generator=g)[:MAX_CLIPS].sort().values
    targets = labels[index].long()
    raw = real.fields["x"][index]
    key = hashlib.sha1(raw.contiguous().numpy().tobytes() + targets.numpy().tobytes()
                       + str((sample_rate, tuple(raw.shape), STEPS)).encode()).hexdigest()[:8]
    name = f"trained-on-data log-mel cnn ({N_MELS} mels, seed {SEED}, labels, data {key})"
    if key in _cache:
        return _cache[key]

    def mels_of(x: torch.Tensor) -> torch.Tensor:
        return log_mel(to_waveform(x.cpu()), sample_rate)

    with torch.no_grad():
        mels = torch.cat([mels_of(real.batch(index[s:s + 256])["x"]) for s in range(0, len(index), 256)])
    n_classes = int(labels.max()) + 1
    mean, std = float(mels.mean()), float(mels.std().clamp_min(1e-6))
    net = metrics.fit_feature_network(lambda: LogMelCNN(n_classes, mean, std), mels, targets,
                                      steps=STEPS, batch_size=BATCH, lr=1e-3, seed=SEED, transform=_shift)
    net.eval()

    def extract(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return net.features(mels_of(x)).float()

    extract.judges = JUDGES
    extract.network = net
    _cache.clear()  # one data set at a time: a CNN and its inputs are small, but not free
    _cache[key] = (name, extract)
    return name, extract
