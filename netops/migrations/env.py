"""Alembic environment: runs on the connection netops hands over (``netops.db.upgrade``),
or on ``NETOPS_DB_URL`` when called as plain ``alembic`` by a developer."""

from alembic import context
from sqlalchemy import create_engine

import inventory.models  # noqa: F401  (registers every table on SQLModel.metadata)
from netops.settings import Settings
from sqlmodel import SQLModel

config = context.config
target_metadata = SQLModel.metadata


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with create_engine(Settings.load().db_url).begin() as conn:
        run(conn)
