"""Theme files: TOML parsed into ``textual.theme.Theme`` objects.

Textual cannot read theme files itself. The bundled themes live in ``themes/`` at the top
of the project and are built into the package as ``inbox_tui.themes``; a user's own go
in ``<config dir>/themes/`` and may override a bundled one by name. A broken file is reported and skipped, never fatal.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from textual.theme import Theme

from inbox_tui.settings import config_dir


def _bundled_themes_dir() -> Path:
    """The themes shipped in the package (``themes/`` of the repository, built into
    ``inbox_tui.themes``), found the same way in every kind of install."""
    return Path(str(resources.files("inbox_tui.themes")))


BUNDLED_THEMES_DIR = _bundled_themes_dir()
COLOUR_FIELDS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "warning",
    "error",
    "success",
)


@dataclass(frozen=True)
class ThemeProblem:
    path: Path
    message: str


def user_themes_dir() -> Path:
    return config_dir() / "themes"


def parse_theme(path: Path) -> Theme:
    """One theme file; raises ValueError with a message a user can act on."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"not valid TOML: {error}") from None
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("needs a name")
    if not isinstance(data.get("primary"), str):
        raise ValueError("needs a primary colour")
    unknown = set(data) - {"name", "dark", "variables", *COLOUR_FIELDS}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError("[variables] must be a table")
    colours: dict[str, Any] = {key: str(data[key]) for key in COLOUR_FIELDS if key in data}
    try:
        theme = Theme(
            name=name.strip(),
            dark=bool(data.get("dark", True)),
            variables={str(k): str(v) for k, v in variables.items()},
            **colours,
        )
        theme.to_color_system()  # parses every colour now, so a typo is reported here
    except Exception as error:  # noqa: BLE001 - Textual raises several types for bad colours
        raise ValueError(f"bad colour: {error}") from None
    return theme


def load_themes(*folders: Path) -> tuple[list[Theme], list[ThemeProblem]]:
    """Every ``*.toml`` theme in ``folders``; later folders override earlier ones by name."""
    by_name: dict[str, Theme] = {}
    problems: list[ThemeProblem] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = parse_theme(path)
            except ValueError as error:
                problems.append(ThemeProblem(path, str(error)))
                continue
            by_name[theme.name] = theme
    return list(by_name.values()), problems


def all_theme_folders() -> tuple[Path, Path]:
    return BUNDLED_THEMES_DIR, user_themes_dir()
