"""Auth profiles for the poller: the inventory's SnmpProfile rows plus their secrets.

The built-in ``public_v2`` (v2c, community ``public``, like snmp_exporter's default) makes
``/snmp?target=...&module=interfaces`` work out of the box; a database profile of the same
name replaces it (its tuning; its community when the secrets name one, else still
``public``: the seeded inventory carries that row for labs). Any other profile whose
secret is missing is left out with a warning, so one incomplete profile never stops the
exporter.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlmodel import select

from inventory.models.profiles import SnmpProfile, SnmpVersion
from netops.db import session_scope
from netops.errors import ConfigError
from netops.secrets import SecretStore
from exporters.snmp.client import DEFAULT_PROFILE, AuthProfile
from exporters.snmp.usm import UsmUser

log = logging.getLogger("netops.exporter")

#: communities everyone knows: sending them anywhere gives nothing away
PUBLIC_COMMUNITIES = frozenset(("public",))


def bears_secret(profile: AuthProfile) -> bool:
    """Whether polling with ``profile`` sends something that must stay in the city (a
    community other than ``public``, any SNMPv3 user): such a profile goes only to the
    inventory devices bound to it (``exporters.targets.TargetPolicy``)."""
    return not (profile.version == "v2c" and profile.community is not None
                and profile.community.reveal() in PUBLIC_COMMUNITIES)


def profile_from_row(row: SnmpProfile, store: SecretStore) -> AuthProfile:
    tuning = dict(max_repetitions=row.max_repetitions, timeout_s=row.timeout_s, retries=row.retries)
    if row.version == SnmpVersion.V2C:
        return AuthProfile(row.name, "v2c", community=_community(row.name, store), **tuning)
    auth_key = store.require("snmp", row.name, "auth_key").reveal() if row.auth_protocol != "none" else None
    priv_key = store.require("snmp", row.name, "priv_key").reveal() if row.priv_protocol != "none" else None
    user = UsmUser(row.user, str(row.auth_protocol), auth_key, str(row.priv_protocol), priv_key)
    return AuthProfile(row.name, "v3", user=user, **tuning)


def _community(profile: str, store: SecretStore):
    """A v2c profile's community from the secrets; the built-in profile's own when its
    inventory row has none (``public`` is no secret, so nothing is missing)."""
    if profile == DEFAULT_PROFILE.name:
        return store.get("snmp", profile, "community") or DEFAULT_PROFILE.community
    return store.require("snmp", profile, "community")


def load_profiles(engine: Engine | None, store: SecretStore) -> dict[str, AuthProfile]:
    profiles = {DEFAULT_PROFILE.name: DEFAULT_PROFILE}
    if engine is None:
        return profiles
    with session_scope(engine) as session:
        rows = session.exec(select(SnmpProfile)).all()
    for row in rows:
        try:
            profiles[row.name] = profile_from_row(row, store)
        except ConfigError as exc:
            log.warning("SNMP profile %s left out: %s", row.name, exc)
    return profiles
