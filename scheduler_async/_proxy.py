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

from yarl import URL

__all__ = ["DIRECT", "EnvProxies", "Route"]

logger = logging.getLogger("scheduler_async")

_MAX_ORIGINS = 64
"""Origins remembered (the API's, plus redirect targets): the cache cannot grow without end."""


class Route(NamedTuple):
    """How to reach one origin: directly (``proxy`` is ``None``) or through a proxy."""

    proxy: URL | None
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
        urls = [_url(self._table[s]) for s in ("http", "https") if s in self._table]
        self.credentials: tuple[str, ...] = tuple(u.password for u in urls if u.password)
        """Proxy passwords (the client hides them in every error text)."""

    def __repr__(self) -> str:
        return f"<EnvProxies schemes={sorted(k for k in self._table if k != 'no')}>"

    def for_url(self, url: URL) -> Route:
        """The :class:`Route` of a request to ``url`` (:data:`DIRECT` when no proxy applies)."""
        key = (url.scheme, url.host, url.port)
        choice = self._cache.get(key)
        if choice is None:
            choice = self._choose(url)
            if len(self._cache) >= _MAX_ORIGINS:
                self._cache.clear()
            self._cache[key] = choice
        return choice

    def _choose(self, url: URL) -> Route:
        configured = self._table.get(url.scheme)
        if not configured or url.host is None:
            return DIRECT
        if _bypassed(url.host, url.port, self._table.get("no", "")):
            return DIRECT
        proxy = _url(configured)
        if proxy.scheme != "http":
            logger.warning(
                "%s proxy ignored: only http:// proxies are supported", url.scheme.upper()
            )
            return DIRECT
        if not proxy.user:
            return Route(proxy)
        basic = base64.b64encode(f"{proxy.user}:{proxy.password or ''}".encode()).decode()
        auth = {"Proxy-Authorization": f"Basic {basic}"}
        if url.scheme == "https":  # said once, on the CONNECT of the tunnel
            return Route(proxy.with_user(None), proxy_headers=auth)
        return Route(proxy.with_user(None), headers=auth)  # said on each request


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


def _url(value: str) -> URL:
    """A proxy URL from the environment (``host:port`` means ``http://host:port``)."""
    return URL(value if "://" in value else f"http://{value}")
