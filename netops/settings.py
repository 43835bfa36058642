"""Where netops keeps its state.

The database URL comes, in this order, from the ``--db`` option, the ``NETOPS_DB_URL``
environment variable, or the default: a SQLite file in the user's data directory
(``~/.local/share/netops/netops.db`` on Linux). A bare path is taken as a SQLite file.

Loading settings never creates anything: only the commands that write an inventory
(``db upgrade``, ``inventory seed``, ``inventory import``) create a database and its
directory, so a typo in ``--db`` is an error and not a new, empty inventory.

``NETOPS_DB_LOCK_TIMEOUT`` (seconds, default 30) bounds how long a command waits for
another writer (a busy SQLite file, a schema creation or seed in progress) before it
gives up with exit 4 naming the holder.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from netops.errors import ConfigError

DB_ENV = "NETOPS_DB_URL"
SECRETS_FILE_ENV = "NETOPS_SECRETS_FILE"
#: the workspace of `netops config` runs (git store + state), see configs.state
WORKSPACE_ENV = "NETOPS_CONFIG_DIR"
LOCK_TIMEOUT_ENV = "NETOPS_DB_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_S = 30.0
MAX_LOCK_TIMEOUT_S = 86_400.0


def default_db_path() -> Path:
    import platformdirs  # here, not at the top: `netops --help` loads this module but never needs it

    return platformdirs.user_data_path("netops") / "netops.db"


#: a libpq connection string (``host=db password=... dbname=netops``): no file path starts so
_LIBPQ_KEYWORD = re.compile(r"\s*(?:host|hostaddr|port|dbname|user|password|passfile|service|sslmode)\s*=", re.I)


def normalise_db_url(value: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as SQLite)."""
    if _LIBPQ_KEYWORD.match(value):  # (as a file name it would be created, the password in its name)
        raise ConfigError("--db / NETOPS_DB_URL is a libpq connection string: give postgresql://USER@HOST/DB, "
                          "the password in PGPASSWORD or ~/.pgpass")
    if "://" in value:
        if re.split(r"[/?#]", value.split("://", 1)[1], maxsplit=1)[0].count("@") > 1:
            # drivers end the password at its first @ and take the rest for the host: a message
            # naming the host would show the rest of the password
            raise ConfigError("the database URL has more than one @ before its host: percent-encode @ in the password "
                              "as %40 (in the user name too)")
        if value.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2
            return "postgresql+psycopg://" + value[len("postgresql://") :]
        return value
    path = Path(value).expanduser()
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # bytes that are no UTF-8 in the name: no database URL can hold them
        raise ConfigError(f"the database path {value!r} is not UTF-8 text: rename the file (or link to it "
                          "under a UTF-8 name)") from None
    try:
        path = path.resolve()  # one file, one lock file beside it, however it is named
    except (RuntimeError, OSError):  # a symlink loop: SQLite says so, naming the path as given
        path = Path(os.path.abspath(path))
    return f"sqlite:///{path}"


def lock_timeout(raw: str | None) -> float:
    """Seconds to wait for another writer; a finite number from 0 to a day."""
    if raw is None or raw.strip() == "":
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (0 <= value <= MAX_LOCK_TIMEOUT_S):  # also refuses nan
        raise ConfigError(f"{LOCK_TIMEOUT_ENV} must be a number of seconds from 0 to "
                          f"{MAX_LOCK_TIMEOUT_S:g}, not {raw[:40]!r}")
    return value


def _user_config_dir() -> Path:
    import platformdirs

    return platformdirs.user_config_path("netops")


@dataclass(frozen=True)
class Settings:
    db_url: str
    secrets_file: Path
    db_lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S

    @classmethod
    def load(cls, db: str | None = None) -> "Settings":
        raw = db or os.environ.get(DB_ENV)
        url = normalise_db_url(raw) if raw else f"sqlite:///{default_db_path()}"
        secrets = os.environ.get(SECRETS_FILE_ENV) or str(_user_config_dir() / "secrets.toml")
        return cls(db_url=url, secrets_file=Path(secrets).expanduser(),
                   db_lock_timeout=lock_timeout(os.environ.get(LOCK_TIMEOUT_ENV)))


def tcp_port(text: str) -> int | None:
    """The port ``text`` (the part after a HOST:) names, or None: ASCII digits only
    (``str.isdigit`` also takes ``²``, which ``int`` refuses; 5,000 digits exceed what
    ``int`` reads) and at most 65535."""
    if not (text.isascii() and text.isdigit() and len(text) <= 5) or int(text) > 65535:
        return None
    return int(text)
