"""Command line: ``python -m scheduler_async {emulator,fetch-web-elements,demo} ...`` (also
``scheduler-client``).

``emulator`` serves the local Scheduler API emulator until Ctrl-C::

    python -m scheduler_async emulator [--host 127.0.0.1] [--port 8080] [--strict]
        [--api-key KEY ...] [--latency-ms N] [--client-id ID] [--seed N] [--rate-limit R]
        [--idle-timeout S] [--cors-origins ORIGIN ...] [--booking-page [--web-elements-dir DIR]
        [--configuration-id ID]] [--editor [--editor-port PORT]]
        [--state FILE] [--seed-file FILE]

``--state FILE`` keeps the emulator's state in that SQLite file: a restart with the same file
answers as before (same ids, bookings, webhooks and their pending deliveries); two emulators
never share one file (the second refuses to start).  ``--seed-file FILE`` loads grants,
calendars, events, configurations and webhooks from a JSON file in the API's own shapes
(``GET /_emulator/export`` writes one) when the state is empty.

``--booking-page`` also serves Nylas's ``<nylas-scheduling>`` booking page against the emulator
at ``/_emulator/booking-page``.  Without ``--configuration-id`` it seeds a demo grant and a
public configuration (weekdays 09:00-17:00 UTC, 30 minutes, slug ``intro-call``) and prints
the page's URLs for it; the component loads from ``--web-elements-dir`` (the directory holding
``nylas-scheduling.es.js``, see ``fetch-web-elements``) or else from the public CDN.

``fetch-web-elements`` downloads those bundles (:mod:`scheduler_async.web_elements`).

``--editor`` also serves Nylas's Scheduler Editor (``<nylas-scheduler-editor>``) on a second
port (another origin than the API, which its hosted login needs), seeds a grant
(``host@example.com``, calendars ``primary`` and ``work``) unless one exists, and prints the
page's URLs: hosted login ("Continue with Google" logs that grant in at once through the
emulator's ``/v3/connect/*``) and an API-key page (a page-supplied ``nylasApiRequest``).

``demo`` runs :func:`scheduler_async.demo.main` with the remaining arguments.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import threading
from typing import Any


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError("must be a number > 0")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scheduler_async", description="scheduler-client command line"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    emu = sub.add_parser("emulator", help="serve the local Scheduler API emulator until Ctrl-C")
    emu.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    emu.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free)")
    emu.add_argument(
        "--strict", action="store_true", help="refuse unknown API keys (401) and grants (404)"
    )
    emu.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accepted API key (repeatable); given keys are enforced",
    )
    emu.add_argument(
        "--latency-ms", type=float, default=0, help="fixed latency added to every API request"
    )
    emu.add_argument("--client-id", default=None, help="application id used with slug lookups")
    emu.add_argument("--seed", type=int, default=None, help="seed of the fault-injection RNG")
    emu.add_argument(
        "--rate-limit",
        type=_positive_float,
        default=None,
        metavar="R",
        help="answer 429 + Retry-After beyond R requests per second per API key "
        "(counters: GET /_emulator/rate_limit)",
    )
    emu.add_argument(
        "--cors-origins",
        nargs="+",
        default=None,
        metavar="ORIGIN",
        help="origins browsers may call the API from (default: any, '*')",
    )
    emu.add_argument(
        "--idle-timeout",
        type=_positive_float,
        default=None,
        metavar="S",
        help="close a connection idle for S seconds (default 30; keep-alive and unfinished "
        "requests alike)",
    )
    emu.add_argument(
        "--booking-page",
        action="store_true",
        help="serve the <nylas-scheduling> booking page and print its URL(s)",
    )
    emu.add_argument(
        "--web-elements-dir",
        default=None,
        metavar="DIR",
        help="directory holding nylas-scheduling.es.js and nylas-scheduler-editor.es.js "
        "(default: load them from the public CDN)",
    )
    emu.add_argument(
        "--configuration-id",
        default=None,
        metavar="ID",
        help="with --booking-page: print the URL for this id instead of seeding a demo",
    )
    emu.add_argument(
        "--editor",
        action="store_true",
        help="serve the <nylas-scheduler-editor> page on a second port and print its URLs",
    )
    emu.add_argument(
        "--editor-port",
        type=int,
        default=0,
        metavar="PORT",
        help="port of the editor page (default 0 = any free; never the API's)",
    )
    emu.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="keep the state in this SQLite file (created if missing) across restarts",
    )
    emu.add_argument(
        "--seed-file",
        default=None,
        metavar="FILE",
        help="seed grants, events, configurations and webhooks from this JSON file "
        "(API shapes, as GET /_emulator/export writes) when the state is empty",
    )
    sub.add_parser(
        "fetch-web-elements",
        help="download Nylas's <nylas-scheduling>/<nylas-scheduler-editor> bundles from the npm "
        "registry (no npm needed; checksum verified) for --web-elements-dir",
        add_help=False,
    )
    demo = sub.add_parser(
        "demo",
        help="book a meeting end to end on an embedded emulator: create a configuration, a "
        "session, read availability, book, reschedule, delete (see demo --help)",
    )
    demo.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _run_emulator(args: argparse.Namespace) -> int:
    from scheduler_async.emulator.app import DEFAULT_CLIENT_ID
    from scheduler_async.emulator.persistence import StateFileError
    from scheduler_async.emulator.runner import Emulator
    from scheduler_async.emulator.seed import SeedError

    if args.strict and not args.api_keys:
        print("--strict needs at least one --api-key", file=sys.stderr)
        return 2
    try:
        emulator = Emulator(
            args.host,
            args.port,
            strict=args.strict,
            api_keys=args.api_keys,
            client_id=args.client_id or DEFAULT_CLIENT_ID,
            latency_ms=args.latency_ms,
            seed=args.seed,
            rate_limit=args.rate_limit,
            cors_origins=args.cors_origins,
            booking_page=args.booking_page,
            web_elements_dir=args.web_elements_dir,
            state_path=args.state,
            seed_file=args.seed_file,
            **({"idle_timeout": args.idle_timeout} if args.idle_timeout is not None else {}),
        )
    except (StateFileError, SeedError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        emulator.start()
    except (RuntimeError, FileNotFoundError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    editor: Any = None
    try:  # Ctrl-C may come as soon as the first line is out: stop cleanly from here on
        print(f"Scheduler emulator listening on {emulator.url} (Ctrl-C to stop)", flush=True)
        print(f"admin API: {emulator.url}/_emulator/health", flush=True)
        if args.api_keys:
            print(
                "admin API: /_emulator/* (health and the booking page aside) needs "
                "Authorization: Bearer <one of the --api-key keys>",
                flush=True,
            )
        if args.state is not None:
            print(f"state file: {args.state} (kept across restarts)", flush=True)
        if args.rate_limit is not None:
            print(
                f"rate limit: {args.rate_limit:g} requests/s per API key "
                f"(counters: {emulator.url}/_emulator/rate_limit)",
                flush=True,
            )
        if args.booking_page:
            for line in _booking_page_lines(emulator, args.configuration_id):
                print(line, flush=True)
        if args.editor:
            editor = _start_editor(emulator, args)
            for line in _editor_lines(emulator, editor.url):
                print(line, flush=True)
        for line in _client_lines(emulator, args.api_keys, strict=args.strict):
            print(line, flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        if editor is not None:
            editor.stop()
        emulator.stop()
    return 0


def _client_lines(emulator: Any, api_keys: list[str] | None, *, strict: bool) -> list[str]:
    """The ``export`` line that points a client (``AsyncScheduler()``, ``Scheduler()``, the
    ``nylas`` SDK) at this emulator: the variables ``_config.py`` reads.

    The grant is the first one stored (the booking page's or the editor's), else
    ``demo-grant`` (any grant id works unless ``--strict``, which then gets that grant). A key
    given with ``--api-key`` is not echoed: the line names the option instead.
    """
    from scheduler_async.emulator.booking_page import DEMO_GRANT_ID

    store = emulator.store
    with store.lock:
        grant_id = next(iter(store.grants), None)
    if grant_id is None:
        grant_id = DEMO_GRANT_ID
        if strict:
            store.add_grant(grant_id, email="host@example.com")
    key = "'<one of your --api-key keys>'" if api_keys else shlex.quote(emulator.api_key)
    return [
        "point a client at it (scheduler_async/scheduler_sync read these):",
        f"  export NYLAS_API_URI={shlex.quote(emulator.url)} NYLAS_API_KEY={key} "
        f"NYLAS_GRANT_ID={shlex.quote(grant_id)}",
    ]


def _booking_page_lines(emulator: Any, configuration_id: str | None) -> list[str]:
    """The booking page URL(s) to print (seeding the demo configuration if none is given)."""
    if configuration_id is not None:
        return [f"booking page: {emulator.booking_page_url(configuration_id=configuration_id)}"]
    from scheduler_async.emulator.booking_page import DEMO_SLUG, seed_demo_configuration
    from scheduler_async.emulator.errors import EmulatorError

    try:  # kept from an earlier run (--state)
        stored = emulator.store.find_configuration(slug=DEMO_SLUG)
    except EmulatorError:
        stored = seed_demo_configuration(emulator.store)
    slug_url = emulator.booking_page_url(slug=stored.slug or "", client_id=emulator.client_id)
    return [
        f"booking page: {emulator.booking_page_url(configuration_id=stored.configuration_id)}",
        f"booking page (slug): {slug_url}",
    ]


def _start_editor(emulator: Any, args: argparse.Namespace) -> Any:
    """Start the editor page server (another port, so another origin than the API)."""
    from scheduler_async.emulator.editor_page import EditorPageServer

    host = "127.0.0.1" if args.host in ("", "0.0.0.0") else args.host
    return EditorPageServer(
        host,
        args.editor_port,
        api_url=emulator.url,
        client_id=emulator.client_id,
        api_key=emulator.api_key,
        component_dir=args.web_elements_dir,
    ).start()


def _editor_lines(emulator: Any, url: str) -> list[str]:
    """Seed a grant for the editor (unless one exists) and say what to open and click."""
    from scheduler_async.emulator.booking_page import DEMO_GRANT_ID

    store = emulator.store
    with store.lock:
        grants = list(store.grants.values())
    if not grants:
        grants = [store.add_grant(DEMO_GRANT_ID, email="host@example.com", calendars=["work"])]
    grant = grants[0]
    hint = f"?login_hint={grant.email or grant.grant_id}" if len(grants) > 1 else ""
    return [
        f"scheduler editor (hosted login): {url}{hint}",
        f"  click 'Continue with Google': the emulator logs {grant.email or grant.grant_id} "
        "in at once (no Google involved)",
        f"scheduler editor (API key): {url}?auth=api-key&grant_id={grant.grant_id}",
    ]


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m scheduler_async`` and the ``scheduler-client`` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:
        # Imported lazily: the demo (and the client it drives) is not needed to serve.
        demo = importlib.import_module("scheduler_async.demo")
        return int(demo.main(argv[1:]))
    if argv[:1] == ["fetch-web-elements"]:
        from scheduler_async import web_elements

        return web_elements.main(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "emulator":
        return _run_emulator(args)
    return 2  # pragma: no cover - argparse enforces the sub-command


if __name__ == "__main__":
    sys.exit(main())
