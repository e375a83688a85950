"""The one cattrs converter: JSON names, ``None`` omission, strict primitives, tolerant enums.

Rules (see design.md "Models"):

* Optional model fields default to ``None`` and are omitted when a model is unstructured, so a
  request body carries only what the caller set.
* Unknown keys from the server are ignored (the API grows).
* Primitives are strict: ``"false"`` is not ``True``, ``"7"`` is not ``7`` and ``7.9`` is not ``7``.
  A wrong type raises a ``cattrs`` validation error that the transport turns into
  :class:`~scheduler_async.errors.MalformedResponseError`.
* Fields typed ``SomeEnum | str`` keep an unknown server value as the plain string, so a new enum
  value never breaks a read.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.gen import make_dict_structure_fn

__all__ = ["converter", "register_preprocessor", "structure", "unstructure"]

T = TypeVar("T")


def _strict_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected a JSON boolean, got {type(value).__name__} {value!r}")


def _strict_int(value: Any, _: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"expected a JSON integer, got boolean {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise TypeError(f"expected a JSON integer, got {type(value).__name__} {value!r}")


def _strict_float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a JSON number, got {type(value).__name__} {value!r}")
    return float(value)


def _strict_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a JSON string, got {type(value).__name__} {value!r}")


def _enum_or_str_union(tp: Any) -> type[enum.Enum] | None:
    """Return the enum class when ``tp`` is ``Enum | str`` (optionally ``| None``)."""
    origin = typing.get_origin(tp)
    if origin is not typing.Union and origin is not types.UnionType:
        return None
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if len(args) != 2 or str not in args:
        return None
    other = args[0] if args[1] is str else args[1]
    if isinstance(other, type) and issubclass(other, enum.Enum):
        return other
    return None


def _require_object(value: Any, cls: Any) -> None:
    # cattrs' generated hook reads ``"field" in value``, which a string or a list answers
    # without complaint: ``{"data": "degraded"}`` would become an all-defaults model.
    if not isinstance(value, dict):
        name = getattr(cls, "__name__", cls)
        raise TypeError(f"expected a JSON object for {name}, got {type(value).__name__}")


def _require_array(value: Any) -> None:
    # cattrs would happily turn the string "ab" into ("a", "b"): a JSON array is required.
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a JSON array, got {type(value).__name__} {value!r}")


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _homogeneous_tuple_factory(tp: Any, conv: cattrs.Converter) -> Any:
    """``tuple[X, ...]`` from a JSON list without cattrs' generic per-item bookkeeping.

    Anything unusual (not a list, a bad item) goes through cattrs' own hook, so error messages
    keep their detailed paths. This is the hot path of availability responses.
    """
    elem = typing.get_args(tp)[0]
    slow = homogenous_tuple_structure_factory(tp, conv)
    if elem is str:

        def str_hook(value: Any, _: Any) -> Any:
            if type(value) is list and all(type(x) is str for x in value):
                return tuple(value)
            _require_array(value)
            return slow(value, tp)

        return str_hook
    handler = conv.get_structure_hook(elem)

    def hook(value: Any, _: Any) -> Any:
        if type(value) is list:
            try:
                return tuple([handler(x, elem) for x in value])
            except Exception:  # redo slowly, for a detailed error
                pass
        _require_array(value)
        return slow(value, tp)

    return hook


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(omit_if_default=True, forbid_extra_keys=False)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(str, _strict_str)

    def enum_union_factory(tp: Any) -> Any:
        enum_cls = _enum_or_str_union(tp)
        assert enum_cls is not None
        nullable = type(None) in typing.get_args(tp)

        def hook(value: Any, _: Any) -> Any:
            if value is None and nullable:
                return None
            if not isinstance(value, str):
                raise TypeError(f"expected a JSON string, got {type(value).__name__} {value!r}")
            try:
                return enum_cls(value)
            except ValueError:
                return value

        return hook

    conv.register_structure_hook_factory(
        lambda tp: _enum_or_str_union(tp) is not None, enum_union_factory
    )
    conv.register_structure_hook_factory(_is_homogeneous_tuple, _homogeneous_tuple_factory)

    def attrs_factory(cls: Any) -> Any:
        base = make_dict_structure_fn(cls, conv)

        def hook(value: Any, tp: Any) -> Any:
            _require_object(value, cls)
            return base(value, tp)

        return hook

    conv.register_structure_hook_factory(attrs.has, attrs_factory)
    conv.register_unstructure_hook_factory(
        lambda tp: (
            _enum_or_str_union(tp) is not None
            or (isinstance(tp, type) and issubclass(tp, enum.Enum))
        ),
        lambda _tp: _unstructure_enum,
    )
    return conv


def _unstructure_enum(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


converter: cattrs.Converter = _make_converter()


def register_preprocessor(cls: type[T], fn: Callable[[Any], Any]) -> None:
    """Rewrite raw JSON with ``fn`` before structuring ``cls`` (for tolerated wire variants)."""
    base = make_dict_structure_fn(cls, converter)

    def hook(value: Any, tp: Any) -> T:
        value = fn(value)  # may normalise a tolerated variant into the object form
        _require_object(value, cls)
        return base(value, tp)

    converter.register_structure_hook(cls, hook)


def structure(data: Any, cls: type[T]) -> T:
    """Build a model of type ``cls`` from decoded JSON."""
    return converter.structure(data, cls)


def unstructure(obj: Any) -> Any:
    """Turn a model (or a list/dict of models) into JSON-ready data, omitting unset fields."""
    return converter.unstructure(obj)
