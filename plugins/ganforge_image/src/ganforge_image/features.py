"""Feature spaces for image metrics (FD, KID, precision/recall), none of them downloaded.

``--features`` (``spec``) chooses:

- a path to a TorchScript file: your own network, ``net(x) -> [B, F]`` on images in
  [-1, 1] of the run's size and channels;
- ``inception``: torchvision's Inception-v3 pool features (2048-d), only when its
  ImageNet weights are already in the torch hub cache (``torch.hub.get_dir()/checkpoints``);
  they are never downloaded. These are torchvision's weights, not the TensorFlow FID
  network, so the figures are close to but not the published FIDs;
- ``trained``: a small CNN trained on the real data itself (on its class labels, or,
  without labels, on predicting which of four rotations an image was given). The same
  data always gives the same network (seeded, fixed subset);
- nothing: ``trained`` on the class labels when the data has them (whatever is
  cached: it judges class identity, which neither pretext task nor ImageNet features
  do on small synthetic images), else ``inception`` when its weights are cached, else
  ``trained`` on rotations.

What each space can judge (``ganforge evaluate`` prints it beside the figures, from
the extractor's ``judges``):

- the label-trained CNN: whether samples carry what tells the classes apart;
- the rotation-pretext CNN: texture, colour, edges and orientation, not class identity
  or whole shapes: a grid of mostly shapeless blotches in the data's colours can score
  a precision above 0.9 there;
- Inception-v3: objects, textures and layout of natural photographs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import ganforge

INCEPTION_FILE = "inception_v3_google-0cc3c7bd.pth"  # torchvision's IMAGENET1K_V1 weights
CNN_SIZE = 32            # the trained CNN sees images at 32x32 (cheap, enough for shapes and colours)
CNN_MAX_IMAGES = 10000   # trained on at most this many real images (a seeded subset)
CNN_STEPS = 300          # Adam steps of batch 64
CNN_SEED = 0

_cache: dict[str, tuple[str, object]] = {}  # data fingerprint -> (name, extract): train once per process

JUDGES = {
    "labels": "a CNN trained on this data's class labels: judges class identity (whether samples carry "
              "what tells the classes apart), not differences within a class",
    "rotations": "a rotation-pretext CNN (the data has no labels): judges texture, colour, edges and "
                 "orientation, not class identity or whole shapes (shapeless blotches in the right "
                 "colours can score high precision)",
    "inception": "ImageNet Inception-v3 pool features: judge objects, textures and layout of natural "
                 "photographs; weak on small synthetic images",
    "torchscript": "your TorchScript network: judges whatever it was trained to tell apart",
}


def _has_labels(real) -> bool:
    labels = real.fields.get("label")
    return isinstance(labels, torch.Tensor) and len(labels) > 0 and len(torch.unique(labels)) >= 2


def _judging(name: str, extract, kind: str):
    extract.judges = JUDGES[kind]
    return name, extract


def inception_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def image_feature_space(real: ganforge.SampleSet, spec: str | None, channels: int):
    """``(name, extract)`` for the modality's ``feature_space``; ``extract`` takes [-1, 1] images."""
    spec = (spec or "").strip()
    if spec and spec.lower() not in ("auto", "inception", "trained", "cnn"):
        path = Path(os.path.expanduser(spec))
        if path.is_file():
            return _torchscript(path)
        raise ganforge.GanforgeError(
            f"--features '{spec}' is neither a file nor a known feature space; use 'inception', "
            "'trained' or the path of a TorchScript feature network"
        )
    auto = spec.lower() in ("", "auto")
    if spec.lower() == "inception" or (auto and not _has_labels(real) and inception_weights_path().is_file()):
        return _judging(*_inception(), "inception")
    return _trained_cnn(real, channels)


# ----------------------------------------------------------------------------- TorchScript


def _torchscript(path: Path):
    try:
        net = torch.jit.load(str(path), map_location=_device()).eval()
    except (RuntimeError, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ganforge.GanforgeError(f"--features {path} is not a TorchScript file ({first}); "
                                     "save your network with torch.jit.script(net).save(path)") from None
    device = _device()

    def extract(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return net(x.to(device)).flatten(1).float().cpu()

    return _judging(f"torchscript {path.name}", extract, "torchscript")


# ----------------------------------------------------------------------------- Inception-v3


def _inception():
    weights = inception_weights_path()
    if not weights.is_file():
        raise ganforge.GanforgeError(
            f"--features inception needs torchvision's Inception-v3 weights at {weights} (nothing is "
            "downloaded); copy the file there, or use --features trained"
        )
    from torchvision.models import inception_v3

    # transform_input=False: our images are already in [-1, 1], the range the ported
    # Google weights expect (transform_input=True would undo ImageNet normalisation).
    net = inception_v3(weights=None, aux_logits=True, transform_input=False, init_weights=False)
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    net.fc = nn.Identity()  # the 2048-d average-pool features
    device = _device()
    net = net.to(device).eval()

    def extract(x: torch.Tensor) -> torch.Tensor:
        x = x.to(device, torch.float32)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        with torch.no_grad():
            return net(x).float().cpu()

    return "inception-v3 (torchvision)", extract


# ----------------------------------------------------------------------------- trained CNN


class FeatureCNN(nn.Module):
    """A small classifier of 32x32 images; its 128-d penultimate layer is the feature space."""

    def __init__(self, channels: int, n_classes: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1), nn.LeakyReLU(0.2),                   # 16x16
            nn.Conv2d(32, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),     # 8x8
            nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),   # 4x4
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(128, 128), nn.LeakyReLU(0.2),
        )
        self.head = nn.Linear(128, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(_to_cnn_input(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _to_cnn_input(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels or [-1, 1] floats, any size -> float [-1, 1] at 32x32."""
    if x.dtype == torch.uint8:
        x = x.float().div(127.5).sub(1.0)
    if x.shape[-1] != CNN_SIZE or x.shape[-2] != CNN_SIZE:
        x = F.interpolate(x.float(), size=(CNN_SIZE, CNN_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x


def _trained_cnn(real: ganforge.SampleSet, channels: int):
    import ganforge.metrics as metrics  # the core's metrics helpers (fit_feature_network, ...)

    x = real.fields["x"]
    if not real.streamed and (not isinstance(x, torch.Tensor) or x.dim() != 4):
        raise ganforge.GanforgeError("the trained image feature space needs image data [N, C, H, W]")
    # A fixed, seeded subset, shrunk to 32x32 once (uint8 keeps the rotated copies small).
    g = torch.Generator().manual_seed(CNN_SEED)
    index = torch.randperm(len(x), generator=g)[:CNN_MAX_IMAGES].sort().values
    small = x[index]  # streamed data: only these are decoded
    if small.dtype != torch.uint8 or small.shape[-1] != CNN_SIZE:
        small = ((_to_cnn_input(small if small.dtype == torch.uint8 else small.float()) + 1) * 127.5) \
            .round().clamp(0, 255).to(torch.uint8)
    labels = real.fields.get("label")
    n_classes = int(labels.max()) + 1 if _has_labels(real) else 0
    if n_classes >= 2:
        task, inputs, targets = "labels", small, labels[index].long()
    else:
        task = "rotations"
        inputs, targets = metrics.rotation_pretext(small)
        n_classes = int(targets.max()) + 1

    key = hashlib.sha1(small.numpy().tobytes() + targets.numpy().tobytes()).hexdigest()[:8]
    name = f"trained-on-data cnn ({CNN_SIZE}x{CNN_SIZE}, seed {CNN_SEED}, {task}, data {key})"
    if key in _cache:
        return _cache[key]

    device = _device()
    net = metrics.fit_feature_network(
        lambda: FeatureCNN(channels=small.shape[1], n_classes=n_classes).to(device),
        inputs, targets, steps=CNN_STEPS, batch_size=64, lr=1e-3, seed=CNN_SEED,
    )
    extract = metrics.features_from(net, batch_size=256)
    extract.judges = JUDGES[task]
    _cache.clear()
    _cache[key] = (name, extract)
    return name, extract
