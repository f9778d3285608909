"""The hooks a ganforge plugin implements: the contract plugins are written against.

A plugin is a module with functions decorated ``@ganforge.hookimpl`` whose names are
the hooks below, exposed through the entry-point group ``ganforge``::

    # pyproject.toml of your distribution
    [project.entry-points.ganforge]
    myplugin = "my_package.plugin"

The *register* hooks receive a ``register`` callable, not a return value (the
pattern of the ``llm`` CLI). Call it once per thing your plugin provides::

    register(name, reference, summary="one line shown by `ganforge plugins`")

``reference`` is either the object itself or, better, a lazy ``"module:attribute"``
string: it is imported only when the component is used, so ``ganforge plugins`` and
``ganforge --help`` never import torch. Components are addressed as
``plugin:name`` (``image:dcgan``); the short ``name`` works when only one plugin
registers it. Two plugins registering the same full name is an error that names both.

The *lifecycle* hooks are called by the training loop on rank 0 and may log anywhere
(TensorBoard, a web service); they must not change the models.

Every hook is optional. A function marked ``@hookimpl`` whose name is not a hook
below (a misspelling) makes the plugin fail to load with a message that says so.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("ganforge")


# --------------------------------------------------------------------------- components


@hookspec
def ganforge_register_modalities(register):
    """Register data modalities: how one kind of data is read and written.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a subclass of :class:`ganforge.Modality`.

    Called once when plugins load. Example::

        @hookimpl
        def ganforge_register_modalities(register):
            register("image", "ganforge_image.modality:ImageModality",
                     summary="folders of PNG/JPEG/WebP, class sub-folders, captions")
    """


@hookspec
def ganforge_register_generators(register):
    """Register generator networks.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a subclass of :class:`ganforge.Generator` (an ``nn.Module`` with a
        ``config_class`` dataclass whose fields are read from the run configuration).

    Called once when plugins load. Example::

        register("dcgan", "ganforge_image.dcgan:Generator", summary="DCGAN generator")
    """


@hookspec
def ganforge_register_discriminators(register):
    """Register discriminator (critic) networks.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a subclass of :class:`ganforge.Discriminator`: sample (and optional condition
        embedding) to one score per sample.

    Called once when plugins load. Example::

        register("dcgan", "ganforge_image.dcgan:Discriminator", summary="DCGAN discriminator")
    """


@hookspec
def ganforge_register_encoders(register):
    """Register conditioning encoders: class labels, captions or prompts to embeddings.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a subclass of :class:`ganforge.ConditioningEncoder`. An encoder is frozen (a
        pretrained ``transformers`` model, referenced by the run, not copied into it) or
        trainable (saved in the run as ``encoder.safetensors``).

    Called once when plugins load. Example::

        register("label", "ganforge_image.encoders:LabelEncoder", summary="learned class embeddings")
    """


@hookspec
def ganforge_register_augmentations(register):
    """Register differentiable augmentations, chosen with ``--set augment=NAME``.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a subclass of :class:`ganforge.Augmentation` (an ``nn.Module`` with a
        ``config_class``). The loop applies it to every discriminator input, real and
        generated, calls its ``set_progress`` before each step and ``observe`` with the
        real batch's scores after each discriminator update; its ``state_dict`` (ADA's p)
        is saved with every checkpoint.

    Called once when plugins load. Example::

        register("ada", "ganforge_image.ada:AdaptiveAugment", summary="ADA (Karras et al. 2020)")
    """


@hookspec
def ganforge_register_objectives(register):
    """Register objectives: the adversarial game (D loss, G loss, regularisers).

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a subclass of :class:`ganforge.Objective`.

    The core registers the classic ones (``non-saturating``, ``minimax``, ``wgan``,
    ``wgan-gp``, ``hinge``, ``lsgan``). Called once when plugins load.
    """


@hookspec
def ganforge_register_recipes(register):
    """Register recipes: the named bundles a user types after ``ganforge train``.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a :class:`ganforge.Recipe` (modality + generator + discriminator (+ encoder)
        + objective + schedule + documented defaults). Keep the module that defines
        recipes free of torch imports: ``ganforge recipes NAME`` loads it.

    Called once when plugins load. Example::

        register("dcgan", "ganforge_image.recipes:DCGAN", summary="Radford et al. 2016")
    """


@hookspec
def ganforge_register_metrics(register):
    """Register metrics: a score of generated samples against data.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a callable ``metric(ctx) -> dict[str, float | str]`` where ``ctx`` is a
        :class:`ganforge.metrics.EvalContext` (the loaded pipeline, the real data,
        generated samples and feature extraction, each computed once and shared
        between metrics). Used by ``ganforge evaluate RUN --data PATH --metric NAME``.

    Called once when plugins load.
    """


@hookspec
def ganforge_register_datasets(register):
    """Register built-in demo data sets, written to disk by ``ganforge data NAME --out DIR``.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a callable ``make(out_dir: pathlib.Path, **options) -> pathlib.Path``.
        Data is made procedurally, never downloaded.

    Called once when plugins load. Example::

        register("shapes", "ganforge_image.datasets:make_shapes", summary="coloured shapes")
    """


@hookspec
def ganforge_register_demos(register):
    """Register quickstarts that ``ganforge demo [NAME]`` runs.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a callable ``demo(out: pathlib.Path, steps: int | None = None, quick: bool = False)
        -> pathlib.Path`` that makes its data, trains, generates, prints what it wrote
        and returns the folder of generated files. ``quick`` asks for a smoke-test-sized
        run (CI). Without a name, ``ganforge demo`` runs the first registered demo.

    Called once when plugins load. Example::

        register("shapes", "ganforge_image.demo:shapes_demo", summary="class-conditional DCGAN on shapes")
    """


@hookspec
def ganforge_register_models(register):
    """Register trained models that ship inside the plugin's package, so users generate
    right after install: ``ganforge generate NAME --prompt ... --out DIR`` and
    ``ganforge.load(NAME)`` accept the name wherever they accept a run folder.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to the model's folder (a ``pathlib.Path`` inside the package, listed as package
        data): a run folder as ``ganforge export`` writes it (``ganforge.json`` and the
        generator's weights, no training state). Say in ``summary`` what it makes and how
        to rebuild it.

    Called once when plugins load. A folder of that name in the working directory wins
    over a registered model. Example::

        register("shapes-t2i", "my_plugin.pretrained:SHAPES_T2I", summary="shapes from prompts")
    """


@hookspec
def ganforge_register_commands(register):
    """Register extra ``ganforge`` subcommands.

    :param register: ``register(name, reference, summary="")``; the reference resolves
        to a callable ``main(argv: list[str]) -> int | None`` that parses its own arguments.
        The name becomes ``ganforge NAME``; it may not shadow a built-in command.

    Called once when plugins load.
    """


# --------------------------------------------------------------------------- lifecycle


@hookspec
def ganforge_on_train_start(run):
    """Called once before the first training step (also after ``--resume``).

    :param run: the :class:`ganforge.training.Run` being trained: ``run.config``
        (dict), ``run.out`` (run directory), ``run.step``, ``run.generator``,
        ``run.discriminator``.
    """


@hookspec
def ganforge_on_step_end(run, step, logs):
    """Called after every training step.

    :param run: the :class:`ganforge.training.Run`.
    :param step: the global step just finished (1-based).
    :param logs: ``dict[str, float]`` of this step's losses and timings.
    """


@hookspec
def ganforge_on_checkpoint(run, path):
    """Called after a checkpoint has been written (atomically) to the run directory.

    :param run: the :class:`ganforge.training.Run`.
    :param path: ``pathlib.Path`` of the run directory.
    """


@hookspec
def ganforge_on_train_end(run, reason):
    """Called once when training stops.

    :param run: the :class:`ganforge.training.Run`.
    :param reason: ``"finished"``, ``"interrupted"`` (Ctrl-C) or ``"error"``.
    """
