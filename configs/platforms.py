"""What netops knows about each platform (netmiko ``device_type``).

Adding a platform means one entry here, plus compliance rules in ``configs/rules/``.
Neighbour commands are parsed with ntc-templates (TextFSM), whose field names differ
per template; ``port_field`` names the field holding the *neighbour's port id* (not its
port description, which LLDP templates call ``neighbor_interface`` on Cisco IOS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netops.errors import NetopsError


@dataclass(frozen=True)
class NeighbourCommand:
    protocol: str  # "lldp" or "cdp"
    command: str
    port_field: str


@dataclass(frozen=True)
class Dialect:
    """What a platform's grammar puts after a plain-text value that has no encoding in front
    of it (`username u password ab 9 w3tail`), as ``configs.scrub`` reads it. The default is
    IOS' (to the line's end, numbers and brackets included), also for a device of no known
    platform: only a grammar that has the syntax may read it as syntax (deny by default)."""

    #: the opening brackets that, where a value stands or after it, open a block or group
    #: (Junos `password {`, `[ a b ]`); any other is a value's character (IOS `enable password {`,
    #: `password ( ab )`; Junos has no `(`)
    brackets: str = ""
    #: a number after a plain value is syntax (Huawei `... simple V 1 root 1 4 english`);
    #: elsewhere it is part of the value (IOS allows blanks and digits in it)
    numbers_after_value: bool = False


IOS_GRAMMAR = Dialect()
JUNOS_GRAMMAR = Dialect(brackets="{[")
HUAWEI_GRAMMAR = Dialect(numbers_after_value=True)


@dataclass(frozen=True)
class Platform:
    device_type: str
    config_command: str
    neighbour_commands: tuple[NeighbourCommand, ...] = ()
    #: the config syntax the compliance rules of this platform read (``configs.audit``
    #: refuses to audit a config not in it): "ios", "procurve", "junos-set" or None
    syntax: str | None = None
    #: how the scrubber reads a plain secret's end here (every platform names its own)
    dialect: Dialect = field(kw_only=True)


_IOS = dict(
    config_command="show running-config",
    syntax="ios",
    dialect=IOS_GRAMMAR,
    neighbour_commands=(
        NeighbourCommand("lldp", "show lldp neighbors detail", "neighbor_port_id"),
        NeighbourCommand("cdp", "show cdp neighbors detail", "neighbor_interface"),
    ),
)
_PROCURVE = dict(
    config_command="show running-config",
    syntax="procurve",
    dialect=IOS_GRAMMAR,
    neighbour_commands=(
        NeighbourCommand("lldp", "show lldp info remote-device detail", "neighbor_interface"),
    ),
)

PLATFORMS: dict[str, Platform] = {
    "cisco_ios": Platform("cisco_ios", **_IOS),
    "cisco_xe": Platform("cisco_xe", **_IOS),
    "hp_procurve": Platform("hp_procurve", **_PROCURVE),
    "aruba_procurve": Platform("aruba_procurve", **_PROCURVE),
    # set format is one line per statement: diffs and line rules work as for IOS
    "juniper_junos": Platform(
        "juniper_junos",
        config_command="show configuration | display set",
        syntax="junos-set",
        neighbour_commands=(NeighbourCommand("lldp", "show lldp neighbors", "neighbor_interface"),),
        dialect=JUNOS_GRAMMAR,
    ),
    "aruba_os": Platform("aruba_os", config_command="show running-config", dialect=IOS_GRAMMAR),
    # the PON's OLTs (Huawei SmartAX MA5600T/MA5800); their ciphertexts and `simple` values
    # are in the scrubber's vocabulary (tests/ssh/corpus/*-huawei_olt.txt). No LLDP towards
    # the access network, no compliance rules yet: backup, diff and scrubbing only.
    "huawei_olt": Platform("huawei_olt", config_command="display current-configuration", dialect=HUAWEI_GRAMMAR),
}


class UnsupportedPlatform(NetopsError):
    pass


def platform_of(device_type: str) -> Platform:
    try:
        return PLATFORMS[device_type]
    except KeyError:
        raise UnsupportedPlatform(
            f"platform {device_type!r} is not supported for config work "
            f"(supported: {', '.join(sorted(PLATFORMS))})"
        ) from None
