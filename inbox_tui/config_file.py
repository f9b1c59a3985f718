"""``inbox-tui config``: the settings in use as TOML (secrets masked), and a commented
starting file written from the settings model itself."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from inbox_tui.settings import SECTIONS, Secret, Settings, setting_fields

MASK = "********"


def _toml_value(value: Any) -> str:
    if isinstance(value, Secret):
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
    for item in setting_fields():
        if item.section != section:
            continue
        name, value, variable = item.name, values.get(item.name), item.environment_variable
        if commented:
            lines.append(f"# {item.description}" + (f" (environment: {variable})" if variable else ""))
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
    out.extend(_lines(None, msgspec.structs.asdict(settings), commented))
    for section in SECTIONS:
        values = msgspec.structs.asdict(getattr(settings, section))
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
