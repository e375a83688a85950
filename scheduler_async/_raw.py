"""``client.request``: any endpoint through the client's transport (the escape hatch).

Pure: checks the arguments and describes the call as a :class:`Request`; the client sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ._args import check_token, has_control
from ._auth import NO_AUTH, Credential
from ._transport import Request

__all__ = ["REPEATABLE_METHODS", "QueryValue", "raw_request"]

QueryValue = str | int | float | bool
"""A query parameter value: sent as text (``True`` as ``true``)."""

REPEATABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods retried after a failure that may have reached the server (idempotent by HTTP)."""

_METHODS = REPEATABLE_METHODS | {"POST", "PATCH"}


def _query(query: Mapping[str, QueryValue] | None) -> dict[str, str] | None:
    if query is None:
        return None
    if not isinstance(query, Mapping):
        raise TypeError("query must be a mapping of names to str/int/float/bool")
    out: dict[str, str] = {}
    for key, value in query.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"query names must be non-empty strings, got {key!r}")
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            out[key] = str(value)
        else:
            raise TypeError(
                f"query[{key!r}] must be a str, int, float or bool, got {type(value).__name__}"
            )
    return out


def _path(path: Any) -> str:
    """``path`` percent-encoded (``%XX`` kept), or a ``ValueError`` saying what is wrong."""
    if not isinstance(path, str):
        raise TypeError("path must be a str such as '/v3/grants/<grant_id>/calendars'")
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(
            "path must start with a single '/': the path under the client's base_url, "
            "e.g. '/v3/grants/<grant_id>/calendars'"
        )
    if "?" in path or "#" in path:
        raise ValueError("path must not hold '?' or '#': pass the query as query={...}")
    if has_control(path):
        raise ValueError("path must not hold control characters")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise ValueError("path must not hold '.' or '..' segments")
    return quote(path, safe="/%:@!$&'()*+,;=-._~")  # what is already encoded stays


def raw_request(
    method: str,
    path: str,
    *,
    query: Mapping[str, QueryValue] | None,
    json: Any,
    session_id: str | None,
    api_key: Credential | None,
    idempotent: bool | None,
) -> Request:
    """The :class:`Request` of ``client.request`` (see its docstring)."""
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise ValueError(f"method must be one of {sorted(_METHODS)}, got {method!r}")
    method = method.upper()
    if idempotent is not None and not isinstance(idempotent, bool):
        raise TypeError("idempotent must be a bool or None")
    if session_id is not None:
        credential = Credential(check_token(session_id, "session_id"), "session")
    else:
        credential = api_key or NO_AUTH
    if json is not None and method in ("GET", "HEAD"):
        raise ValueError(f"a {method} request has no body: pass query= instead of json=")
    return Request(
        method=method,
        path=_path(path),
        credential=credential,
        query=_query(query),
        body=json,
        repeatable=method in REPEATABLE_METHODS if idempotent is None else idempotent,
    )
