"""Schema migrations through Alembic, run on the application's own engine.

The recipe is Alembic's "programmatic API use (connection sharing) with asyncio": the async
engine lends a sync connection to Alembic's command API.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from portal.db import Database

LOCK_KEY = 0x6D707274  # "mprt": the advisory lock that serialises migrations


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("portal") / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (the newest by default)."""

    def run(connection: Connection) -> None:
        command.upgrade(_config(connection), revision)

    async with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several hub nodes may start at once: one migrates, the others wait here.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        await connection.run_sync(run)


async def is_current(database: Database) -> bool:
    """Whether the schema is at the newest revision."""

    def check(connection: Connection) -> bool:
        heads = set(ScriptDirectory.from_config(_config()).get_heads())
        return set(MigrationContext.configure(connection).get_current_heads()) == heads

    async with database.engine.connect() as connection:
        return await connection.run_sync(check)
