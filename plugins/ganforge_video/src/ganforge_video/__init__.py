"""video: a ganforge plugin (made with `ganforge new-plugin`)."""

__version__ = "0.1.0"
