"""The one error type users see: its message is a complete, one-line instruction."""


class GanforgeError(Exception):
    """A problem the user can fix; the CLI prints ``error: <message>`` without a traceback."""


class PluginError(GanforgeError):
    """A plugin failed to import or register (fatal only with GANFORGE_STRICT_PLUGINS=1)."""
