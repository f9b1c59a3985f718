"""The base of every frame: a msgspec Struct tagged on ``type``, readable like its JSON."""

from __future__ import annotations

from typing import Any

import msgspec


class WireObject(msgspec.Struct, frozen=True):
    """A typed JSON object. Fields are attributes (``frame.text``); ``frame["text"]`` and
    ``frame.get("text")`` read it like the JSON object it travels as, for code written
    against that form."""

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.__struct_fields__:
            return getattr(self, key)
        tag = type(self).__struct_config__.tag
        if key == "type" and isinstance(tag, str):
            return tag
        return default

    def __getitem__(self, key: str) -> Any:
        missing = object()
        value = self.get(key, missing)
        if value is missing:
            raise KeyError(key)
        return value


class WireFrame(WireObject, frozen=True, tag_field="type"):
    """A frame; ``frame.type`` is its tag (``"message"``, ``"ack"``, …)."""

    @property
    def type(self) -> str:
        return str(type(self).__struct_config__.tag)
