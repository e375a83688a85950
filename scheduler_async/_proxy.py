"""Proxies from the environment: ``HTTP_PROXY``, ``HTTPS_PROXY`` and ``NO_PROXY``.

Read once, when the client is created (as ``requests`` and ``curl`` read them; the lower-case
names win, and ``HTTP_PROXY`` is ignored in a CGI request: see
:func:`urllib.request.getproxies_environment`).
The choice for each origin is then cached, so a call costs one dictionary lookup.

Why not aiohttp's ``trust_env=True``: it also reads ``~/.netrc`` and attaches the entry for the
API host (or its ``default`` entry) as Basic auth, which makes every call that carries the API key
fail with ``ValueError: Cannot combine AUTHORIZATION header with AUTH argument`` and sends the
netrc password on public calls; and it looks both up in a thread on every request.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import urllib.request
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = ["DIRECT", "EnvProxies", "Route"]

logger = logging.getLogger("scheduler_async")

_MAX_ORIGINS = 64
"""Origins remembered (the API's, plus redirect targets): the cache cannot grow without end."""


class Route(NamedTuple):
    """How to reach one origin: directly (``proxy`` is ``None``) or through a proxy."""

    proxy: str | None
    """The proxy URL, its credentials removed."""
    proxy_headers: Mapping[str, str] | None = None
    """Headers of the ``CONNECT`` that opens an https tunnel (``Proxy-Authorization``)."""
    headers: Mapping[str, str] | None = None
    """Headers added to a plain-http request sent to the proxy (``Proxy-Authorization``)."""


DIRECT = Route(None)
"""No proxy: connect to the host itself."""


class EnvProxies:
    """The proxy (and its credentials) for each origin, from the environment at construction."""

    __slots__ = ("_cache", "_table", "credentials")

    def __init__(self, table: Mapping[str, str] | None = None) -> None:
        raw = urllib.request.getproxies_environment() if table is None else table
        self._table = {k: v for k, v in raw.items() if v}
        self._cache: dict[tuple[str, str | None, int | None], Route] = {}
        urls = [_split(self._table[s]) for s in ("http", "https") if s in self._table]
        self.credentials: tuple[str, ...] = tuple(u[2] for u in urls if u[2])
        """Proxy passwords (the client hides them in every error text)."""

    def __repr__(self) -> str:
        return f"<EnvProxies schemes={sorted(k for k in self._table if k != 'no')}>"

    def for_url(self, scheme: str, host: str | None, port: int | None) -> Route:
        """The :class:`Route` of a request to ``scheme://host:port`` (:data:`DIRECT` when no
        proxy applies)."""
        key = (scheme, host, port)
        choice = self._cache.get(key)
        if choice is None:
            choice = self._choose(scheme, host, port)
            if len(self._cache) >= _MAX_ORIGINS:
                self._cache.clear()
            self._cache[key] = choice
        return choice

    def _choose(self, scheme: str, host: str | None, port: int | None) -> Route:
        configured = self._table.get(scheme)
        if not configured or host is None:
            return DIRECT
        if _bypassed(host, port, self._table.get("no", "")):
            return DIRECT
        proxy, user, password = _split(configured)
        if not proxy.startswith("http://"):
            logger.warning("%s proxy ignored: only http:// proxies are supported", scheme.upper())
            return DIRECT
        if user is None:
            return Route(proxy)
        basic = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
        auth = {"Proxy-Authorization": f"Basic {basic}"}
        if scheme == "https":  # said once, on the CONNECT of the tunnel
            return Route(proxy, proxy_headers=auth)
        return Route(proxy, headers=auth)  # said on each request


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` names ``host``: ``*``, the host or a parent domain (a leading dot is
    optional), an IP network such as ``10.0.0.0/8``, each optionally with ``:port``."""
    host = host.lower().strip("[]")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.lower().split(","):
        entry = raw.strip()
        if entry == "*":
            return True
        name, sep, entry_port = entry.rpartition(":") if entry.count(":") == 1 else ("", "", "")
        if sep and entry_port.isdigit():
            if port is not None and int(entry_port) != port:
                continue
            entry = name
        entry = entry.strip("[]").lstrip(".")
        if not entry:
            continue
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if host == entry or host.endswith(f".{entry}"):
            return True
    return False


def _split(value: str) -> tuple[str, str | None, str | None]:
    """A proxy URL from the environment (``host:port`` means ``http://host:port``): the URL
    without its credentials, then the user and password (decoded) if it had any."""
    parts = urlsplit(value if "://" in value else f"http://{value}")
    userinfo, at, hostport = parts.netloc.rpartition("@")
    url = parts._replace(netloc=hostport).geturl()
    if not at:
        return url, None, None
    user, _, password = userinfo.partition(":")
    return url, unquote(user), unquote(password) or None
