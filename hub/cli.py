"""The command line: ``python -m hub run | serve | seed | train``.

- ``run``: migrate, seed an empty database, train the assistant's model when its inputs
  changed, then serve the hub with Rasa and the action server as supervised children (what
  ``make run`` does after setting up).
- ``serve [--host H] [--port P]``: the hub alone.
- ``seed``: migrate, then load the demo data into an empty database.
- ``train [--force]``: train the assistant's model when its inputs changed.
- ``demo-consultation [--in MINUTES] [--telephone]``: book an online (or telephone)
  consultation between ``demo.patient`` and ``demo.physician`` that starts soon, to try the
  consultation room and the physician desk.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from aiohttp import web

from hub.app import configure_logging, create_app
from hub.assistant import AssistantProject, train_command
from hub.settings import Settings, SettingsError
from portal.db import Database
from portal.migrate import upgrade
from portal.models import ServiceType
from portal.seed import (
    DEMO_LOGINS,
    SeedReport,
    book_demo_consultation,
    random_password,
    seed_demo,
)
from portal.services import Portal


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m hub", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("run", "set up the data and serve everything"),
        ("serve", "serve the hub alone"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--host", help="listen address (HUB_HOST)")
        command.add_argument("--port", type=int, help="listen port (HUB_PORT)")
    commands.add_parser("seed", help="migrate, then load demo data into an empty database")
    train = commands.add_parser("train", help="train the assistant when its inputs changed")
    train.add_argument("--force", action="store_true", help="train even when current")
    demo = commands.add_parser(
        "demo-consultation", help="book a consultation of the demo logins that starts soon"
    )
    demo.add_argument(
        "--in", dest="minutes", type=int, default=5, help="minutes until it starts (default 5)"
    )
    demo.add_argument("--telephone", action="store_true", help="a telephone consultation")
    args = parser.parse_args(argv)
    if args.command == "train":
        return train_command(force=args.force)
    try:
        settings = Settings.from_env().ensure_secret()
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.command == "seed":
        asyncio.run(_seed(settings))
        return 0
    if args.command == "demo-consultation":
        kind = ServiceType.TELEPHONE_CONSULTATION if args.telephone else None
        return asyncio.run(_demo_consultation(settings, args.minutes, kind))
    settings = settings.with_overrides(args.host, args.port)
    supervise = args.command == "run"
    if supervise:
        asyncio.run(_seed(settings))
        _prepare_assistant()
    _banner(settings)
    web.run_app(
        create_app(settings, supervise_assistant=supervise),
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
    )
    return 0


async def _seed(settings: Settings) -> SeedReport:
    db = Database(settings.database_url)
    try:
        await upgrade(db)
        password = settings.demo_password.reveal() if settings.demo_password else None
        portal = Portal(db, settings.portal_config())
        report = await seed_demo(portal, password or random_password_for(settings))
    finally:
        await db.close()
    if report.seeded:
        print(f"Seeded the demo clinic network ({report.slots_created} slots).")
        shown = password or _stored_demo_password(settings)
        print("Demo logins: " + ", ".join(DEMO_LOGINS))
        if password:
            print("Their password is DEMO_PASSWORD.")
        else:
            print(f"Their password (random, saved in {settings.var_dir}/demo_password): {shown}")
    else:
        print("Database already holds accounts: demo data left as it is.")
    return report


async def _demo_consultation(settings: Settings, minutes: int, kind: ServiceType | None) -> int:
    db = Database(settings.database_url)
    try:
        await upgrade(db)
        portal = Portal(db, settings.portal_config())
        try:
            appointment = await book_demo_consultation(
                portal,
                starts_in=timedelta(minutes=minutes),
                service_type=kind or ServiceType.ONLINE_CONSULTATION,
            )
        except LookupError as error:
            print(f"cannot book: {error} (run `python -m hub seed` first)", file=sys.stderr)
            return 1
    finally:
        await db.close()
    print(f"Booked consultation {appointment.id} at {appointment.start_at.isoformat()}.")
    print(f"Patient (demo.patient): {settings.public_url}/consultation.html")
    print(f"Physician (demo.physician): {settings.public_url}/desk.html")
    return 0


def _prepare_assistant() -> None:
    project = AssistantProject()
    if not project.runtime_available():
        print(
            "NOTE: the assistant will not run: .venv-bot (Python 3.10 with Rasa) is missing. "
            "The portal works without it; /healthz shows rasa and actions as unavailable."
        )
        return
    if not project.project_available():
        print("NOTE: no Rasa project in this checkout: the assistant will not run.")
        return
    train_command()


def random_password_for(settings: Settings) -> str:
    """A random demo password, kept in var/demo_password (0600) so it can be looked up later."""
    value = random_password()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    path = settings.var_dir / "demo_password"
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def _stored_demo_password(settings: Settings) -> str:
    path = settings.var_dir / "demo_password"
    return path.read_text().strip() if path.exists() else "(see DEMO_PASSWORD)"


def _banner(settings: Settings) -> None:
    base = f"http://{settings.host}:{settings.port}"
    redis = _redact(settings.redis_url) if settings.redis_url else "not used (single node)"
    print(
        "\n".join(
            [
                "",
                f"Patient portal hub: {base}/",
                f"  API (OpenAPI 3.1): {base}/api/v1/openapi.json",
                f"  Health:            {base}/healthz",
                f"  Assistant (Rasa):  {settings.rasa_url} (logs: {settings.var_dir}/logs)",
                f"  Database:          {_redact(settings.database_url)}",
                f"  Redis:             {redis}",
                f"  Demo logins:       {', '.join(DEMO_LOGINS)} "
                f"(password: DEMO_PASSWORD or {settings.var_dir}/demo_password)",
                f"  E-mail outbox:     {settings.var_dir / 'outbox'}"
                if settings.smtp is None
                else f"  SMTP:              {settings.smtp.host}:{settings.smtp.port}",
                "Stop with Ctrl+C.",
                "",
            ]
        ),
        flush=True,
    )


def _redact(url: str) -> str:
    """A URL without its password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"
