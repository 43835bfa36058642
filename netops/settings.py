"""Where netops keeps its state.

The database URL comes, in this order, from the ``--db`` option, the ``NETOPS_DB_URL``
environment variable, or the default: a SQLite file in the user's data directory
(``~/.local/share/netops/netops.db`` on Linux). A bare path is taken as a SQLite file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DB_ENV = "NETOPS_DB_URL"
SECRETS_FILE_ENV = "NETOPS_SECRETS_FILE"


def default_db_path() -> Path:
    return platformdirs.user_data_path("netops") / "netops.db"


def normalise_db_url(value: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as SQLite)."""
    if "://" in value:
        if value.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2
            return "postgresql+psycopg://" + value[len("postgresql://") :]
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


@dataclass(frozen=True)
class Settings:
    db_url: str
    secrets_file: Path

    @classmethod
    def load(cls, db: str | None = None) -> "Settings":
        raw = db or os.environ.get(DB_ENV)
        if raw:
            url = normalise_db_url(raw)
        else:
            path = default_db_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{path}"
        secrets = os.environ.get(SECRETS_FILE_ENV) or str(
            platformdirs.user_config_path("netops") / "secrets.toml"
        )
        return cls(db_url=url, secrets_file=Path(secrets).expanduser())
