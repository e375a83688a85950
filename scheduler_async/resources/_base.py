"""How to declare an endpoint (read this before adding one).

Each endpoint is written ONCE, as a coroutine method of the ``Async<Name>WithResponse`` class
that returns :class:`APIResponse`. Its body checks the arguments, describes the call as a
:class:`Request` and ends with ``return await self._call(request, <model>, ...)`` (a call
made with the API key: ``return await self._keyed(method, path, <model>, ...)``, which builds
that ``Request``). In a new ``resources/widgets.py``
(``from ._base import PlainResource, Resource, plain``)::

    class AsyncWidgetsWithResponse(Resource):
        \"\"\"Widget calls that return :class:`APIResponse`.\"\"\"

        __slots__ = ()

        async def get(
            self,
            widget_id: str,
            *,
            grant_id: str | None = None,
            timeout: Timeout | float | None = None,
            max_retries: int | None = None,
        ) -> APIResponse[Widget]:
            \"\"\"Get one widget by id.\"\"\"
            path = f"/v3/grants/{self._grant(grant_id)}/widgets/{path_id(widget_id, 'widget_id')}"
            return await self._keyed("GET", path, Widget, timeout=timeout, max_retries=max_retries)


    class AsyncWidgets(PlainResource[AsyncWidgetsWithResponse]):
        \"\"\"``client.widgets``: ...\"\"\"

        __slots__ = ()

        get = plain(AsyncWidgetsWithResponse.get)

The type argument of :class:`PlainResource` is the class its ``with_response`` attribute holds
(built with the same transport and ids). ``plain`` derives the method that returns the model
alone: an ordinary typed wrapper (``ParamSpec``) that awaits the declared method on
``self.with_response`` and returns its ``data``, with the same signature and docstring and the
return annotation unwrapped (``APIResponse[Widget]`` -> ``Widget``).

* ``<model>`` is a model class (``Booking``), ``tuple[X, ...]``, ``None`` for answers without
  data, ``page_of(X)`` for one page of a list (its items and cursor), or a function
  ``(Request, Response) -> T`` for anything else (:func:`structure_data` parses ``data`` with
  the same errors).
* Creates pass ``repeatable=False`` to the ``Request``: never retried once they may have
  arrived, and a success answer that cannot be read becomes ``OutcomeUnknownError``.
* A path holding a secret passes ``log_path=`` (a template) for logs and errors, and the
  secret itself in ``secrets=(...)`` so every error text hides it.
* Availability/booking calls authenticate with ``self._scheduling_auth(...)`` (and build their
  ``Request``); grant and application calls use the API key through ``self._keyed`` (``query=``,
  ``body=`` and ``repeatable=`` as in ``Request``).
* Bulk helpers: ``x_all = collect(x, "doc")`` makes the list-returning twin of an async
  generator method (as ``sweep_all``/``create_many_all``).

* A new namespace: export both classes in ``resources/__init__.py`` and wire the plain one in
  ``client.py`` (a class annotation with a docstring, then
  ``self.widgets = AsyncWidgets(self._transport, grant_id, client_id)``).

``scripts/gen_sync.py`` then emits the sync twins of both classes; run it after any change.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, ClassVar, Concatenate, Generic, ParamSpec, TypeVar, cast

import attrs
import cattrs

from .. import _failures, errors
from .._args import path_id
from .._auth import Credential, scheduling_auth
from .._config import Timeout
from .._convert import structure
from .._response import APIResponse
from .._scrub import ScrubbedCause, safe_repr, scrub_text
from .._transport import Request, Response, Transport
from ..models import Page
from ..pagination import read_page

__all__ = [
    "PlainResource",
    "Request",
    "Resource",
    "api_response",
    "arguments_of",
    "collect",
    "page_of",
    "plain",
    "structure_data",
]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

Parse = type[T] | Callable[[Request, Response], T] | None
"""How ``_call`` turns the answer into data: a model type, a function, or ``None``."""


class Resource:
    """Base of every resource namespace; holds the transport and the default ids."""

    __slots__ = ("_client_id", "_grant_id", "_transport")

    def __init__(
        self, transport: Transport, grant_id: str | None, client_id: str | None = None
    ) -> None:
        self._transport = transport
        self._grant_id = grant_id
        self._client_id = client_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    # -- helpers for endpoint bodies ---------------------------------------------------------
    def _grant(self, grant_id: str | None) -> str:
        """The grant id (argument, else the client's default) as one encoded path segment."""
        value = grant_id if grant_id is not None else self._grant_id
        if value is None:
            raise errors.MissingCredentialsError(
                "this call needs a grant id: pass grant_id= or set NYLAS_GRANT_ID"
            )
        return path_id(value, "grant_id")

    def _api_key(self) -> Credential:
        """The client's API key credential (raises ``MissingCredentialsError`` without one)."""
        return self._transport.api_key_credential()

    def _scheduling_auth(
        self,
        session_id: str | None,
        configuration_id: str | None,
        slug: str | None,
        client_id: str | None,
    ) -> tuple[Credential, dict[str, str]]:
        """Credential and query of an availability/booking call (see ``_auth``)."""
        return scheduling_auth(
            session_id=session_id,
            configuration_id=configuration_id,
            slug=slug,
            client_id=client_id if client_id is not None else self._client_id,
        )

    async def _keyed(
        self,
        method: str,
        path: str,
        parse: Parse[T],
        *,
        timeout: Timeout | float | None,
        max_retries: int | None,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        repeatable: bool = True,
    ) -> APIResponse[T]:
        """``_call`` of a request authenticated with the client's API key."""
        request = Request(
            method=method,
            path=path,
            credential=self._api_key(),
            query=query,
            body=body,
            repeatable=repeatable,
        )
        return await self._call(request, parse, timeout=timeout, max_retries=max_retries)

    async def _call(
        self,
        request: Request,
        parse: Parse[T],
        *,
        timeout: Timeout | float | None,
        max_retries: int | None,
    ) -> APIResponse[T]:
        """Send ``request`` and parse its ``data``; the last line of every endpoint."""
        response = await self._transport.send(request, timeout=timeout, max_retries=max_retries)
        if parse is None:
            data: Any = None
        elif isinstance(parse, type) or typing.get_origin(parse) is not None:
            data = structure_data(request, response, parse)
        else:
            data = parse(request, response)
        return api_response(response, data)


W = TypeVar("W", bound=Resource)


class PlainResource(Resource, Generic[W]):
    """Base of the plain namespaces (``client.bookings``): their calls return the data alone.

    ``class AsyncWidgets(PlainResource[AsyncWidgetsWithResponse])``: the type argument is the
    class of :attr:`with_response`.
    """

    __slots__ = ("with_response",)

    with_response: W
    """The same calls, returning :class:`APIResponse` with status, headers and request id."""

    _with_response: ClassVar[type[Resource]]
    """The class of :attr:`with_response`: the type argument, read once per subclass."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__dict__.get("__orig_bases__", ()):
            if typing.get_origin(base) is PlainResource:
                (cls._with_response,) = typing.get_args(base)

    def __init__(
        self, transport: Transport, grant_id: str | None, client_id: str | None = None
    ) -> None:
        super().__init__(transport, grant_id, client_id)
        self.with_response = cast("W", self._with_response(transport, grant_id, client_id))


def arguments_of(item: Any) -> dict[str, Any]:
    """The keyword arguments one bulk item (``BookingRequest``, ``AvailabilityQuery``) stands
    for: its every field but ``tag``, so the bulk call cannot drift from the single one."""
    return {f.name: getattr(item, f.name) for f in attrs.fields(type(item)) if f.name != "tag"}


def api_response(response: Response, data: T) -> APIResponse[T]:
    """The :class:`APIResponse` of one answer: ``data`` with its status, headers and ids."""
    return APIResponse(
        data=data,
        status_code=response.status,
        headers=response.headers,
        request_id=response.request_id,
        retries_taken=response.retries,
        elapsed=response.elapsed,
        gone_after_retry=response.gone_after_retry,
    )


def page_of(item: Any) -> Callable[[Request, Response], Page[Any]]:
    """The ``parse`` of a list answer (for ``_call``): a :class:`Page` of ``item`` objects."""
    items_type: Any = tuple[item, ...]

    def parse(request: Request, response: Response) -> Page[Any]:
        return read_page(request, response, structure_data(request, response, items_type))

    return parse


def structure_data(request: Request, response: Response, cls: Any) -> Any:
    """``response.body["data"]`` as ``cls``; a missing or malformed ``data`` is a typed error.

    For a create (``repeatable=False``) the server answered with success, so a body we cannot
    read means the object probably exists: that is an ``OutcomeUnknownError``.

    The answer may hold a secret (a ``webhook_secret``, a session token): the error names what
    was wrong and where, and chains a :class:`ScrubbedCause` (type and text, secrets removed),
    never the converter's exception, whose frames' locals hold the answer.
    """
    if "data" not in response.body:
        excerpt = safe_repr(_redacted(response.body))
        raise _failures.malformed(request, response, "the response has no 'data'", excerpt)
    cause: ScrubbedCause | None = None
    try:
        return structure(response.body["data"], cls)
    except Exception as exc:  # any failure to read the answer (RecursionError included)
        cause = _structuring_cause(exc, response.body)
    # Raised outside the handler: no ``__context__`` leads back to the converter's frames.
    raise _failures.malformed(
        request,
        response,
        f"unexpected response shape: {cause.text[:300]}",
        safe_repr(_redacted(response.body)),
        cause=cause,
    )


def _structuring_cause(exc: Exception, body: Any) -> ScrubbedCause:
    """What a structuring failure may show: cattrs' paths, or the text with secrets removed."""
    try:
        detail = (
            "; ".join(cattrs.transform_error(exc))
            if isinstance(exc, cattrs.BaseValidationError)
            else scrub_text(str(exc), _secret_values(body))
        )
    except Exception:  # pragma: no cover - a pathological error message
        detail = ""
    return ScrubbedCause.of(exc, detail or type(exc).__name__)


def _secret_values(data: Any, depth: int = 0) -> list[str]:
    """Every string under a :data:`_SECRET_KEYS` field of ``data`` (to scrub from a message)."""
    found: list[str] = []
    if depth > 16:
        return found
    if isinstance(data, dict):
        for k, v in data.items():
            if k in _SECRET_KEYS:
                found += _strings(v, depth + 1)
            else:
                found += _secret_values(v, depth + 1)
    elif isinstance(data, list):
        for v in data:
            found += _secret_values(v, depth + 1)
    return found


def _strings(data: Any, depth: int) -> list[str]:
    if depth > 16:
        return []
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in (str(k), *_strings(v, depth + 1))]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v, depth + 1)]
    return [str(data)]


_SECRET_KEYS = frozenset({"webhook_secret", "session_id"})
"""Answer fields whose value never appears in an error (a webhook's secret, a session token)."""


def _redacted(data: Any, depth: int = 0) -> Any:
    """``data`` with the values of :data:`_SECRET_KEYS` replaced, for error excerpts.

    Only the first levels matter to a 200-character excerpt: deeper ones become ``...`` (so a
    hostile, deeply nested answer cannot exhaust the stack here).
    """
    if depth > 16:
        return ...
    if isinstance(data, dict):
        return {k: "***" if k in _SECRET_KEYS else _redacted(v, depth + 1) for k, v in data.items()}
    if isinstance(data, list):
        return [_redacted(v, depth + 1) for v in data]
    return data


def _unwrap_return(annotation: Any, wrapper: str) -> Any:
    """``APIResponse[X]`` -> ``X`` (``wrapper="APIResponse"``), for strings and real types."""
    if isinstance(annotation, str):
        prefix = f"{wrapper}["
        if not (annotation.startswith(prefix) and annotation.endswith("]")):
            raise TypeError(f"expected a {wrapper}[...] return annotation, got {annotation!r}")
        return annotation[len(prefix) : -1]
    args = typing.get_args(annotation)
    if len(args) != 1:
        raise TypeError(f"expected a {wrapper}[...] return annotation, got {annotation!r}")
    return args[0]


def plain(
    endpoint: Callable[Concatenate[Any, P], Coroutine[Any, Any, APIResponse[T]]],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """The plain form of a declared endpoint: ``(await self.with_response.<name>(...)).data``.

    Same name, docstring and parameters; the return annotation unwraps ``APIResponse[X]`` to
    ``X``; the qualified name is the plain class's (``AsyncWidgets.get``).
    """

    async def call(self: PlainResource[Any], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return (await endpoint(self.with_response, *args, **kwargs)).data

    functools.update_wrapper(call, endpoint)  # __wrapped__: hints resolve in its module
    returns = _unwrap_return(endpoint.__annotations__["return"], "APIResponse")
    call.__annotations__ = {**endpoint.__annotations__, "return": returns}
    call.__signature__ = inspect.signature(endpoint).replace(  # type: ignore[attr-defined]
        return_annotation=returns
    )
    call.__qualname__ = endpoint.__qualname__.replace("WithResponse.", ".")
    return call


def collect(
    generator: Callable[Concatenate[Any, P], AsyncIterator[R]], doc: str
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, list[R]]]:
    """The list-returning twin of an async generator method (``sweep`` -> ``sweep_all``).

    Same parameters; the results are collected in the order the generator yields them, which
    makes a bulk call one crossing from the sync facade.
    """

    async def collected(self: Any, /, *args: Any, **kwargs: Any) -> list[R]:
        return [item async for item in generator(self, *args, **kwargs)]

    signature = inspect.signature(generator)
    annotations = dict(generator.__annotations__)
    item = _unwrap_return(annotations["return"], "AsyncIterator")
    returns = f"list[{item}]" if isinstance(item, str) else list[item]  # type: ignore[valid-type]
    annotations["return"] = returns
    collected.__signature__ = signature.replace(return_annotation=returns)  # type: ignore[attr-defined]
    collected.__annotations__ = annotations
    collected.__wrapped__ = generator  # type: ignore[attr-defined]  # names resolve in its module
    collected.__doc__ = doc
    collected.__module__ = generator.__module__
    collected.__name__ = f"{generator.__name__}_all"
    collected.__qualname__ = f"{generator.__qualname__}_all"
    return collected
