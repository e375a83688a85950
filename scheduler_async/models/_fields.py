"""Checks every model runs on its fields when it is built, chosen by the field's type.

Each model class is declared ``@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)``;
:func:`checked` looks at each field's annotation and adds the validator its type calls for, so a
new field gets its check by being declared, not by remembering to add one:

* a tuple of strings (``tuple[str, ...]``, ``tuple[WebhookTrigger | str, ...]``, optional or
  not) refuses a bare ``str`` (which would be sent as its letters: ``calendar_ids="primary"`` as
  ``["p", "r", "i", ...]``) and items that are not strings, with an error naming the field.

The validators run in the model's ``__init__``, so a model nested in another (a participant's
``availability`` inside a configuration) is checked when it is built, before any call.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

__all__ = ["checked"]

_STR_TUPLE = re.compile(r"tuple\[(?:[\w.]+\|)*str(?:\|[\w.]+)*,\.\.\.\](?:\|None)?")
"""``tuple[str, ...]``, ``tuple[Enum | str, ...]``, each optionally ``| None`` (spaces removed)."""


def _is_str_tuple(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return _STR_TUPLE.fullmatch(text.replace(" ", "")) is not None


def _strings(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A tuple-of-strings field: a list or tuple of ``str`` (``None`` where the type allows)."""
    kind = type(value)
    if kind is tuple or kind is list:  # the usual case first: it runs in every model's __init__
        for item in value:
            if type(item) is not str and not isinstance(item, str):
                where = f"{type(instance).__name__}.{attribute.name}"
                raise TypeError(f"{where} items must be str, not {type(item).__name__}")
        return
    if value is None:
        return  # an optional field left out
    if isinstance(value, str | bytes | bytearray):
        raise TypeError(
            f"{type(instance).__name__}.{attribute.name} must be a list of strings, not a single "
            f"{kind.__name__}: write ({value[:40]!r},) for one item"
        )


def checked(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """The ``field_transformer`` of every model: adds each field's type check (see above)."""
    out = []
    for field in fields:
        if _is_str_tuple(field.type):
            validator = (
                _strings
                if field.validator is None
                else attrs.validators.and_(field.validator, _strings)
            )
            field = field.evolve(validator=validator)
        out.append(field)
    return out
