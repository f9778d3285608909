"""Device names as users type them (``--device``, ``--set device=``), checked with one-line errors.

``check_device_name`` checks the spelling without importing torch (configuration is
resolved before torch is needed); ``resolve_device`` also checks that the device exists here.
"""

from __future__ import annotations

import re

from .errors import GanforgeError

VALID_SPELLINGS = "auto, cpu, cuda, cuda:N (N = 0, 1, ...), mps"

_PATTERN = re.compile(r"(auto|cpu|mps|cuda)(?::([0-9]{1,6}))?")


def check_device_name(name) -> tuple[str, int | None]:
    """``(type, index)`` of a device spelling; a GanforgeError listing the valid ones otherwise."""
    match = _PATTERN.fullmatch(name) if isinstance(name, str) else None
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        shown = repr(name) if isinstance(name, str) else repr(str(name))
        raise GanforgeError(f"device {shown[:60]} is not a device name; use one of {VALID_SPELLINGS}")
    index = match.group(2)
    return match.group(1), (int(index) if index is not None else None)


def resolve_device(name: str, local_rank: int = 0):
    """The ``torch.device`` that ``name`` means here.

    ``auto`` is ``cuda:<local_rank>`` when CUDA is available (one GPU per process under
    torchrun), else ``cpu``. ``cuda``/``cuda:N``/``mps`` are refused with a one-line error
    when that device is absent.
    """
    kind, index = check_device_name(name)
    import torch

    if kind == "cpu":
        return torch.device("cpu")
    if kind == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise GanforgeError(f"device '{name}' (Apple Metal) is not available here; use --device cpu or auto")
        return torch.device("mps")
    cuda_ok = torch.cuda.is_available()
    if kind == "auto":
        if not cuda_ok:
            return torch.device("cpu")
        index = local_rank
    elif not cuda_ok:
        raise GanforgeError(f"device '{name}' needs CUDA, which is not available here; use --device cpu or auto")
    if index is None:  # plain "cuda": this process's GPU (LOCAL_RANK under torchrun)
        index = local_rank
    count = torch.cuda.device_count()
    if not 0 <= index < count:
        which = f"device '{name}'" if kind != "auto" and name != "cuda" else f"device '{name}' for local rank {index}"
        raise GanforgeError(
            f"{which} does not exist: this machine has {count} CUDA device{'s' if count != 1 else ''}"
            f"{f' (cuda:0 to cuda:{count - 1})' if count > 1 else ' (cuda:0)' if count == 1 else ''}; "
            f"choose one of those or --device cpu"
        )
    return torch.device("cuda", index)
