"""Secrets: SNMP communities, SNMPv3 keys, SSH passwords.

They never live in the database. A profile in the database names *which* secret it
needs; the value comes from the environment or from a secrets file that only its owner
can read (mode 0600, refused otherwise):

    # ~/.config/netops/secrets.toml  (or $NETOPS_SECRETS_FILE)
    [snmp.city_v3]
    auth_key = "..."
    priv_key = "..."
    [ssh.switches]
    password = "..."

The environment wins over the file: ``NETOPS_SNMP_CITY_V3_AUTH_KEY``,
``NETOPS_SSH_SWITCHES_PASSWORD`` (section, profile and key upper-cased, other
characters turned into ``_``).

Values are handed out wrapped in :class:`Secret`, whose ``str``/``repr`` never show
the value, so a secret that slips into a log line or a table prints as ``********``.

One secret belongs to netops itself: the key of the fingerprints that stand in for
secrets in config backups (``[config.fingerprint] key``, env
``NETOPS_CONFIG_FINGERPRINT_KEY``). See :func:`fingerprint_key`.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets as _random
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from netops.errors import ConfigError
from netops.settings import SECRETS_FILE_ENV
from netops.textfile import CONFIG_MAX_BYTES, read_text

MASK = "********"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def env_name(section: str, profile: str, key: str) -> str:
    raw = f"NETOPS_{section}_{profile}_{key}".upper()
    return re.sub(r"[^A-Z0-9_]", "_", raw)


@dataclass
class SecretStore:
    """Looks secrets up by (section, profile, key): environment first, then the file."""

    path: Path | None = None
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    _file: dict | None = field(default=None, init=False, repr=False)

    def _load_file(self) -> dict:
        if self._file is not None:
            return self._file
        self._file = {}
        if self.path is None or not self.path.exists():
            return self._file
        if not self.path.is_file():
            raise ConfigError(f"{self.path}: the secrets file is a directory or not a regular file; "
                              f"point {SECRETS_FILE_ENV} at a TOML file")
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"{self.path}: secrets file has mode {mode:04o}; it must be readable by its "
                f"owner only (chmod 600 {self.path})"
            )
        # read as every file a user hands netops (textfile.read_text): in blocks, refused at
        # the first NUL byte or past CONFIG_MAX_BYTES (a 2 GB sparse file once took 2 GB of
        # memory, or ended in a MemoryError traceback where less was allowed)
        text = read_text(self.path, ConfigError, max_bytes=CONFIG_MAX_BYTES)
        try:
            loaded = tomllib.loads(text)
        except ValueError as exc:  # TOMLDecodeError, or an integer of more than 4,300 digits
            # the message quotes a position or a digit count, never a value
            raise ConfigError(f"{self.path}: not valid TOML: {exc}") from None
        self._file = _checked_shape(self.path, loaded)
        return self._file

    def get(self, section: str, profile: str, key: str) -> Secret | None:
        value = self.environ.get(env_name(section, profile, key))
        if value is None:
            value = self._load_file().get(section, {}).get(profile, {}).get(key)
        return None if value is None else Secret(str(value))

    def require(self, section: str, profile: str, key: str) -> Secret:
        secret = self.get(section, profile, key)
        if secret is None:
            raise ConfigError(
                f"no secret {section}.{profile}.{key}: set {env_name(section, profile, key)} "
                f"or add [{section}.{profile}] {key} = ... to {self.path}"
            )
        return secret


def _checked_shape(path: Path, loaded: dict) -> dict:
    """``[section.profile]`` tables of text values; a problem names the key, never a value."""
    for section, profiles in loaded.items():
        if not isinstance(profiles, dict):
            raise ConfigError(f"{path}: {section} must be a table of profiles ([{section}.PROFILE]), "
                              "not a single value")
        for profile, keys in profiles.items():
            if not isinstance(keys, dict):
                raise ConfigError(f"{path}: {section}.{profile} must be a table ([{section}.{profile}] "
                                  "with key = \"value\" lines), not a single value")
            for key, value in keys.items():
                if not isinstance(value, (str, int)) or isinstance(value, bool):
                    raise ConfigError(f"{path}: {section}.{profile}.{key} must be a string, "
                                      f"not a {type(value).__name__}")
    return loaded


def scrub(text: str, secrets: list[Secret]) -> str:
    """Replace every known secret value in ``text`` (for error messages from libraries)."""
    for secret in secrets:
        value = secret.reveal()
        if value:
            text = text.replace(value, MASK)
    return text


FINGERPRINT_KEY = ("config", "fingerprint", "key")
_MIN_KEY_CHARS = 32


def fingerprint_key(store: SecretStore) -> Secret:
    """The HMAC key of the secret fingerprints in config backups.

    It lives with the other secrets (environment or the 0600 secrets file), never in
    the backup repository, so the repository alone cannot be used to test guesses. On
    first use, when neither holds one, a random 256-bit key is generated and appended
    to the secrets file (created with mode 0600 if missing): backups work out of the
    box, and losing the key only means that every secret shows as changed once.
    """
    key = store.get(*FINGERPRINT_KEY)
    if key is None:
        key = _generate_into(store)
    if len(key.reveal()) < _MIN_KEY_CHARS:
        raise ConfigError(
            f"secret {'.'.join(FINGERPRINT_KEY)} is shorter than {_MIN_KEY_CHARS} characters: too easy to "
            f"guess (generate one with: python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return key


def _generate_into(store: SecretStore) -> Secret:
    section, profile, name = FINGERPRINT_KEY
    where = f"set {env_name(section, profile, name)} or add [{section}.{profile}] {name} = \"...\" to"
    if store.path is None:
        raise ConfigError(f"no fingerprint key for config backups: {where} the secrets file")
    path = store.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise ConfigError(f"no fingerprint key for config backups and {path} is not writable "
                          f"({exc.strerror}): {where} {path}") from None
    with os.fdopen(fd, "r+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # two first runs at once must agree on one key
        store._file = None
        existing = store.get(*FINGERPRINT_KEY)  # checks the mode, parses the file
        if existing is not None:
            return existing
        if section in store._load_file() and profile in store._load_file()[section]:
            raise ConfigError(f"{path}: [{section}.{profile}] exists without {name}: {where} {path}")
        value = _random.token_hex(32)
        fh.seek(0, os.SEEK_END)
        separator = "\n" if fh.tell() and not path.read_text().endswith("\n") else ""
        fh.write(f"{separator}\n# generated by netops: keys the secret fingerprints in config backups\n"
                 f"[{section}.{profile}]\n{name} = \"{value}\"\n")
    store._file = None
    return Secret(value)
