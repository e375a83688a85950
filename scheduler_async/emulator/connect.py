"""Hosted login (Nylas's OAuth 2.0 code flow with PKCE), access tokens and ``me``.

Routes (what ``@nylas/identity`` inside the Scheduler Editor drives):

* ``GET /v3/connect/auth?client_id&redirect_uri&response_type=code[&code_challenge
  &code_challenge_method][&login_hint][&state]``: no page to click; redirects (302) at once to
  ``redirect_uri`` with ``code`` (and ``state``).  The grant is the one ``login_hint`` names
  (grant id or email), else the only grant the emulator holds; otherwise a 400 HTML page says to
  pass ``login_hint``.
* ``POST /v3/connect/token`` (JSON or form): ``grant_type=authorization_code`` with ``code``,
  ``redirect_uri``, ``client_id`` as given to ``/connect/auth`` and the PKCE ``code_verifier``;
  or ``grant_type=refresh_token`` with ``refresh_token`` (rotated: the old one stops working).
  Answers (top level, no ``data`` envelope, like Nylas) ``access_token``, ``refresh_token``,
  ``id_token`` (a JWT whose payload has ``sub`` = grant id, ``email``, ``name``, ``provider``),
  ``token_type``, ``expires_in``, ``scope``, ``grant_id``.  Failures are 400 ``invalid_grant``
  (unknown, used or expired code, wrong verifier, redirect or client) or
  ``invalid_request_error``.
* ``GET /v3/connect/tokeninfo?id_token=|access_token=``: 200 with the token's claims while it is
  valid, else 401.

PKCE ``S256`` is checked the way the component computes its challenge: base64url (no padding)
of the **hex** SHA-256 digest of the verifier; the RFC 7636 form (base64url of the raw digest) is
accepted too, and ``plain``.  Codes live :data:`CODE_TTL` seconds, access and ID tokens
:data:`TOKEN_TTL` seconds, on the emulator's clock; refresh tokens do not expire.

``me`` (:func:`grant_me_middleware`): on every ``/v3/grants/{grant_id}/...`` route, a Bearer
access token names its grant, so ``me`` becomes that grant id before the route runs, and the
token is accepted where an API key is; an access token used on another grant's path is 401.  An
API key names no grant: ``me`` with an API key is 400, ``me`` without credentials 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from scheduler_async.emulator.entities import b64url
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.store import Store
from scheduler_async.emulator.web_common import (
    STORE_KEY,
    TOKEN_GRANT,
    Handler,
    bearer,
    json_response,
    request_id_of,
)

__all__ = [
    "CODE_TTL",
    "CONNECT_KEY",
    "TOKEN_TTL",
    "ConnectState",
    "TokenSet",
    "grant_me_middleware",
    "pkce_challenge",
    "setup_routes",
]

CODE_TTL = 600
TOKEN_TTL = 3600


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of ``verifier`` as ``@nylas/identity`` computes it (hex digest)."""
    hex_digest = hashlib.sha256(verifier.encode()).hexdigest()
    return b64url(hex_digest.encode())


def _pkce_ok(method: str, challenge: str, verifier: str) -> bool:
    if method == "plain":
        return hmac.compare_digest(challenge, verifier)
    rfc = b64url(hashlib.sha256(verifier.encode()).digest())
    return hmac.compare_digest(challenge, pkce_challenge(verifier)) or hmac.compare_digest(
        challenge, rfc
    )


@dataclass
class _Code:
    grant_id: str
    client_id: str
    redirect_uri: str
    challenge: str | None
    method: str
    expires_at: int


@dataclass(frozen=True)
class TokenSet:
    """What a token exchange issued (its repr hides the tokens)."""

    grant_id: str
    access_token: str
    refresh_token: str
    id_token: str
    expires_at: int

    def __repr__(self) -> str:
        return f"TokenSet(grant_id={self.grant_id!r}, expires_at={self.expires_at})"


class ConnectState:
    """Authorization codes and tokens of one emulator app (cleared by the store's reset)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, tuple[str, int]] = {}
        self._refresh: dict[str, tuple[str, str]] = {}  # token -> (grant id, client id)
        self._id_tokens: dict[str, int] = {}  # id token -> expires_at
        self._key = secrets.token_bytes(32)
        store.on_reset(self.reset)

    def __repr__(self) -> str:
        return f"ConnectState(codes={len(self._codes)}, access_tokens={len(self._access)})"

    def reset(self) -> None:
        """Forget every code and token."""
        with self._lock:
            self._codes.clear()
            self._access.clear()
            self._refresh.clear()
            self._id_tokens.clear()

    # ------------------------------------------------------------------ flow

    def authorize(
        self,
        grant_id: str,
        *,
        client_id: str,
        redirect_uri: str,
        challenge: str | None,
        method: str,
    ) -> str:
        """A new single-use authorization code for ``grant_id``."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                grant_id,
                client_id,
                redirect_uri,
                challenge,
                method,
                self._store.clock.now() + CODE_TTL,
            )
        return code

    def exchange_code(
        self, code: str, *, client_id: str | None, redirect_uri: str | None, verifier: str | None
    ) -> TokenSet:
        """Trade a code for tokens (400 ``invalid_grant`` on any mismatch)."""
        with self._lock:
            record = self._codes.pop(code, None)  # single use, even when the check fails
        if record is None:
            raise _invalid_grant("authorization code is unknown or already used")
        if self._store.clock.now() >= record.expires_at:
            raise _invalid_grant("authorization code expired")
        if redirect_uri != record.redirect_uri:
            raise _invalid_grant("redirect_uri does not match the authorization request")
        if client_id is not None and client_id != record.client_id:
            raise _invalid_grant("client_id does not match the authorization request")
        if record.challenge is not None:
            if not verifier:
                raise _invalid_grant("code_verifier is required")
            if not _pkce_ok(record.method, record.challenge, verifier):
                raise _invalid_grant("code_verifier does not match the code_challenge")
        return self.issue(record.grant_id, record.client_id)

    def refresh(self, refresh_token: str, *, client_id: str | None) -> TokenSet:
        """New tokens for a refresh token (which is rotated)."""
        with self._lock:
            found = self._refresh.pop(refresh_token, None)
        if found is None:
            raise _invalid_grant("refresh_token is unknown or was rotated")
        grant_id, issued_to = found
        if client_id is not None and client_id != issued_to:
            raise _invalid_grant("client_id does not match the refresh token")
        return self.issue(grant_id, issued_to)

    def issue(self, grant_id: str, client_id: str) -> TokenSet:
        """Fresh access, refresh and ID tokens for ``grant_id`` (usable by tests directly)."""
        grant = self._store.get_grant(grant_id, provision=False)
        now = self._store.clock.now()
        expires_at = now + TOKEN_TTL
        claims = {
            "iss": "scheduler-emulator",
            "aud": client_id,
            "sub": grant.grant_id,
            "email": grant.email,
            "email_verified": True,
            "name": (grant.email or grant.grant_id).split("@")[0],
            "provider": "google",
            "iat": now,
            "exp": expires_at,
        }
        id_token = self._jwt(claims)
        tokens = TokenSet(
            grant.grant_id,
            "emu_at_" + secrets.token_urlsafe(24),
            "emu_rt_" + secrets.token_urlsafe(24),
            id_token,
            expires_at,
        )
        with self._lock:
            self._access[tokens.access_token] = (grant.grant_id, expires_at)
            self._refresh[tokens.refresh_token] = (grant.grant_id, client_id)
            self._id_tokens[id_token] = expires_at
        return tokens

    # ------------------------------------------------------------------ lookups

    def grant_of(self, access_token: str) -> str | None:
        """The grant of a live access token; None if not an access token; 401 if expired."""
        with self._lock:
            found = self._access.get(access_token)
        if found is None:
            return None
        grant_id, expires_at = found
        if self._store.clock.now() >= expires_at:
            raise EmulatorError.unauthorized("access token expired")
        return grant_id

    def token_claims(self, *, id_token: str | None, access_token: str | None) -> dict[str, Any]:
        """``tokeninfo``'s data for a live token (401 otherwise)."""
        now = self._store.clock.now()
        if id_token is not None:
            with self._lock:
                expires_at = self._id_tokens.get(id_token)
            if expires_at is None or now >= expires_at:
                raise EmulatorError.unauthorized("id_token is not valid")
            claims: dict[str, Any] = json.loads(_b64decode(id_token.split(".")[1]))
            return claims
        if access_token is not None:
            grant_id = self.grant_of(access_token)
            if grant_id is None:
                raise EmulatorError.unauthorized("access_token is not valid")
            with self._lock:
                exp = self._access[access_token][1]
            return {"sub": grant_id, "grant_id": grant_id, "exp": exp, "iat": exp - TOKEN_TTL}
        raise EmulatorError.invalid("id_token or access_token is required")

    def _jwt(self, claims: dict[str, Any]) -> str:
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode()
        signature = hmac.new(self._key, signing_input, hashlib.sha256).digest()
        return f"{header}.{payload}.{b64url(signature)}"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _invalid_grant(message: str) -> EmulatorError:
    return EmulatorError(400, "invalid_grant", message)


CONNECT_KEY = web.AppKey("connect", ConnectState)

# --------------------------------------------------------------------------- routes


def _error_page(message: str) -> web.Response:
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Login failed (scheduler emulator)</title></head><body>"
        f"<h1>Login failed</h1><p>{html.escape(message)}</p></body></html>"
    )
    return web.Response(status=400, text=body, content_type="text/html")


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


async def _auth(request: web.Request) -> web.StreamResponse:
    store = request.app[STORE_KEY]
    state = request.app[CONNECT_KEY]
    query = request.query
    redirect_uri = query.get("redirect_uri") or ""
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        return _error_page("redirect_uri must be an absolute http(s) URL")
    if (query.get("response_type") or "code") != "code":
        return _error_page("response_type must be code")
    method = query.get("code_challenge_method") or "S256"
    if method not in ("S256", "plain"):
        return _error_page("code_challenge_method must be S256 or plain")
    hint = query.get("login_hint")
    if hint:
        try:
            grant = store.get_grant(hint, provision=False)
        except EmulatorError:
            return _error_page(f"no grant matches login_hint {hint!r}")
    else:
        with store.lock:
            grants = list(store.grants.values())
        if len(grants) != 1:
            return _error_page(
                f"the emulator holds {len(grants)} grants: pass login_hint=<grant id or email>"
            )
        grant = grants[0]
    code = state.authorize(
        grant.grant_id,
        client_id=query.get("client_id") or "",
        redirect_uri=redirect_uri,
        challenge=query.get("code_challenge") or None,
        method=method,
    )
    params = {"code": code}
    if query.get("state"):
        params["state"] = query["state"]
    return web.Response(status=302, headers={"Location": _with_query(redirect_uri, params)})


async def _token_body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(await request.post())
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise EmulatorError.invalid("error parsing request body") from exc
    if not isinstance(body, dict):
        raise EmulatorError.invalid("request body must be a JSON object")
    return body


def _str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EmulatorError.invalid(f"{name} must be a string")
    return value


async def _token(request: web.Request) -> web.Response:
    state = request.app[CONNECT_KEY]
    body = await _token_body(request)
    grant_type = _str(body, "grant_type")
    client_id = _str(body, "client_id")
    if grant_type == "authorization_code":
        code = _str(body, "code")
        if code is None:
            raise EmulatorError.invalid("code is required")
        tokens = state.exchange_code(
            code,
            client_id=client_id,
            redirect_uri=_str(body, "redirect_uri"),
            verifier=_str(body, "code_verifier"),
        )
    elif grant_type == "refresh_token":
        refresh_token = _str(body, "refresh_token")
        if refresh_token is None:
            raise EmulatorError.invalid("refresh_token is required")
        tokens = state.refresh(refresh_token, client_id=client_id)
    else:
        raise EmulatorError.invalid("grant_type must be authorization_code or refresh_token")
    store = request.app[STORE_KEY]
    grant = store.get_grant(tokens.grant_id, provision=False)
    rid = request_id_of(request)
    answer = {
        "request_id": rid,
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "id_token": tokens.id_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_at - store.clock.now(),
        "scope": "https://www.googleapis.com/auth/calendar",
        "grant_id": tokens.grant_id,
        "email": grant.email,
        "provider": "google",
    }
    return json_response(rid, answer, headers={"Cache-Control": "no-store"})


async def _tokeninfo(request: web.Request) -> web.Response:
    state = request.app[CONNECT_KEY]
    claims = state.token_claims(
        id_token=request.query.get("id_token") or None,
        access_token=request.query.get("access_token") or None,
    )
    rid = request_id_of(request)
    return json_response(rid, {"request_id": rid, "data": claims})


@web.middleware
async def grant_me_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve ``me`` and access tokens on ``/v3/grants/{grant_id}/...`` (module docstring)."""
    state = request.app.get(CONNECT_KEY)
    grant_param = request.match_info.get("grant_id")
    if state is None or grant_param is None or not request.path.startswith("/v3/grants/"):
        return await handler(request)
    token = bearer(request)
    owner = state.grant_of(token) if token is not None else None
    if owner is not None:
        if grant_param != "me":
            store = request.app[STORE_KEY]
            try:
                named = store.get_grant(grant_param, provision=False).grant_id
            except EmulatorError:
                named = grant_param
            if named != owner:
                raise EmulatorError.unauthorized("the access token belongs to another grant")
        request.match_info["grant_id"] = owner
        request[TOKEN_GRANT] = owner
    elif grant_param == "me":
        if token is None:
            raise EmulatorError.unauthorized("'me' needs an access token (Authorization: Bearer)")
        raise EmulatorError.invalid(
            "'me' names the grant of an access token; an API key names no grant: "
            "use the grant id in the path"
        )
    return await handler(request)


def setup_routes(app: web.Application) -> None:
    """Register the ``/v3/connect/*`` routes and keep the app's :class:`ConnectState`."""
    app[CONNECT_KEY] = ConnectState(app[STORE_KEY])
    r = app.router
    r.add_get("/v3/connect/auth", _auth, allow_head=False)
    r.add_post("/v3/connect/token", _token)
    r.add_get("/v3/connect/tokeninfo", _tokeninfo, allow_head=False)
