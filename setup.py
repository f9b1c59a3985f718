"""Package layout that pyproject.toml cannot express: the bundled themes live in
``themes/`` at the top of the repository and are carried inside the package as
``inbox_tui.themes``, so they load through ``importlib.resources`` in every kind of
install (editable, venv, ``--user``, pipx, uv)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["inbox_tui", "inbox_tui.*"]), "inbox_tui.themes"],
    package_dir={"inbox_tui.themes": "themes"},
)
