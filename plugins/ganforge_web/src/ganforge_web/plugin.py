"""Registrations of the web plugin. Nothing heavy here (no torch, gradio or tensorboard):
`ganforge --help` and `ganforge plugins` stay fast, and the lifecycle hooks import the
TensorBoard writer only for runs that ask for it."""

from ganforge import hookimpl

from . import __version__  # noqa: F401  (shown by `ganforge plugins`)

GANFORGE_API = 1  # the ganforge plugin API this plugin is written for (ganforge.API_VERSION)

#: run options every recipe takes once this plugin is installed (`--set tensorboard=true`)
GANFORGE_OPTIONS = {
    "tensorboard": (False, "log losses, previews and audio to TensorBoard in RUN/tensorboard "
                           "(view with: tensorboard --logdir RUN)"),
}


@hookimpl
def ganforge_register_commands(register):
    register("serve", "ganforge_web.server:serve_main",
             summary="a local web page: generate from runs and shipped models, watch trainings")
    register("report", "ganforge_web.report:report_main",
             summary="a self-contained HTML report of a run: loss curves, previews, configuration, metrics")
    register("push", "ganforge_web.hub:push_main",
             summary="upload a run to the Hugging Face Hub with a model card (load it with hf:user/name)")


def _tensorboard(run):
    """The TensorBoard logger module when this run asked for it, else None."""
    if not run.config.get("tensorboard"):
        return None
    from . import tensorboard

    return tensorboard


@hookimpl
def ganforge_on_train_start(run):
    tb = _tensorboard(run)
    if tb is not None:
        tb.start(run)


@hookimpl
def ganforge_on_step_end(run, step, logs):
    tb = _tensorboard(run)
    if tb is not None:
        tb.step_end(run, step, logs)


@hookimpl
def ganforge_on_checkpoint(run, path):
    tb = _tensorboard(run)
    if tb is not None:
        tb.flush_previews(run)


@hookimpl
def ganforge_on_train_end(run, reason):
    tb = _tensorboard(run)
    if tb is not None:
        tb.end(run)
