"""A booking page hosting Nylas's ``<nylas-scheduling>`` web component against the emulator.

``GET /_emulator/booking-page`` answers an HTML page that loads the component
(``@nylas/web-elements`` 2.6.0, MIT) and points its ``scheduler-api-url`` at the emulator.
Query parameters pick what the component shows (each maps to the component attribute of the
same name, dashes for underscores): ``configuration_id``, ``slug`` + ``client_id``, ``session_id``,
``reschedule_booking_ref``, ``cancel_booking_ref``, ``organizer_confirmation_booking_ref``,
``default_language``.

The component script comes from ``component_dir`` (a directory holding
``nylas-scheduling.es.js``, e.g. the unpacked npm tarball's ``dist/cdn/nylas-scheduling``),
served at ``/_emulator/booking-page/assets/nylas-scheduling.es.js``; without it, from the public CDN
(:data:`DEFAULT_COMPONENT_URL`; the user's browser has the network, the emulator does not need
it).  ``api_url`` is the emulator's base URL; by default the page's own origin (page and API
on one server).

The page records the component's events in ``window.nylasEvents`` (``[{type, detail}]``, for
``configSettingsLoaded``, ``bookedEventInfo``, ``nylasSchedulerError``, ...) and sets
``window.nylasComponentDefined = true`` once the element is defined, which browser tests wait on.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from scheduler_async.web_elements import DEFAULT_VERSION

if TYPE_CHECKING:
    from scheduler_async.emulator.store import Store, StoredConfiguration

__all__ = [
    "BOOKING_PAGE_PATH",
    "COMPONENT_FILE",
    "COMPONENT_VERSION",
    "DEFAULT_COMPONENT_URL",
    "booking_page_routes",
    "create_booking_page_app",
    "render_booking_page",
    "seed_demo_configuration",
]

# Under /_emulator/: like the admin API, the page is never delayed or faulted.
BOOKING_PAGE_PATH = "/_emulator/booking-page"
COMPONENT_VERSION = DEFAULT_VERSION  # what `fetch-web-elements` fetches by default
COMPONENT_FILE = "nylas-scheduling.es.js"
DEFAULT_COMPONENT_URL = (
    f"https://cdn.jsdelivr.net/npm/@nylas/web-elements@{COMPONENT_VERSION}"
    f"/dist/cdn/nylas-scheduling/{COMPONENT_FILE}"
)
ASSETS_PATH = BOOKING_PAGE_PATH + "/assets"

# query parameter -> component attribute (set before the element is defined)
_ATTRIBUTES = {
    "configuration_id": "configuration-id",
    "slug": "slug",
    "client_id": "client-id",
    "session_id": "session-id",
    "reschedule_booking_ref": "reschedule-booking-ref",
    "cancel_booking_ref": "cancel-booking-ref",
    "organizer_confirmation_booking_ref": "organizer-confirmation-booking-ref",
    "default_language": "default-language",
}
_EVENTS = (
    "configSettingsLoaded",
    "bookedEventInfo",
    "nylasSchedulerError",
    "nylasSchedulerInfo",
    "bookingRefExtracted",
    "schedulerDidLoad",
)

_TEMPLATE = """{head}
<body>
<header>Scheduler emulator booking page &middot; API {api_label}</header>
<nylas-scheduling></nylas-scheduling>
<script type="module">
const settings = {settings};
const element = document.querySelector("nylas-scheduling");
{record_events}
element.setAttribute("scheduler-api-url", settings.apiUrl || window.location.origin);
element.setAttribute("enable-user-feedback", "false");
for (const [name, value] of Object.entries(settings.attributes)) {{
  element.setAttribute(name, value);
}}
{load_component}
</script>
</body>
</html>
"""


def page_head(title: str, tag: str, width: int) -> str:
    """The start of a page hosting the web component ``<tag>``, up to ``</head>``: ``title``
    (escaped here) and a style that centres the header and the element, ``width`` px at most."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>
  body {{ margin: 0; padding: 24px; background: #f6f7f9;
         font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }}
  header {{ max-width: {width}px; margin: 0 auto 16px; color: #4b5563; font-size: 13px; }}
  {tag} {{ display: block; max-width: {width}px; margin: 0 auto; }}
</style>
</head>"""


RECORD_EVENTS_JS = """window.nylasEvents = [];
for (const type of settings.events) {
  element.addEventListener(type, (event) => {
    let detail = null;
    try {
      detail = JSON.parse(JSON.stringify(event.detail ?? null));
    } catch (error) {
      detail = String(error);
    }
    window.nylasEvents.push({type, detail});
  });
}"""
"""Page script that records each event named in ``settings.events`` that ``element`` fires in
``window.nylasEvents`` as ``{type, detail}`` (``detail`` as JSON, or the error copying it)."""


def component_loader_js(tag: str) -> str:
    """The end of a page script: ``await import(settings.componentUrl)``, then define ``<tag>``
    and set ``window.nylasComponentDefined`` once it is. When the bundle cannot load (no
    network for the CDN, a wrong directory) it writes the error and what to do on the page
    (``#component-load-error``, ``window.nylasComponentError``) instead of leaving it blank."""
    return (
        "let module;\n"
        "try {\n"
        "  module = await import(settings.componentUrl);\n"
        "} catch (error) {\n"
        "  window.nylasComponentError = String(error);\n"
        '  const note = document.createElement("div");\n'
        '  note.id = "component-load-error";\n'
        '  note.setAttribute("role", "alert");\n'
        '  note.style.cssText = "max-width:960px;margin:0 auto 16px;padding:12px 16px;'
        "border:1px solid #dc2626;border-radius:6px;background:#fef2f2;color:#991b1b;"
        'font-size:14px;white-space:pre-wrap";\n'
        f"  note.textContent = `Could not load the <{tag}> component from "
        "${settings.componentUrl}\\n${error}\\n\\n` +\n"
        '    "Without network access the public CDN cannot be reached: fetch the bundle "'
        ' + "once with\\n  python -m scheduler_async fetch-web-elements\\n" +\n'
        '    "and start the emulator with --web-elements-dir <the directory it prints>.";\n'
        "  document.body.insertBefore(note, document.body.children[1] || null);\n"
        "  throw error;\n"
        "}\n"
        "module.defineCustomElement();\n"
        f'await customElements.whenDefined("{tag}");\n'
        "window.nylasComponentDefined = true;"
    )


def script_json(value: Any) -> str:
    """JSON safe to embed in a ``<script>`` element."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_booking_page(
    *,
    component_url: str,
    api_url: str | None,
    params: dict[str, str],
    title: str = "Booking page (scheduler emulator)",
) -> str:
    """The page's HTML: ``params`` are query parameters (see the module docstring)."""
    attributes = {
        attr: params[name] for name, attr in _ATTRIBUTES.items() if params.get(name) is not None
    }
    settings = {
        "apiUrl": api_url,
        "componentUrl": component_url,
        "attributes": attributes,
        "events": list(_EVENTS),
    }
    return _TEMPLATE.format(
        head=page_head(title, "nylas-scheduling", 960),
        api_label=html.escape(api_url or "(this origin)"),
        settings=script_json(settings),
        record_events=RECORD_EVENTS_JS,
        load_component=component_loader_js("nylas-scheduling"),
    )


def booking_page_routes(
    *,
    component_dir: str | Path | None = None,
    component_url: str = DEFAULT_COMPONENT_URL,
    api_url: str | None = None,
) -> list[web.AbstractRouteDef]:
    """Routes serving the page (and the component from ``component_dir`` if given)."""

    def render(script_url: str, query: Mapping[str, str]) -> str:
        params = {name: query[name] for name in _ATTRIBUTES if query.get(name)}
        return render_booking_page(component_url=script_url, api_url=api_url, params=params)

    return component_page_routes(
        BOOKING_PAGE_PATH,
        render,
        component_file=COMPONENT_FILE,
        assets_path=ASSETS_PATH,
        component_dir=component_dir,
        component_url=component_url,
    )


def component_page_routes(
    path: str,
    render: Callable[[str, Mapping[str, str]], str],
    *,
    component_file: str,
    assets_path: str,
    component_dir: str | Path | None,
    component_url: str,
) -> list[web.AbstractRouteDef]:
    """Routes of a page hosting a web component: ``GET path`` answers
    ``render(script_url, query)`` (never cached); with ``component_dir`` (which must hold
    ``component_file``) the script is served from it under ``assets_path``, else loaded from
    ``component_url``."""
    directory = Path(component_dir).resolve() if component_dir is not None else None
    if directory is not None and not (directory / component_file).is_file():
        raise FileNotFoundError(f"{component_file} not found in {directory}")
    script_url = f"{assets_path}/{component_file}" if directory is not None else component_url

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text=render(script_url, request.query),
            content_type="text/html",
            headers={"Cache-Control": "no-store"},
        )

    routes: list[web.AbstractRouteDef] = [web.get(path, page, allow_head=False)]
    if directory is not None:
        routes.append(web.static(assets_path, directory))
    return routes


def create_booking_page_app(
    *,
    component_dir: str | Path | None = None,
    component_url: str = DEFAULT_COMPONENT_URL,
    api_url: str | None = None,
) -> web.Application:
    """A stand-alone app serving only the booking page (for a page origin apart from the API)."""
    app = web.Application()
    app.add_routes(
        booking_page_routes(
            component_dir=component_dir, component_url=component_url, api_url=api_url
        )
    )
    return app


DEMO_GRANT_ID = "demo-grant"
DEMO_SLUG = "intro-call"


def seed_demo_configuration(store: Store) -> StoredConfiguration:
    """A demo grant (``host@example.com``) and a public configuration to show on the page:
    weekdays 09:00-17:00 UTC, 30-minute slots, slug ``intro-call``."""
    store.add_grant(DEMO_GRANT_ID, email="host@example.com")
    body: dict[str, Any] = {
        "name": "Intro call (emulator demo)",
        "slug": DEMO_SLUG,
        "participants": [
            {
                "name": "Hanna Host",
                "email": "host@example.com",
                "is_organizer": True,
                "availability": {"calendar_ids": ["primary"]},
                "booking": {"calendar_id": "primary"},
            }
        ],
        "availability": {
            "duration_minutes": 30,
            "availability_rules": {
                "default_open_hours": [
                    {"days": [1, 2, 3, 4, 5], "timezone": "UTC", "start": "09:00", "end": "17:00"}
                ]
            },
        },
        "event_booking": {"title": "Intro call"},
    }
    return store.create_configuration(DEMO_GRANT_ID, body)
