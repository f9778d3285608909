"""``ganforge evaluate``: one :class:`EvalContext` per call, shared by every metric.

A metric is a function ``metric(ctx) -> dict`` registered through the
``ganforge_register_metrics`` hook. It asks the context for what it needs; the context
computes each thing once (the real data, the generated samples, the features of both)
so that FD, KID and precision/recall asked for together generate and embed the samples
only once.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..errors import GanforgeError
from .distances import frechet_distance, kernel_inception_distance, precision_recall_density_coverage

#: generated samples when the user gives no -n: min(len(real data), this)
DEFAULT_N = 2000


def _condition_key(pipeline) -> str | None:
    """What the run is conditioned on: "label", "text" or None (unconditional).

    A ganforge Pipeline has an ``encoder`` (None when unconditional) whose
    ``condition_key`` says; a stand-in without one may set ``condition_key`` or
    ``config["conditional"]`` (class labels).
    """
    key = getattr(pipeline, "condition_key", None)
    if key:
        return key
    if hasattr(pipeline, "encoder"):
        encoder = pipeline.encoder
        return getattr(encoder, "condition_key", "label") if encoder is not None else None
    config = getattr(pipeline, "config", None) or {}
    return "label" if config.get("conditional") else None


class EvalContext:
    """Everything metrics share within one ``evaluate`` call, each computed on first use.

    - ``ctx.pipeline``: the loaded :class:`ganforge.Pipeline` (``.modality``, ``.generate``)
    - ``ctx.data_path``, ``ctx.is_training_data`` (``--data`` is the run's own training
      data), ``ctx.options`` (``features``, ``kid_subsets``, ``kid_subset_size``,
      ``prc_k``, ``generate``: generator options such as ``{"truncation": 0.7}``)
    - ``ctx.seed``, ``ctx.batch_size``
    - ``ctx.real``: the real :class:`ganforge.SampleSet` (``modality.load(data_path)``)
    - ``ctx.n``: how many samples are generated (the user's ``n``, else
      ``min(len(real), 2000)``) and how many real samples are compared with them
    - ``ctx.real_x(n)``: ``n`` real samples in model space (a fixed seeded subset)
    - ``ctx.fake``: ``ctx.n`` generated samples in model space (CPU); ``ctx.generated(m)``
      for another count. Conditional runs are given the conditions of the real subset
      (its class mix, or its captions as prompts), so real and generated sets match.
    - ``ctx.features()``: ``(space_name, real_feats, fake_feats)``, float [N, F]
    - ``ctx.classifier()``: a :class:`LabelClassifier` of the data's classes, trained on
      its real labels once (``ctx.has_labels`` says whether the data has classes)
    """

    def __init__(self, pipeline, data_path, options: dict | None = None, n: int | None = None,
                 seed: int = 0, batch_size: int = 256):
        if n is not None and n < 1:
            raise GanforgeError(f"-n must be at least 1 (got {n})")
        if batch_size < 1:
            raise GanforgeError(f"--batch-size must be at least 1 (got {batch_size})")
        self.pipeline = pipeline
        self.data_path = Path(data_path)
        self.options = dict(options or {})
        self.seed = int(seed)
        self.batch_size = int(batch_size)
        self._n = n
        self._real = None
        self._real_order: torch.Tensor | None = None
        self._real_class_names: list[str] = []
        self._generated: dict[int, torch.Tensor] = {}
        self._features = None
        self._classifier = None
        self.feature_space: str | None = None  # set once features were computed
        self.feature_judges: str | None = None  # what that space can judge, when it says

    # ------------------------------------------------------------------ real data

    @property
    def modality(self):
        return self.pipeline.modality

    @property
    def real(self):
        """The real data set, loaded once.

        Loading lets a modality learn state from the data; the trained run's state
        (normalisation, vocabulary, class list) is what the generator's samples are in,
        so it is put back afterwards. The evaluation data's class names are kept to map
        its labels to names.
        """
        if self._real is None:
            modality = self.modality
            trained_state = copy.deepcopy(modality.state)
            real = modality.load(self.data_path)
            self._real_class_names = list(modality.class_names())
            if trained_state:
                modality.state = trained_state
            if len(real) == 0:
                raise GanforgeError(f"no samples found in {self.data_path}")
            self._real = real
            gen = torch.Generator().manual_seed(self.seed)
            self._real_order = torch.randperm(len(real), generator=gen)
        return self._real

    @property
    def training_data(self) -> Path | None:
        """The data the run was trained on (``ganforge.json``'s ``data``), None when unknown."""
        info = getattr(self.pipeline, "info", None) or {}
        data = info.get("data") if isinstance(info, dict) else None
        return Path(data) if data else None

    @property
    def is_training_data(self) -> bool:
        """Whether ``--data`` is the run's own training data. Then a modality's held-out
        part (text's ``holdout``) is what to score against; any other file is scored
        whole: a run's holdout splits its training data, not evaluation files."""
        train = self.training_data
        if train is None:
            return False
        try:
            return train.resolve() == self.data_path.resolve()
        except OSError:
            return False

    @property
    def n(self) -> int:
        return self._n if self._n is not None else min(len(self.real), DEFAULT_N)

    @property
    def requested_n(self) -> int | None:
        """The user's ``-n``, or None when they gave none (a metric may use its own default)."""
        return self._n

    def real_indices(self, n: int | None = None) -> torch.Tensor:
        """Indices of the first ``n`` real samples of a fixed seeded shuffle (at most all)."""
        self.real  # noqa: B018 -- loads the data and the shuffle
        n = self.n if n is None else n
        return self._real_order[: min(n, len(self._real_order))]

    def real_x(self, n: int | None = None) -> torch.Tensor:
        """``n`` real samples (default ``ctx.n``, at most all of them) in model space."""
        return self.real.batch(self.real_indices(n))["x"]

    def real_batches(self, index: torch.Tensor | None = None):
        """Real samples in model space, in batches of ``batch_size``: those of ``index``
        (default ``ctx.real_indices()``)."""
        index = self.real_indices() if index is None else index
        for s in range(0, len(index), self.batch_size):
            yield self.real.batch(index[s:s + self.batch_size])["x"]

    # ------------------------------------------------------------------ label classifier

    @property
    def has_labels(self) -> bool:
        """Whether the evaluation data has at least two classes (class sub-folders)."""
        labels = self.real.fields.get("label")
        return isinstance(labels, torch.Tensor) and len(self._real_class_names) >= 2

    def classifier(self, what: str = "a classifier of the real labels") -> "LabelClassifier":
        """The classifier of the evaluation data's classes, trained on its real labels once
        per context (class-acc and inception-score share it); ``what`` names the metric
        in the error raised when the data has no class sub-folders."""
        if self._classifier is None:
            self._classifier = LabelClassifier(self, what)
        return self._classifier

    # ------------------------------------------------------------------ generated data

    def _conditions(self, index: torch.Tensor) -> dict:
        """``classes=``, ``prompts=`` or (any other condition field) ``conditions=`` for
        generating alongside real samples ``index``."""
        key = _condition_key(self.pipeline)
        if key is None:
            return {}
        fields = self.real.fields
        if key == "label":
            if "label" not in fields or not self._real_class_names:
                raise GanforgeError(f"this run is class-conditional but {self.data_path} has no class sub-folders")
            labels = fields["label"][index].tolist()
            return {"classes": [self._real_class_names[i] for i in labels]}
        if key == "text":
            if "text" not in fields:
                raise GanforgeError(f"this run is text-conditional but {self.data_path} has no captions (metadata.jsonl)")
            return {"prompts": [fields["text"][i] for i in index.tolist()]}
        if key not in fields:
            raise GanforgeError(f"this run is conditioned on the data field '{key}', which {self.data_path} "
                                f"does not have; evaluate it on data of the kind it was trained on")
        values = fields[key]
        return {"conditions": values[index] if isinstance(values, torch.Tensor)
                else [values[i] for i in index.tolist()]}

    def generated(self, n: int) -> torch.Tensor:
        """``n`` generated samples in model space on the CPU, made once per ``n``.

        Generated in batches of ``batch_size``, batch ``i`` with seed ``seed + i``, so a
        figure is reproducible. Conditional runs cycle through the conditions of the
        real subset in its seeded order.
        """
        if n < 1:
            raise GanforgeError(f"cannot evaluate on {n} generated samples")
        if n not in self._generated:
            order = self.real_indices(len(self.real))
            gen_options = dict(self.options.get("generate") or {})
            parts = []
            for i, s in enumerate(range(0, n, self.batch_size)):
                m = min(self.batch_size, n - s)
                index = order[torch.arange(s, s + m) % len(order)]
                result = self.pipeline.generate(m, seed=self.seed + i, **self._conditions(index), **gen_options)
                samples = result.samples if hasattr(result, "samples") else result
                parts.append(samples.detach().cpu())
            self._generated[n] = torch.cat(parts)
        return self._generated[n]

    @property
    def fake(self) -> torch.Tensor:
        return self.generated(self.n)

    def generated_labels(self, n: int | None = None) -> torch.Tensor:
        """The class (an index into the evaluation data's class names) each of the first
        ``n`` generated samples of a label-conditioned run was made for."""
        n = self.n if n is None else n
        if _condition_key(self.pipeline) != "label" or "label" not in self.real.fields:
            raise GanforgeError("only a class-conditional run evaluated on data with class sub-folders has "
                                "generated samples of known classes")
        order = self.real_indices(len(self.real))
        return self.real.fields["label"][order[torch.arange(n) % len(order)]].long()

    @property
    def class_names(self) -> list[str]:
        """The evaluation data's class names (label index -> name)."""
        self.real  # noqa: B018
        return list(self._real_class_names)

    # ------------------------------------------------------------------ features

    def features(self) -> tuple[str, torch.Tensor, torch.Tensor]:
        """``(space_name, real_feats, fake_feats)``, computed once.

        The modality chooses the feature space (``modality.feature_space(real, spec)``
        with ``spec`` the user's ``--features``); ``extract`` sees batches in model space
        on the CPU and may move them to its own device.
        """
        if self._features is None:
            name, extract = self.modality.feature_space(self.real, self.options.get("features"))
            self.feature_judges = _judges(extract)
            fake = self.fake
            with torch.no_grad():
                real_feats = torch.cat([_features(extract, x) for x in self.real_batches()])
                fake_feats = torch.cat([_features(extract, fake[s:s + self.batch_size])
                                        for s in range(0, len(fake), self.batch_size)])
            self._features = (str(name), real_feats, fake_feats)
            self.feature_space = str(name)
        return self._features


def _judges(extract) -> str | None:
    """What a feature space can judge, as its extractor says (``extract.judges``)."""
    text = getattr(extract, "judges", None)
    return str(text) if text else None


def _features(extract, x: torch.Tensor) -> torch.Tensor:
    out = extract(x)
    if not isinstance(out, torch.Tensor) or out.dim() < 1 or len(out) != len(x):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise GanforgeError(f"the feature extractor returned {shape} for a batch of {len(x)}; it must return [B, F]")
    return out.detach().reshape(len(x), -1).to("cpu", torch.float64)


# ---------------------------------------------------------------------- built-in metrics


def fd(ctx: EvalContext) -> dict:
    """Frechet distance between real and generated features (FID in the modality's space)."""
    name, real, fake = ctx.features()
    return {"fd": frechet_distance(real, fake), "feature_space": name}


def kid(ctx: EvalContext) -> dict:
    """Kernel distance (KID): mean and std of unbiased polynomial MMD^2 over random subsets.

    The features are centred on the real set's mean and divided by its overall spread
    first (``kid_normalise``, default on; see :func:`kernel_inception_distance`), so the
    figure does not depend on the units of the feature space: two halves of the real
    data score about 0, clearly different sets a few units to a few hundred. Turn it off
    (``options={"kid_normalise": False}``) for the raw kernel of published Inception KIDs.
    """
    name, real, fake = ctx.features()
    out = kernel_inception_distance(
        real, fake,
        subsets=int(ctx.options.get("kid_subsets", 100)),
        subset_size=int(ctx.options.get("kid_subset_size", 1000)),
        seed=ctx.seed,
        normalise=bool(ctx.options.get("kid_normalise", True)),
    )
    out["feature_space"] = name
    return out


def prc(ctx: EvalContext) -> dict:
    """Precision, recall, density and coverage with k nearest neighbours (k = 5, lowered for tiny sets)."""
    name, real, fake = ctx.features()
    smallest = min(len(real), len(fake))
    if smallest < 2:
        raise GanforgeError(f"precision/recall need at least 2 real and 2 generated samples (have {len(real)} and {len(fake)})")
    k = min(int(ctx.options.get("prc_k", 5)), smallest - 1)
    out = precision_recall_density_coverage(real, fake, k=k)
    out["prc_k"] = k
    out["feature_space"] = name
    return out



#: the label classifier (class-acc, inception-score): at most this many real samples
#: train it, at most this many more (a held-out fifth of the data) measure its own accuracy
CLASSIFIER_TRAIN_MAX = 10000
CLASSIFIER_HELD_MAX = 2000
CLASSIFIER_STEPS = 600


class _Probe(torch.nn.Module):
    """A small MLP on standardised features: the label classifier's head."""

    def __init__(self, mean, std, n_classes, hidden=256):
        super().__init__()
        self.register_buffer("mean", mean.float())
        self.register_buffer("std", std.float())
        self.net = torch.nn.Sequential(torch.nn.Linear(len(mean), hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, n_classes))

    def forward(self, f):
        return self.net((f.float() - self.mean) / self.std)


class LabelClassifier:
    """A classifier of samples into the evaluation data's classes, trained on its real labels.

    Made by :meth:`EvalContext.classifier` (once per context; class-acc and
    inception-score share it). A seeded fifth of the real data is held out; the
    modality's classifier feature space (``modality.feature_space(train, spec)`` with
    ``spec`` the user's ``--features``, else ``modality.classifier_features``) is fitted
    on the rest, and a small MLP on those features learns the labels.

    - ``logits(x)`` / ``probs(x)``: [N, C] for a batch in model space (or any tensor
      the feature space accepts), computed in batches of the context's batch size
    - ``accuracy``: its accuracy on the held-out real samples (the judge's own ceiling)
    - ``class_names``, ``n_classes``, ``space`` (the feature space's name),
      ``description`` (one line: what it is, trained and tested on how many samples)
    - ``train_index`` / ``held_index``: the real samples it was trained / tested on
    """

    def __init__(self, ctx: "EvalContext", what: str = "a classifier of the real labels"):
        from .networks import fit_feature_network
        from ..components import SampleSet

        real = ctx.real
        labels = real.fields.get("label")
        names = ctx.class_names
        if not isinstance(labels, torch.Tensor) or len(names) < 2:
            raise GanforgeError(f"{what} needs labelled data: put each class of {ctx.data_path} in its own "
                                f"sub-folder (at least 2)")
        if len(real) < 10:
            raise GanforgeError(f"{what} needs at least 10 labelled samples in {ctx.data_path} (found {len(real)})")
        self.class_names = list(names)
        self.n_classes = len(names)
        self._batch_size = ctx.batch_size
        # a seeded split: a fifth held out to measure the classifier itself
        order = torch.randperm(len(real), generator=torch.Generator().manual_seed(ctx.seed + 1))
        n_held = min(max(2, len(real) // 5), CLASSIFIER_HELD_MAX)
        self.held_index = order[:n_held].sort().values
        self.train_index = order[n_held:n_held + CLASSIFIER_TRAIN_MAX].sort().values
        fields = {k: (v[self.train_index] if isinstance(v, torch.Tensor) else [v[i] for i in self.train_index.tolist()])
                  for k, v in real.fields.items()}
        train_set = SampleSet(fields, to_model=real.to_model)
        modality = ctx.modality
        spec = ctx.options.get("features") or getattr(modality, "classifier_features", None)
        self.space, self._extract = modality.feature_space(train_set, spec)
        self.space = str(self.space)

        f_train, f_held = self.embed(ctx.real_batches(self.train_index)), self.embed(ctx.real_batches(self.held_index))
        y_train, y_held = labels[self.train_index].long(), labels[self.held_index].long()
        mean, std = f_train.mean(0), f_train.std(0).clamp_min(1e-6)
        n_classes = self.n_classes
        self.probe = fit_feature_network(lambda: _Probe(mean, std, n_classes), f_train, y_train,
                                         steps=int(ctx.options.get("class_acc_steps", CLASSIFIER_STEPS)),
                                         batch_size=128, lr=1e-3, weight_decay=1e-4, seed=ctx.seed)
        with torch.no_grad():
            self.accuracy = float((self.probe(f_held).argmax(1) == y_held).double().mean())
        self.description = (f"MLP on {self.space}, trained on {len(self.train_index)} real samples, "
                            f"tested on {len(self.held_index)}")

    def embed(self, batches) -> torch.Tensor:
        """Features [N, F] of a tensor of samples, or of an iterable of batches."""
        if isinstance(batches, torch.Tensor):
            x = batches
            batches = (x[s:s + self._batch_size] for s in range(0, len(x), self._batch_size))
        with torch.no_grad():
            return torch.cat([_features(self._extract, b) for b in batches]).float()

    def logits(self, x) -> torch.Tensor:
        with torch.no_grad():
            return self.probe(self.embed(x))

    def probs(self, x) -> torch.Tensor:
        return torch.softmax(self.logits(x).double(), dim=1)


def class_acc(ctx: EvalContext) -> dict:
    """Class accuracy of a label-conditioned run: does a sample made for class c look like c?

    A classifier is trained on the real data's labels (:class:`LabelClassifier`: the
    modality's feature space fitted on four fifths of the real data, the image
    plugin's then a CNN trained on those labels, and a small MLP on its features). Its
    accuracy on the held-out fifth is the ceiling (``class_acc_ceiling``): a generator
    cannot be judged better than the judge. Then it classifies the generated samples,
    each made for a known class: ``class_acc`` overall, ``class_acc[NAME]`` per class;
    chance is 1 / classes.
    """
    if _condition_key(ctx.pipeline) != "label":
        raise GanforgeError("class-acc needs a class-conditional run (trained on class sub-folders)")
    judge = ctx.classifier("class-acc")
    fake_y = ctx.generated_labels()
    hit = judge.logits(ctx.fake).argmax(1) == fake_y
    out: dict[str, Any] = {
        "class_acc": float(hit.double().mean()),
        "class_acc_ceiling": judge.accuracy,
        "class_acc_chance": 1.0 / judge.n_classes,
    }
    for c, name in enumerate(judge.class_names):
        mine = fake_y == c
        if mine.any():
            out[f"class_acc[{name}]"] = float(hit[mine].double().mean())
    out["class_acc_classifier"] = judge.description
    return out


def _is_splits(ctx: EvalContext, n: int, n_classes: int) -> int:
    """Splits for the inception score: ``is_splits`` if set, else 10, fewer so that each
    split holds at least 10 samples per class (p(y) is estimated within a split)."""
    if ctx.options.get("is_splits") is not None:
        return max(1, int(ctx.options["is_splits"]))
    return max(1, min(10, n // (10 * n_classes)))


def inception_score(ctx: EvalContext) -> dict:
    """Classifier inception score of the generated samples, with the real data's beside it.

    ``exp(E_x KL(p(y|x) || p(y)))`` (Salimans et al. 2016) with ``p(y|x)`` from a
    classifier trained on the evaluation data's own labels (:class:`LabelClassifier`),
    as the WaveGAN paper does with its SC09 digit classifier: high when each sample is
    clearly one class and all classes occur, 1 when everything looks like one class
    (or like none). At most the number of classes. Reported with:

    - ``inception_score_real``: the same classifier on as many real samples (both sets
      are cut to ``min(n, real samples)``), the ceiling a generator can reach with this
      judge (the classifier saw four fifths of them in training, so it is a little
      optimistic);
    - ``inception_score_classifier_acc``: the classifier's accuracy on held-out real
      samples: a judge that cannot tell the classes apart makes every score near 1;
    - ``inception_score_top_class``: the class it sees most in the generated samples
      and its share (a collapsed generator makes one class);
    - mean and std over ``inception_score_splits`` splits (10, fewer when each split
      would hold under 10 samples per class; option ``is_splits``).

    Works for any run, conditional or not, evaluated on data with class sub-folders.
    """
    from .distances import inception_score as score

    judge = ctx.classifier("inception-score")
    # as many real as generated samples, in as many splits: the score depends on both
    n = min(ctx.n, len(ctx.real))
    splits = _is_splits(ctx, n, judge.n_classes)
    # splits of a seeded shuffle: samples come grouped by class (a conditional run's
    # conditions, a data set read folder by folder), and a split of one class scores 1
    fake = ctx.fake[:n]
    p_fake = judge.probs(fake)
    p_fake = p_fake[torch.randperm(len(p_fake), generator=torch.Generator().manual_seed(ctx.seed + 2))]
    p_real = judge.probs(ctx.real_batches(ctx.real_indices(n)))
    mean, std = score(p_fake, splits)
    real_mean, real_std = score(p_real, splits)
    counts = torch.bincount(p_fake.argmax(1), minlength=judge.n_classes)
    top = int(counts.argmax())
    return {
        "inception_score": mean,
        "inception_score_std": std,
        "inception_score_real": real_mean,
        "inception_score_real_std": real_std,
        "inception_score_max": float(judge.n_classes),
        "inception_score_n": n,
        "inception_score_splits": splits,
        "inception_score_top_class": f"{judge.class_names[top]} ({counts[top] / len(fake):.0%} of generated)",
        "inception_score_classifier_acc": judge.accuracy,
        "inception_score_classifier": judge.description,
    }


inception_score.needs_labels = True  # a default metric that evaluate skips on data without classes


# ---------------------------------------------------------------------- evaluate


R_PRECISION_CANDIDATES = 100
R_PRECISION_STEPS = 600


def _captions_of(ctx: EvalContext, n: int) -> list[str]:
    """The prompt each of the first ``n`` generated samples of a text-conditioned run got
    (the evaluation data's captions in the context's seeded order, cycled)."""
    order = ctx.real_indices(len(ctx.real)).tolist()
    texts = ctx.real.fields["text"]
    return [texts[order[i % len(order)]] for i in range(n)]


def _rank_own_caption(sims: torch.Tensor, own: torch.Tensor, groups: torch.Tensor, k: int, seed: int) -> float:
    """R-precision (R = 1): for each row of ``sims`` [N, G] (a sample against every
    distinct caption), is its own caption (``own`` [N]) the best of itself and ``k - 1``
    other distinct captions drawn at random?"""
    g = torch.Generator().manual_seed(seed)
    n, n_groups = sims.shape
    hits = 0
    for i in range(n):
        others = torch.randperm(n_groups - 1, generator=g)[: k - 1]
        others = others + (others >= own[i]).long()  # skip the sample's own caption
        hits += int(sims[i, own[i]] > sims[i, others].max())
    return hits / n


def r_precision(ctx: EvalContext) -> dict:
    """Prompt faithfulness of a text-conditioned run: R-precision (R = 1) among 100 captions.

    A matching model is trained contrastively (InfoNCE) on a seeded four fifths of the real
    (sample, caption) pairs: two linear maps into a shared 128-d space, one from the
    modality's feature space (``--features``), one from the run's own caption embeddings.
    Each generated sample is then ranked against its own prompt and 99 other distinct
    captions of the data; ``r_precision`` is how often its prompt wins (chance 0.01).
    ``r_precision_real`` is the same for held-out real pairs: the ceiling of what this
    matching model can tell apart in this feature space.
    """
    if _condition_key(ctx.pipeline) != "text":
        raise GanforgeError("r-precision needs a run conditioned on captions (--set encoder=text:...)")
    real = ctx.real
    if "text" not in real.fields:
        raise GanforgeError(f"r-precision needs captions beside the data in {ctx.data_path} (metadata.jsonl 'text')")
    texts = list(real.fields["text"])
    distinct = sorted(set(texts))
    k = min(R_PRECISION_CANDIDATES, len(distinct))
    if k < 2 or len(real) < 10:
        raise GanforgeError(f"r-precision needs at least 10 captioned samples and 2 distinct captions in {ctx.data_path}")
    encoder = ctx.pipeline.encoder
    with torch.no_grad():
        caption_emb = torch.cat([encoder(distinct[s:s + 256]).float().cpu() for s in range(0, len(distinct), 256)])
    group = {t: i for i, t in enumerate(distinct)}

    name, real_f, fake_f = ctx.features()
    real_f, fake_f = real_f.float(), fake_f.float()
    real_idx = ctx.real_indices()
    real_groups = torch.tensor([group[texts[i]] for i in real_idx.tolist()])
    fake_groups = torch.tensor([group.get(t, -1) for t in _captions_of(ctx, len(fake_f))])
    order = torch.randperm(len(real_f), generator=torch.Generator().manual_seed(ctx.seed + 2))
    n_held = max(2, len(order) // 5)
    held, train = order[:n_held], order[n_held:]

    mean, std = real_f[train].mean(0), real_f[train].std(0).clamp_min(1e-6)
    caption_emb = caption_emb.float()
    e_mean, e_std = caption_emb.mean(0), caption_emb.std(0).clamp_min(1e-6)
    torch.manual_seed(ctx.seed)
    to_joint_x = torch.nn.Linear(real_f.shape[1], 128)
    to_joint_t = torch.nn.Linear(caption_emb.shape[1], 128)
    params = [*to_joint_x.parameters(), *to_joint_t.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3, weight_decay=1e-4)

    def joint_x(f):
        return torch.nn.functional.normalize(to_joint_x((f.float() - mean) / std), dim=1)

    def joint_t(e):
        return torch.nn.functional.normalize(to_joint_t((e - e_mean) / e_std), dim=1)

    g = torch.Generator().manual_seed(ctx.seed + 3)
    steps = int(ctx.options.get("r_precision_steps", R_PRECISION_STEPS))
    for _ in range(steps):
        batch = train[torch.randint(len(train), (min(256, len(train)),), generator=g)]
        groups = real_groups[batch]
        logits = joint_x(real_f[batch]) @ joint_t(caption_emb).T / 0.07  # against every distinct caption
        loss = torch.nn.functional.cross_entropy(logits, groups)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        t_all = joint_t(caption_emb)
        real_score = _rank_own_caption(joint_x(real_f[held]) @ t_all.T, real_groups[held], real_groups, k, ctx.seed)
        known = fake_groups >= 0
        fake_score = _rank_own_caption(joint_x(fake_f[known]) @ t_all.T, fake_groups[known], real_groups, k, ctx.seed)
    return {"r_precision": fake_score, "r_precision_real": real_score, "r_precision_candidates": k,
            "r_precision_chance": 1 / k,
            "r_precision_model": f"linear contrastive matching on {name} and the run's caption embeddings, "
                                 f"trained on {len(train)} real pairs, tested on {len(held)}"}


def _resolve(metric) -> tuple[str, Callable]:
    if callable(metric):
        return getattr(metric, "__name__", repr(metric)), metric
    from .. import plugins

    fn = plugins.get_registry().get("metric", str(metric))  # unknown: an error listing the known ones
    if not callable(fn):
        raise GanforgeError(f"metric '{metric}' is registered to something that is not callable")
    return str(metric), fn


def evaluate(pipeline, data_path, metrics: Sequence[str | Callable] | None = None, n: int | None = None,
             seed: int = 0, features: str | None = None, batch_size: int = 256,
             options: dict[str, Any] | None = None) -> dict:
    """Score a trained run against data: ``{"fd": ..., "kid": ..., "feature_space": ...}``.

    ``pipeline`` is a loaded pipeline or a run directory; ``metrics`` names registered
    metrics (or are metric functions), by default the modality's ``default_metrics``;
    ``n`` generated samples (default min(len(data), 2000)); ``features`` the feature
    space (modality-specific, None: its default); ``options`` more settings read by
    metrics (``kid_subsets``, ``kid_subset_size``, ``prc_k``, ``generate``).
    """
    if isinstance(pipeline, (str, Path)):
        from ..pipeline import load

        pipeline = load(pipeline)
    options = dict(options or {})
    if features is not None:
        options["features"] = features
    names = list(metrics) if metrics else list(getattr(pipeline.modality, "default_metrics", ()))
    if not metrics and _condition_key(pipeline) == "label" and "class-acc" not in names:
        names.append("class-acc")  # a label-conditioned run: does it make the class it is asked for?
    if not metrics and _condition_key(pipeline) == "text" and "r-precision" not in names:
        names.append("r-precision")  # a caption-conditioned run: does it draw what its prompt says?
    if not names:
        raise GanforgeError("no metric to compute: name one with --metric")
    resolved = [_resolve(m) for m in names]  # every name checked before anything is computed
    ctx = EvalContext(pipeline, data_path, options=options, n=n, seed=seed, batch_size=batch_size)
    out: dict[str, Any] = {}
    if not metrics:
        # a default metric that needs class labels (inception-score) is left out, with a
        # note, on data without class sub-folders; named with --metric, it is an error
        skipped = [name for name, fn in resolved if getattr(fn, "needs_labels", False) and not ctx.has_labels]
        if skipped:
            resolved = [(name, fn) for name, fn in resolved if name not in skipped]
            out["skipped"] = f"{', '.join(skipped)} (needs class sub-folders in {ctx.data_path})"
    for name, fn in resolved:
        result = fn(ctx)
        if not isinstance(result, dict):
            raise GanforgeError(f"metric '{name}' returned {type(result).__name__}, not a dict of figures")
        out.update(result)
    if ctx.feature_space is not None:
        out["feature_space"] = ctx.feature_space
        if ctx.feature_judges:
            out["feature_space_judges"] = ctx.feature_judges
    return out
