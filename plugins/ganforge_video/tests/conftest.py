import importlib.util

# Collected from the ganforge checkout's root too: without the distribution installed, its tests are left out.
if importlib.util.find_spec("ganforge_video") is None:
    collect_ignore_glob = ["test_*.py"]
