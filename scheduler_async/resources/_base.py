"""Shared plumbing of the resource namespaces: one call = transport request + model parsing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import cattrs

from .. import errors
from .._args import path_id
from .._config import Timeout
from .._convert import structure
from .._response import APIResponse
from .._transport import Credential, RawResponse, Transport

__all__ = ["Resource"]

T = TypeVar("T")


class Resource:
    """Base of every resource namespace; holds the transport and the default grant id."""

    __slots__ = ("_grant_id", "_transport")

    def __init__(self, transport: Transport, grant_id: str | None) -> None:
        self._transport = transport
        self._grant_id = grant_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def _grant(self, grant_id: str | None) -> str:
        value = grant_id if grant_id is not None else self._grant_id
        if value is None:
            raise errors.MissingCredentialsError(
                "this call needs a grant id: pass grant_id= or set NYLAS_GRANT_ID"
            )
        return path_id(value, "grant_id")

    async def _send(
        self,
        method: str,
        path: str,
        *,
        credential: Credential,
        log_path: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        repeatable: bool = True,
        timeout: Timeout | float | None,
        max_retries: int | None,
    ) -> RawResponse:
        return await self._transport.request(
            method,
            path,
            log_path=log_path or path,
            credential=credential,
            params=params,
            json_body=body,
            repeatable=repeatable,
            timeout=timeout,
            max_retries=max_retries,
        )

    @staticmethod
    def _wrap(raw: RawResponse, data: T) -> APIResponse[T]:
        return APIResponse(
            data=data,
            status_code=raw.status_code,
            headers=raw.headers,
            request_id=raw.request_id,
            retries_taken=raw.retries_taken,
            elapsed=raw.elapsed,
            gone_after_retry=raw.gone_after_retry,
        )

    @staticmethod
    def _parse(
        raw: RawResponse,
        cls: type[T],
        *,
        method: str,
        log_path: str,
        creates: bool = False,
        request_body: Any = None,
    ) -> T:
        """Structure ``data`` into ``cls``; a missing or malformed ``data`` is a typed error.

        For a create that the server answered with success, a body we cannot read means the
        object probably exists: that is an :class:`OutcomeUnknownError`, never a failure.
        """
        try:
            if "data" not in raw.body:
                raise errors.MalformedResponseError(
                    "the response has no 'data'",
                    status_code=raw.status_code,
                    body_excerpt=repr(raw.body)[:200],
                    headers=raw.headers,
                    method=method,
                    path=log_path,
                    request_id=raw.request_id,
                    retries_taken=raw.retries_taken,
                )
            try:
                return structure(raw.body["data"], cls)
            except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
                detail = (
                    "; ".join(cattrs.transform_error(exc))
                    if isinstance(exc, cattrs.BaseValidationError)
                    else str(exc)
                )
                raise errors.MalformedResponseError(
                    f"unexpected response shape: {detail[:300]}",
                    status_code=raw.status_code,
                    body_excerpt=repr(raw.body)[:200],
                    headers=raw.headers,
                    method=method,
                    path=log_path,
                    request_id=raw.request_id,
                    retries_taken=raw.retries_taken,
                ) from exc
        except errors.MalformedResponseError as exc:
            if not creates:
                raise
            raise errors.OutcomeUnknownError(
                "the server accepted the request but its answer could not be read",
                request_body=request_body,
                cause=exc,
                hint="It was most likely created: look it up before creating it again.",
                method=method,
                path=log_path,
                request_id=raw.request_id,
                retries_taken=raw.retries_taken,
            ) from exc
