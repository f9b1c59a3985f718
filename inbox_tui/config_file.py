"""``inbox-tui config``: the settings in use as TOML (secrets masked), and a commented
starting file written from the settings model itself."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

from inbox_tui.settings import SECTIONS, Settings, environment_variable, setting_fields

MASK = "********"


def _toml_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return json.dumps(MASK if value.get_secret_value() else "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value), ensure_ascii=False)


def _lines(section: str | None, values: dict[str, Any], commented: bool) -> list[str]:
    lines: list[str] = []
    fields = [(name, info) for owner, name, info in setting_fields() if owner == section]
    for name, info in fields:
        value = values.get(name)
        if commented:
            variable = environment_variable(info)
            lines.append(f"# {info.description}" + (f" (environment: {variable})" if variable else ""))
        if value is None:
            lines.append(f"# {name} = (not set)" if not commented else f'# {name} = ""')
        else:
            lines.append(("# " if commented else "") + f"{name} = {_toml_value(value)}")
        if commented:
            lines.append("")
    return lines


def render_settings(settings: Settings, *, commented: bool = False) -> str:
    """The settings as a TOML document; secrets are masked, unset values shown as comments."""
    out: list[str] = []
    top = {name: getattr(settings, name) for name in Settings.model_fields}
    out.extend(_lines(None, top, commented))
    for section in SECTIONS:
        values = {name: getattr(getattr(settings, section), name) for name in SECTIONS[section].model_fields}
        out.append("")
        out.append(f"[{section}]")
        out.extend(_lines(section, values, commented))
    return "\n".join(out).strip() + "\n"


def starting_file() -> str:
    """A config.toml with every setting, commented out at its default, described."""
    header = (
        "# inbox-tui configuration. Every setting is shown at its default, commented out:\n"
        "# uncomment and change what you need. Environment variables override this file.\n\n"
    )
    return header + render_settings(Settings(), commented=True)
