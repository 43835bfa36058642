"""What a name's preferred address last answered as (sysName, sysObjectID, engine ID) is no longer
kept for ever (final review of session 13): a device whose preferred address is gone for good and
that is replaced or renamed read ``other_device`` at its other address until the exporter restarted.
It is kept as long as the label cache's entries (``cache_ttl_s``) and forgotten on /-/reload.
(The end-to-end check, two agents in a namespace of their own: test_down_hunt.py.)"""

from __future__ import annotations

import time

import pytest

from exporters.snmp.client import AuthProfile, SnmpError
from exporters.snmp.modules import SYS_NAME, SYS_OBJECT_ID
from exporters.snmp.poller import OTHER_DEVICE, Poller

PROFILE = AuthProfile(name="city_v2")
PREFERRED, OTHER = ("2001:db8::7", 161), ("192.0.2.7", 161)


def _answer(sys_name: bytes) -> dict:
    """The base varbinds an agent answered with: (OID, tag, value) per OID."""
    return {SYS_NAME: (SYS_NAME, 4, sys_name), SYS_OBJECT_ID: (SYS_OBJECT_ID, 6, "1.3.6.1.4.1.9.1.1208")}


def _check(poller: Poller, address, sys_name: bytes) -> None:
    poller._check_identity("sw7", address, PROFILE, _answer(sys_name), preferred=address == PREFERRED)


@pytest.fixture
def poller():
    poller = Poller({PROFILE.name: PROFILE}, cache_ttl_s=3600.0)
    _check(poller, PREFERRED, b"sw7")  # the name's preferred address answered as sw7
    yield poller
    poller.close()


def test_another_device_at_the_other_address_is_other_device(poller):
    # (the control: the check the two mends below bound)
    with pytest.raises(SnmpError) as caught:
        _check(poller, OTHER, b"sw7-new")
    assert caught.value.reason == OTHER_DEVICE
    _check(poller, OTHER, b"sw7")  # the same device at its other address is taken


def test_a_reload_forgets_what_the_preferred_address_answered_as(poller):
    poller.forget_identities()
    _check(poller, OTHER, b"sw7-new")  # taken: nothing to compare with
    assert poller.identities == {}


def test_what_the_preferred_address_answered_as_expires_with_the_label_cache(poller):
    assert poller.identity_ttl_s == poller.cache.ttl_s == 3600.0
    (key, (identity, _when)), = poller.identities.items()
    poller.identities[key] = (identity, time.monotonic() - 3500.0)  # answered within the TTL: kept
    with pytest.raises(SnmpError):
        _check(poller, OTHER, b"sw7-new")
    poller.identities[key] = (identity, time.monotonic() - 3700.0)  # not for longer than the TTL
    _check(poller, OTHER, b"sw7-new")
    assert poller.identities == {}
