"""Who a request speaks as: the :class:`Credential` value and the scheduling-auth choice.

Pure (no I/O, no aiohttp): the resources pick a credential here, put it in a
:class:`~scheduler_async._transport.Request`, and the transport turns it into a header.
"""

from __future__ import annotations

import attrs

from ._args import check_str, check_token

__all__ = ["NO_AUTH", "Credential", "scheduling_auth"]


@attrs.frozen(slots=True)
class Credential:
    """A bearer credential (API key or session token), or none for public access.

    ``kind`` is ``"api_key"``, ``"session"`` or ``"none"``; ``token`` never shows in a repr.
    """

    token: str | None = attrs.field(repr=False)
    kind: str = "none"


NO_AUTH = Credential(None, "none")
"""Public access: no ``Authorization`` header."""


def scheduling_auth(
    *,
    session_id: str | None,
    configuration_id: str | None,
    slug: str | None,
    client_id: str | None,
) -> tuple[Credential, dict[str, str]]:
    """Credential and query for availability/bookings: a session token, or a public reference.

    Exactly one of ``session_id``, ``configuration_id`` or ``slug`` (which needs ``client_id``).
    """
    if session_id is not None:
        if configuration_id is None and slug is None:
            return Credential(check_token(session_id, "session_id"), "session"), {}
    elif configuration_id is not None:
        if slug is None:
            return NO_AUTH, {"configuration_id": check_str(configuration_id, "configuration_id")}
    elif slug is not None:
        if client_id is None:
            raise ValueError("slug needs client_id (the application's client id)")
        return NO_AUTH, {
            "slug": check_str(slug, "slug"),
            "client_id": check_str(client_id, "client_id"),
        }
    given = [
        n
        for n, v in (
            ("session_id", session_id),
            ("configuration_id", configuration_id),
            ("slug", slug),
        )
        if v is not None
    ]
    raise ValueError(
        "pass exactly one of session_id (private configurations), configuration_id or slug "
        f"(public configurations); got {', '.join(given) or 'none'}"
    )
