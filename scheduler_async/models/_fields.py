"""Checks every model runs on its fields when it is built, chosen by the field's type.

Each model class is declared ``@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)``;
:func:`checked` looks at each field's annotation and adds the validator its type calls for, so a
new field gets its check by being declared, not by remembering to add one. For a field that holds
a list (``tuple[X, ...]`` or ``Sequence[X]``, optional or not):

* one item where a list is due is refused with a ``TypeError`` naming the field: a bare ``str``
  (it would be sent as its letters: ``calendar_ids="primary"`` as ``["p", "r", "i", ...]``),
  ``bytes``, a ``dict`` or a single model (``open_hours=OpenHours(...)``);
* in a list of strings (``tuple[str, ...]``, ``tuple[WebhookTrigger | str, ...]``) every item
  is a ``str``.

The validators run in the model's ``__init__`` (and in ``attrs.evolve``), so a model nested in
another (a participant's ``availability`` inside a configuration) is checked when it is built,
before any call.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

__all__ = ["checked"]

_TUPLE = re.compile(r"(?:tuple\[(?P<item>.+),\.\.\.\]|Sequence\[(?P<seq>.+)\])(?:\|None)?")
"""``tuple[X, ...]`` or ``Sequence[X]``, optionally ``| None`` (spaces removed)."""
_STR_ITEM = re.compile(r"(?:[\w.]+\|)*str(?:\|[\w.]+)*")
"""``str``, or a union of names with ``str`` among them (``WebhookTrigger | str``)."""


def _item_type(annotation: Any) -> str | None:
    """The item type of a ``tuple[X, ...]`` annotation (as text), else ``None``."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    match = _TUPLE.fullmatch(text.replace(" ", ""))
    return (match["item"] or match["seq"]) if match else None


def _one_item(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Refuse ``value`` when it is one item, not a list of them (``None`` passes: optional)."""
    if value is None:
        return
    if isinstance(value, str | bytes | bytearray | dict) or attrs.has(type(value)):
        what = type(value).__name__
        shown = f"{value[:40]!r}" if isinstance(value, str | bytes) else f"{what}(...)"
        raise TypeError(
            f"{type(instance).__name__}.{attribute.name} must be a list, not a single {what}: "
            f"write ({shown},) for one item"
        )


def _list(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A list field: a list or tuple (anything else that is one item is refused)."""
    kind = type(value)
    if kind is not tuple and kind is not list:  # the usual case costs two type comparisons
        _one_item(instance, attribute, value)


def _strings(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A list-of-strings field: a list or tuple of ``str``."""
    kind = type(value)
    if kind is tuple or kind is list:  # the usual case first: it runs in every model's __init__
        for item in value:
            if type(item) is not str and not isinstance(item, str):
                where = f"{type(instance).__name__}.{attribute.name}"
                raise TypeError(f"{where} items must be str, not {type(item).__name__}")
        return
    _one_item(instance, attribute, value)


def checked(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """The ``field_transformer`` of every model: adds each field's type check (see above)."""
    out = []
    for field in fields:
        item = _item_type(field.type)
        if item is not None:
            check = _strings if _STR_ITEM.fullmatch(item) else _list
            validator = (
                check if field.validator is None else attrs.validators.and_(field.validator, check)
            )
            field = field.evolve(validator=validator)
        out.append(field)
    return out
