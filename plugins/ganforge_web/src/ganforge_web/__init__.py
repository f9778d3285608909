"""ganforge-web: a page in the browser for ganforge runs and shipped models (``ganforge serve``),
self-contained HTML reports (``ganforge report``), TensorBoard logging (``--set tensorboard=true``)
and sharing on the Hugging Face Hub (``ganforge push``)."""

__version__ = "0.1.0"
