"""The fixtures come from the package's pytest plugin (mesh_zenodo/pytest_plugin.py)."""

pytest_plugins = ["pytest_jupyter.jupyter_server", "mesh_zenodo.pytest_plugin"]
