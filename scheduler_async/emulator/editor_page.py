"""A page hosting Nylas's Scheduler Editor (``<nylas-scheduler-editor>``) against the emulator.

``GET /_emulator/editor`` answers an HTML page that loads the editor (``@nylas/web-elements``
2.6.0, MIT) and points it at the emulator's API (``{api_url}/v3``).  Two auth modes:

* hosted login (default): the documented ``nylasSessionsConfig``; "Continue with Google" goes to
  the emulator's ``/v3/connect/auth``, which logs in at once (grant: the page's ``login_hint``
  query parameter, else the only grant) and redirects back; the editor then exchanges the code
  (PKCE) and calls ``/v3/grants/me/...`` with the access token (see :mod:`.connect`).
* ``?auth=api-key&grant_id=<id>``: a page-supplied ``nylasApiRequest`` that calls
  ``/v3/grants/<id>/...`` with the API key the page server was given.

**Serve the page on another origin than the API** (:func:`create_editor_page_app`,
:class:`EditorPageServer`): ``@nylas/identity`` never considers itself logged in when the page
and the API share an origin with ``hosted: true``, so the hosted login would never complete.

The editor script comes from ``component_dir`` (a directory holding
``nylas-scheduler-editor.es.js``, see ``python -m scheduler_async fetch-web-elements``), else
the public CDN.
The page records the editor's events in ``window.nylasEvents`` (``[{type, detail}]``) and sets
``window.nylasComponentDefined = true`` once the element is defined.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from scheduler_async.emulator.booking_page import (
    COMPONENT_VERSION,
    RECORD_EVENTS_JS,
    component_loader_js,
    component_page_routes,
    page_head,
    script_json,
)
from scheduler_async.emulator.web_common import AppThread

__all__ = [
    "DEFAULT_EDITOR_URL",
    "EDITOR_FILE",
    "EDITOR_PAGE_PATH",
    "EditorPageServer",
    "create_editor_page_app",
    "editor_page_routes",
    "render_editor_page",
]

EDITOR_PAGE_PATH = "/_emulator/editor"
EDITOR_FILE = "nylas-scheduler-editor.es.js"
DEFAULT_EDITOR_URL = (
    f"https://cdn.jsdelivr.net/npm/@nylas/web-elements@{COMPONENT_VERSION}"
    f"/dist/cdn/nylas-scheduler-editor/{EDITOR_FILE}"
)
_ASSETS_PATH = EDITOR_PAGE_PATH + "/assets"
_EVENTS = (
    "loggedIn",
    "loggedOut",
    "nylasSchedulerEditorError",
    "schedulerConfigChanged",
    "schedulerConfigCloseClicked",
    "previewButtonClicked",
)

_TEMPLATE = """{head}
<body>
<header>Scheduler emulator &middot; Scheduler Editor &middot; API {api_label} ({mode})</header>
<script type="module">
const settings = {settings};
const element = document.createElement("nylas-scheduler-editor");
{record_events}
const pageUrl = window.location.origin + window.location.pathname;
element.schedulerPreviewLink = settings.previewLink || "";
element.enableUserFeedback = false;
element.mode = "app";
if (settings.groupEvents) element.enableEventTypes = {{ group: true }};
if (settings.auth === "api-key") {{
  const base = `${{settings.apiUrl}}/v3/grants/${{encodeURIComponent(settings.grantId)}}`;
  const call = async (method, url, body) => {{
    const response = await fetch(url, {{
      method,
      headers: {{ "Authorization": `Bearer ${{settings.apiKey}}`,
                 "Content-Type": "application/json" }},
      body: body === undefined ? undefined : JSON.stringify(body),
    }});
    return response.json();
  }};
  element.nylasApiRequest = {{
    async request({{ method, path, body }}) {{
      try {{
        const json = await call(method || "GET", `${{base}}/${{path}}`, body);
        return json.error ? [null, json.error] : [json, null];
      }} catch (error) {{
        return [null, {{ message: String(error) }}];
      }}
    }},
    async currentUser() {{
      const json = await call("GET", base);
      return json.data ? {{ id: json.data.id, email: json.data.email }} : null;
    }},
  }};
}} else {{
  element.nylasSessionsConfig = {{
    clientId: settings.clientId,
    redirectUri: pageUrl,
    domain: `${{settings.apiUrl}}/v3`,
    hosted: true,
    accessType: "offline",
  }};
  if (settings.loginHint) {{
    element.defaultAuthArgs = [{{ provider: "google", loginHint: settings.loginHint }}];
  }}
}}
if (settings.configurationId) element.configurationId = settings.configurationId;
document.body.appendChild(element);
{load_component}
</script>
</body>
</html>
"""


def render_editor_page(
    *,
    component_url: str,
    api_url: str,
    client_id: str,
    api_key: str,
    params: dict[str, str],
    preview_link: str | None = None,
) -> str:
    """The page's HTML; ``params`` are the query parameters (``auth``, ``grant_id``,
    ``login_hint``, ``configuration_id``, ``event_types=group`` to offer group configurations)."""
    auth = "api-key" if params.get("auth") == "api-key" else "hosted"
    if auth == "api-key" and not params.get("grant_id"):
        raise web.HTTPBadRequest(text="auth=api-key needs grant_id=<grant id>")
    settings = {
        "auth": auth,
        "apiUrl": api_url.rstrip("/"),
        "componentUrl": component_url,
        "clientId": client_id,
        "apiKey": api_key if auth == "api-key" else None,
        "grantId": params.get("grant_id"),
        "loginHint": params.get("login_hint"),
        "configurationId": params.get("configuration_id"),
        "groupEvents": params.get("event_types") == "group",
        "previewLink": preview_link,
        "events": list(_EVENTS),
    }
    return _TEMPLATE.format(
        head=page_head("Scheduler Editor (scheduler emulator)", "nylas-scheduler-editor", 1100),
        api_label=html.escape(api_url),
        mode="hosted login" if auth == "hosted" else "API key",
        settings=script_json(settings),
        record_events=RECORD_EVENTS_JS,
        load_component=component_loader_js("nylas-scheduler-editor"),
    )


def editor_page_routes(
    *,
    api_url: str,
    client_id: str,
    api_key: str,
    component_dir: str | Path | None = None,
    component_url: str = DEFAULT_EDITOR_URL,
    preview_link: str | None = None,
) -> list[web.AbstractRouteDef]:
    """Routes serving the editor page (and its script from ``component_dir`` if given)."""
    names = ("auth", "grant_id", "login_hint", "configuration_id", "event_types")

    def render(script_url: str, query: Mapping[str, str]) -> str:
        return render_editor_page(
            component_url=script_url,
            api_url=api_url,
            client_id=client_id,
            api_key=api_key,
            params={name: query[name] for name in names if query.get(name)},
            preview_link=preview_link,
        )

    return component_page_routes(
        EDITOR_PAGE_PATH,
        render,
        component_file=EDITOR_FILE,
        assets_path=_ASSETS_PATH,
        component_dir=component_dir,
        component_url=component_url,
    )


def create_editor_page_app(
    *,
    api_url: str,
    client_id: str,
    api_key: str,
    component_dir: str | Path | None = None,
    component_url: str = DEFAULT_EDITOR_URL,
    preview_link: str | None = None,
) -> web.Application:
    """A stand-alone app serving the editor page (run it on another origin than the API)."""
    app = web.Application()
    app.add_routes(
        editor_page_routes(
            api_url=api_url,
            client_id=client_id,
            api_key=api_key,
            component_dir=component_dir,
            component_url=component_url,
            preview_link=preview_link,
        )
    )
    return app


class EditorPageServer(AppThread):
    """Serve :func:`create_editor_page_app` from its own thread (``start``/``stop``).

    ``port`` 0 picks a free one; :attr:`url` is the page's URL once started.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **app_kwargs: Any) -> None:
        super().__init__(
            lambda: create_editor_page_app(**app_kwargs), host, port, name="editor-page"
        )

    def __repr__(self) -> str:
        return f"<EditorPageServer {self.host}:{self.port}>"

    @property
    def url(self) -> str:
        """``http://<host>:<port>/_emulator/editor``."""
        return f"{self.base_url}{EDITOR_PAGE_PATH}"
