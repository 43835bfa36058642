"""What the exporter polls: the modules ``system``, ``interfaces``, ``optics``, ``wifi``, ``lldp``.

A module has two halves. ``prepare`` makes sure its static labels (interface names,
sensor scales, AP names) are known: from the label cache when the agent has not rebooted,
its tables not changed and the TTL not run out, else by walking them once. ``columns``
are what changes and is walked on every scrape, and ``render`` turns whatever rows came
back (all of them, or those that arrived before the budget ran out) into samples. The
interfaces module walks its label columns along with its counters when the cache has
none (one walk, not two: ``columns_to_walk``) and caches them after a complete walk
(``walked``).

Metric names and the snmp_exporter names they replace: docs/metrics.md.
"""

from __future__ import annotations

import hashlib
import marshal
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from exporters.snmp import ber
from exporters.snmp.exposition import Family, escape, text

O = ber.parse_oid

SYS_UPTIME = O("1.3.6.1.2.1.1.3.0")
SYS_NAME = O("1.3.6.1.2.1.1.5.0")
SYS_OBJECT_ID = O("1.3.6.1.2.1.1.2.0")
IF_NUMBER = O("1.3.6.1.2.1.2.1.0")
IF_TABLE_LAST_CHANGE = O("1.3.6.1.2.1.31.1.5.0")
ENT_LAST_CHANGE = O("1.3.6.1.2.1.47.1.4.1.0")
#: fetched in one GET before any module: reachability, reboot and table-change detection
BASE_OIDS = [SYS_UPTIME, SYS_NAME, SYS_OBJECT_ID, IF_NUMBER, IF_TABLE_LAST_CHANGE, ENT_LAST_CHANGE]


#: how far the agent's boot moment (when sysUpTime was 0, on our clock) may seem to move
#: between two scrapes of an agent that did not restart: the base GET's round trip and the
#: drift of the agent's clock within the cache's TTL (0.4 s an hour at 100 ppm)
BOOT_TOLERANCE_S = 10.0


@dataclass
class CacheEntry:
    stamp: Any  # what must not change for the entry to stay valid (e.g. ifNumber, ifTableLastChange); None: nothing tells
    uptime: int | None  # sysUpTime (hundredths of a second) when fetched; None: the agent told none
    fetched: float  # when (monotonic seconds) the agent answered that sysUpTime
    value: Any

    def same_boot(self, uptime: int | None, now: float) -> bool:
        """Whether an agent answering ``uptime`` at ``now`` has not restarted since this
        entry was fetched. A smaller sysUpTime is a restart, and so is one that grew less
        than our clock did: an agent restarted twice within the TTL (a crash loop) is
        scraped with a sysUpTime above the one cached soon after its first start, and its
        interfaces may have been renumbered with ifNumber and an ifTableLastChange of 0
        looking as before. An agent that tells no sysUpTime (its view hides it, or it is no
        number) gives no boot to compare: the stamp and the TTL decide alone (read as 0, its
        "boot moment" moved with our clock and every scrape walked the labels again)."""
        if uptime is None or self.uptime is None:
            return uptime is self.uptime  # unknown both times; one known, one not: refetch once
        return uptime >= self.uptime and abs((now - uptime / 100) - (self.fetched - self.uptime / 100)) \
            <= BOOT_TOLERANCE_S


class LabelCache:
    """Static label tables per (target, profile, module), refreshed on change or TTL."""

    def __init__(self, ttl_s: float = 3600.0, max_entries: int = 100_000):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[tuple, CacheEntry] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple, stamp: Any, uptime: int | None, now: float) -> Any:
        entry = self._entries.get(key)
        if entry is not None and stamp is not None and entry.stamp == stamp and entry.same_boot(uptime, now) \
                and now - entry.fetched < self.ttl_s:
            self.hits += 1
            return entry.value
        self.misses += 1
        return None

    def put(self, key: tuple, stamp: Any, uptime: int | None, now: float, value: Any) -> None:
        if len(self._entries) >= self.max_entries and key not in self._entries:
            self._entries.pop(next(iter(self._entries)))  # oldest first: dicts keep insertion order
        self._entries[key] = CacheEntry(stamp, uptime, now, value)

    def last(self, key: tuple) -> Any:
        """The entry's value whether or not it is still valid (None when there is none):
        labels walked again are compared with it, and reused when nothing changed."""
        entry = self._entries.get(key)
        return entry.value if entry is not None else None

    def drop(self, key: tuple) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class PollContext:
    """One target's scrape: how to reach it, its base values, the shared cache."""

    client: Any  # SnmpClient
    address: tuple[str, int]
    profile: Any  # AuthProfile
    deadline: float
    cache: LabelCache
    base: dict[bytes, ber.VarBind]
    now: float  # when the base GET was answered: sysUpTime's moment on our clock
    slot: Any = None  # client.Slot: let go while the agent makes us wait for a retransmission
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        uptime = self.base_int(SYS_UPTIME, -1)
        #: sysUpTime (hundredths of a second), None when the agent tells none: its view hides
        #: it, or it sent no number or a negative one (TimeTicks are unsigned) (the System
        #: module says which; the label cache then cannot tell a reboot and leaves that to
        #: the stamps and the TTL)
        self.uptime: int | None = uptime if uptime >= 0 else None

    def base_value(self, oid: bytes) -> int | bytes | None:
        """The base GET's value of ``oid`` (:func:`ber.value_of`), None when the agent gave none."""
        vb = self.base.get(oid)
        return ber.value_of(vb[1], vb[2]) if vb is not None else None

    def base_int(self, oid: bytes, default: int = 0) -> int:
        value = self.base_value(oid)
        return value if isinstance(value, int) else default

    async def walk(self, columns: list[bytes]) -> dict[bytes, list[ber.VarBind]]:
        into: dict[bytes, list[ber.VarBind]] = {}
        await self.client.walk_columns(self.address, self.profile, columns, self.deadline, into, self.slot)
        return into

    def lookup(self, module: str, stamp: Any) -> Any:
        """The module's cached labels, or None."""
        return self.cache.get((self.address, self.profile.name, module), stamp, self.uptime, self.now)

    def previous(self, module: str) -> Any:
        """The module's last cached value, valid or not (see :meth:`LabelCache.last`)."""
        return self.cache.last((self.address, self.profile.name, module))

    def store(self, module: str, stamp: Any, value: Any) -> Any:
        self.cache.put((self.address, self.profile.name, module), stamp, self.uptime, self.now, value)
        return value

    async def cached(self, module: str, stamp: Any, load) -> Any:
        value = self.lookup(module, stamp)
        return value if value is not None else self.store(module, stamp, await load())


def _uint(vb: ber.VarBind) -> int:
    _oid, tag, raw = vb
    return int.from_bytes(raw, "big", signed=tag == ber.INTEGER)


class Module:
    name = ""
    columns: list[bytes] = []

    async def prepare(self, ctx: PollContext) -> None:
        """Load static labels (cached); may raise SnmpError."""

    def columns_to_walk(self, ctx: PollContext) -> list[bytes]:
        """``columns``, and label columns the cache lacks (walked along, in lock step)."""
        return self.columns

    async def walked(self, ctx: PollContext, data: dict[bytes, list[ber.VarBind]]) -> None:
        """After a complete walk (never one cut short): keep labels walked along, or walk
        them now when the cached ones do not name what came back; may raise SnmpError."""

    def render(self, ctx: PollContext, data: dict[bytes, list[ber.VarBind]], out: list[Family]) -> None:
        raise NotImplementedError


# ----------------------------------------------------------------------------- system
class SystemModule(Module):
    name = "system"

    def render(self, ctx, data, out):
        uptime = Family("sys_uptime_seconds", "gauge",
                        "Time since the SNMP agent (re)started (SNMPv2-MIB sysUpTime).")
        if ctx.uptime is not None:
            uptime.add("", ctx.uptime / 100)
        elif SYS_UPTIME in ctx.base:
            # read as 0 it was "rebooted a moment ago" on every scrape (NetopsDeviceRebooted)
            value = ctx.base_value(SYS_UPTIME)  # decoded again only for an agent that sent no TimeTicks
            told = value if isinstance(value, int) else f"of tag {ctx.base[SYS_UPTIME][1]:#04x}"
            raise ber.BerError(f"sysUpTime {told} is no number of TimeTicks: no uptime to tell")
        info = Family("sys_info", "gauge", "The agent's sysName and sysObjectID; value 1.")
        if SYS_NAME in ctx.base or SYS_OBJECT_ID in ctx.base:  # not made up for an agent whose view hides both
            _, _, name = ctx.base.get(SYS_NAME, (b"", ber.OCTET_STRING, b""))
            _, tag, object_id = ctx.base.get(SYS_OBJECT_ID, (b"", ber.NULL, b""))
            info.add(f'sys_name="{escape(text(name))}",'
                     f'sys_object_id="{ber.oid_to_str(object_id) if tag == ber.OBJECT_ID else ""}"', 1)
        out += [uptime, info]


# ----------------------------------------------------------------------------- interfaces
IF_DESCR = O("1.3.6.1.2.1.2.2.1.2")
IF_TYPE = O("1.3.6.1.2.1.2.2.1.3")
IF_NAME = O("1.3.6.1.2.1.31.1.1.1.1")
IF_ALIAS = O("1.3.6.1.2.1.31.1.1.1.18")
IF_OPER_STATUS = O("1.3.6.1.2.1.2.2.1.8")  # in ifTable: a row for every interface

# (column, metric name, type, help, multiplier). Device series are named by their MIB area
# (if_, optic_, wifi_, lldp_, sys_) without the netops_ prefix, and the interface is named
# by if_name alone: 800 of a switch's 850 lines a scrape are these (docs/metrics.md, "Naming").
INTERFACE_COLUMNS = [
    (O("1.3.6.1.2.1.31.1.1.1.6"), "if_in_bytes_total", "counter", "ifHCInOctets: octets received.", 1),
    (O("1.3.6.1.2.1.31.1.1.1.10"), "if_out_bytes_total", "counter", "ifHCOutOctets: octets sent.", 1),
    (O("1.3.6.1.2.1.31.1.1.1.7"), "if_in_ucast_packets_total", "counter", "ifHCInUcastPkts.", 1),
    (O("1.3.6.1.2.1.31.1.1.1.11"), "if_out_ucast_packets_total", "counter", "ifHCOutUcastPkts.", 1),
    (O("1.3.6.1.2.1.31.1.1.1.8"), "if_in_mcast_packets_total", "counter", "ifHCInMulticastPkts.", 1),
    (O("1.3.6.1.2.1.31.1.1.1.12"), "if_out_mcast_packets_total", "counter", "ifHCOutMulticastPkts.", 1),
    (O("1.3.6.1.2.1.31.1.1.1.9"), "if_in_bcast_packets_total", "counter", "ifHCInBroadcastPkts.", 1),
    (O("1.3.6.1.2.1.31.1.1.1.13"), "if_out_bcast_packets_total", "counter", "ifHCOutBroadcastPkts.", 1),
    (O("1.3.6.1.2.1.2.2.1.14"), "if_in_errors_total", "counter", "ifInErrors.", 1),
    (O("1.3.6.1.2.1.2.2.1.20"), "if_out_errors_total", "counter", "ifOutErrors.", 1),
    (O("1.3.6.1.2.1.2.2.1.13"), "if_in_discards_total", "counter", "ifInDiscards.", 1),
    (O("1.3.6.1.2.1.2.2.1.19"), "if_out_discards_total", "counter", "ifOutDiscards.", 1),
    (IF_OPER_STATUS, "if_oper_status", "gauge", "ifOperStatus: 1 up, 2 down, 5 dormant, 7 lowerLayerDown.", 1),
    (O("1.3.6.1.2.1.2.2.1.7"), "if_admin_status", "gauge", "ifAdminStatus: 1 up, 2 down, 3 testing.", 1),
    (O("1.3.6.1.2.1.31.1.1.1.15"), "if_speed_bytes", "gauge", "ifHighSpeed in bytes/s (x 125000), as node_exporter.", 125_000),
]


@dataclass
class InterfaceLabels:
    by_index: dict[bytes, str]  # encoded ifIndex -> 'if_name="Gi1/0/3"'
    info_lines: list[str]
    source: bytes = b""  # label_rows_digest of the walked rows they were built from


_tag_of = itemgetter(1)  # of a VarBind, at C speed


def _unnamed(index: bytes) -> str:
    """The label of an interface the label tables do not name (yet): its ifIndex."""
    return f'if_name="#{ber.index_str(index)}"'


def interface_names(indexes: list[bytes], names: dict[bytes, str]) -> dict[bytes, str]:
    """if_name per ifIndex, unique on the device: ifName (ifDescr when the agent has none),
    ``#ifIndex`` when both are empty, ``name#ifIndex`` for every interface sharing a name.
    if_name is the interface's only label on the samples, so it must tell them apart."""
    counts = Counter(names.get(index, "") for index in indexes)
    return {index: name if name and counts[name] == 1 else f"{name}#{ber.index_str(index)}"
            for index in indexes for name in (names.get(index, ""),)}


IF_LABEL_COLUMNS = [IF_NAME, IF_ALIAS, IF_DESCR, IF_TYPE]


def names_every_row(labels: InterfaceLabels, rows: list[ber.VarBind]) -> bool:
    """Whether the labels name every interface of a walked ifTable column."""
    cut, by_index = len(IF_OPER_STATUS), labels.by_index
    return all(oid[cut:] in by_index for oid, _tag, _raw in rows)


def label_rows_digest(data: dict[bytes, list[ber.VarBind]]) -> bytes:
    """A digest of the walked IF_LABEL_COLUMNS, OIDs, tags and octets: equal digests, equal rows.
    marshal (version 2: no back-references) is an exact serialisation made in C, BLAKE2b
    makes it 16 bytes a cache entry can keep."""
    rows = tuple(tuple(data.get(column, ())) for column in IF_LABEL_COLUMNS)
    return hashlib.blake2b(marshal.dumps(rows, 2), digest_size=16).digest()


def interface_labels_of(data: dict[bytes, list[ber.VarBind]], previous: InterfaceLabels | None) -> InterfaceLabels:
    """The labels of walked IF_LABEL_COLUMNS: ``previous`` when they were built from the same
    rows (a label table walked again after its TTL or a table change is nearly always
    unchanged, and rebuilding its ~160 label strings was about 8 % of such a scrape),
    else built anew."""
    source = label_rows_digest(data)
    if previous is not None and previous.source == source:
        return previous
    labels = build_interface_labels(data)
    labels.source = source
    return labels


def build_interface_labels(data: dict[bytes, list[ber.VarBind]]) -> InterfaceLabels:
    """if_name per ifIndex and the if_info lines, from the walked IF_LABEL_COLUMNS."""
    name, alias, descr = ({oid[cut:]: text(raw) for oid, _tag, raw in data.get(column, ())}
                          for column in (IF_NAME, IF_ALIAS, IF_DESCR) for cut in (len(column),))
    cut = len(IF_TYPE)
    kind = {vb[0][cut:]: _uint(vb) for vb in data.get(IF_TYPE, ())}
    indexes = descr.keys() | name.keys()
    # one octet per arc (the usual ifIndex): encoded indexes sort like their numbers
    indexes = sorted(indexes) if b"".join(indexes).isascii() else sorted(indexes, key=ber.decode_subids)
    names = interface_names(indexes, {i: name.get(i) or descr.get(i, "") for i in indexes})
    by_index, info = {}, []
    for index in indexes:
        # interned: switches of one model share their port names, and the cache holds every target's
        labels = by_index[index] = sys.intern(f'if_name="{escape(names[index])}"')
        # an empty label is an absent one to Prometheus; ifDescr only when it says more than the name
        extra = "".join((f',if_type="{kind[index]}"' if index in kind else "",
                         f',if_alias="{escape(alias[index])}"' if alias.get(index) else "",
                         f',if_descr="{escape(descr[index])}"' if descr.get(index, names[index]) != names[index]
                         else ""))
        info.append(sys.intern(f'if_info{{{labels},if_index="{ber.index_str(index)}"{extra}}} 1\n'))
    return InterfaceLabels(by_index, info)


def _interface_stamp(ctx: PollContext) -> tuple[int, int] | None:
    """What must not move for the interface labels to stay valid: ifNumber, ifTableLastChange.
    None (labels walked every scrape, as snmp_exporter does) when the agent has no
    ifTableLastChange: ifNumber alone misses interfaces renumbered, or one gone and one new."""
    if IF_TABLE_LAST_CHANGE not in ctx.base:
        return None
    return ctx.base_int(IF_NUMBER, -1), ctx.base_int(IF_TABLE_LAST_CHANGE, -1)


async def interface_labels(ctx: PollContext) -> InterfaceLabels:
    """ifName/ifAlias/ifDescr/ifType per ifIndex for modules that map to interfaces (optics):
    this scrape's, else cached until ifNumber or ifTableLastChange move, the agent reboots,
    or the TTL runs out, else walked."""
    labels = ctx.notes.get("if_labels")
    if labels is None:
        async def load() -> InterfaceLabels:
            return interface_labels_of(await ctx.walk(IF_LABEL_COLUMNS), ctx.previous("interfaces"))

        labels = ctx.notes["if_labels"] = await ctx.cached("interfaces", _interface_stamp(ctx), load)
    return labels


class InterfacesModule(Module):
    name = "interfaces"
    columns = [column for column, *_ in INTERFACE_COLUMNS]

    async def prepare(self, ctx):
        if ctx.notes.get("if_labels") is None:  # optics, asked for first, may have loaded them
            ctx.notes["if_labels"] = ctx.lookup("interfaces", _interface_stamp(ctx))

    def columns_to_walk(self, ctx):
        # a cold cache costs the label columns in the counters' GETBULKs (19 columns, ~11
        # requests for 53 interfaces), not a walk of their own before them (3 + 9)
        return self.columns if ctx.notes["if_labels"] is not None else self.columns + IF_LABEL_COLUMNS

    async def walked(self, ctx, data):
        labels: InterfaceLabels | None = ctx.notes["if_labels"]
        if labels is not None and not names_every_row(labels, data.get(IF_OPER_STATUS, ())):
            # an agent that added or renumbered interfaces without moving ifTableLastChange
            # (or rebooting): the cached names would label another port's counters
            ctx.notes["if_labels"] = None
            data.update(await ctx.walk(IF_LABEL_COLUMNS))
        if ctx.notes["if_labels"] is None:
            ctx.notes["if_labels"] = ctx.store("interfaces", _interface_stamp(ctx),
                                               interface_labels_of(data, ctx.previous("interfaces")))

    def render(self, ctx, data, out):
        # labels of a walk cut short name what came back, and are not cached
        labels: InterfaceLabels = ctx.notes.get("if_labels") or build_interface_labels(data)
        by_index = labels.by_index
        info = Family("if_info", "gauge", "ifIndex, ifType, ifAlias, ifDescr (when not the name) by if_name; value 1.")
        info.lines.extend(labels.info_lines)
        out.append(info)
        to_int = int.from_bytes  # big-endian and unsigned by default: positional calls are cheaper
        for column, metric, kind, help_text, factor in INTERFACE_COLUMNS:
            family = Family(metric, kind, help_text)
            cut = len(column)
            head = metric + "{"
            rows = data.get(column, ())
            if factor == 1 and ber.INTEGER not in map(_tag_of, rows):
                # counters and gauges: ~800 lines a scrape, the hottest loop after decoding
                family.lines = [f"{head}{by_index.get(oid[cut:]) or _unnamed(oid[cut:])}}} {to_int(raw)}\n"
                                for oid, _tag, raw in rows]
            else:
                family.lines = [f"{head}{by_index.get(oid[cut:]) or _unnamed(oid[cut:])}}} "
                                f"{to_int(raw, signed=tag == ber.INTEGER) * factor}\n"
                                for oid, tag, raw in rows]
            out.append(family)


# ----------------------------------------------------------------------------- optics
SENSOR_TYPE = O("1.3.6.1.2.1.99.1.1.1.1")
SENSOR_SCALE = O("1.3.6.1.2.1.99.1.1.1.2")
SENSOR_PRECISION = O("1.3.6.1.2.1.99.1.1.1.3")
SENSOR_VALUE = O("1.3.6.1.2.1.99.1.1.1.4")
SENSOR_OPER_STATUS = O("1.3.6.1.2.1.99.1.1.1.5")
ENT_PHYSICAL_NAME = O("1.3.6.1.2.1.47.1.1.1.1.7")
ENT_CONTAINED_IN = O("1.3.6.1.2.1.47.1.1.1.1.4")
ENT_ALIAS_MAPPING = O("1.3.6.1.2.1.47.1.3.2.1.2")
IF_INDEX_COLUMN = O("1.3.6.1.2.1.2.2.1.1")
# EntitySensorDataType
WATTS, AMPERES, VOLTS_DC, CELSIUS, DBM = 6, 5, 4, 8, 14


@dataclass
class Sensor:
    metric: str  # family name
    exponent: int  # value = raw * 10**exponent (scale and precision folded)
    to_dbm: bool  # a watts sensor reported as dBm
    labels: str


def sensor_metric(sensor_type: int, name: str) -> tuple[str, bool] | None:
    lowered = name.lower()
    if sensor_type in (DBM, WATTS):
        if "rx" in lowered or "receive" in lowered:
            return "optic_rx_power_dbm", sensor_type == WATTS
        if "tx" in lowered or "transmit" in lowered:
            return "optic_tx_power_dbm", sensor_type == WATTS
        return None
    return {CELSIUS: ("optic_temperature_celsius", False),
            AMPERES: ("optic_bias_current_amperes", False),
            VOLTS_DC: ("optic_supply_voltage_volts", False)}.get(sensor_type)


OPTIC_FAMILIES = {
    "optic_rx_power_dbm": "Optical receive power (ENTITY-SENSOR-MIB, scaled by the sensor's scale and precision).",
    "optic_tx_power_dbm": "Optical transmit power.",
    "optic_temperature_celsius": "Transceiver temperature.",
    "optic_bias_current_amperes": "Laser bias current.",
    "optic_supply_voltage_volts": "Transceiver supply voltage.",
}


@dataclass
class OpticLabels:
    sensors: dict[bytes, Sensor]  # the optic sensors, by sensor index
    indexes: frozenset[bytes]  # every sensor index walked, optic or not: another set, other transceivers
    unreadable: dict[bytes, tuple[str, str]] = field(default_factory=dict)  # index -> (labels, reason)


#: EntitySensorValue (ENTITY-SENSOR-MIB): what a reading may be
SENSOR_VALUE_RANGE = range(-1_000_000_000, 1_000_000_001)


def _optics_stamp(ctx: PollContext, if_labels: InterfaceLabels) -> tuple[int, bytes] | None:
    """What must not move for the optics labels to stay valid: entLastChangeTime (any
    transceiver inserted, removed or replaced) and the interface names they carry. None
    (walked every scrape, as snmp_exporter does) when the agent has no entLastChangeTime:
    a transceiver replaced on the same ifIndex leaves ifNumber where it was."""
    if ENT_LAST_CHANGE not in ctx.base:
        return None
    return ctx.base_int(ENT_LAST_CHANGE), if_labels.source


class OpticsModule(Module):
    """ENTITY-SENSOR-MIB sensors of transceivers, mapped to interfaces through the
    ENTITY-MIB alias mapping of the sensor or the port entity that contains it."""

    name = "optics"
    columns = [SENSOR_VALUE, SENSOR_OPER_STATUS]

    async def prepare(self, ctx):
        if_labels = await interface_labels(ctx)
        ctx.notes["optics_stamp"] = stamp = _optics_stamp(ctx, if_labels)
        ctx.notes["optics"] = await ctx.cached("optics", stamp, lambda: self._load(ctx, if_labels))

    async def walked(self, ctx, data):
        labels: OpticLabels = ctx.notes["optics"]
        cut = len(SENSOR_VALUE)
        if {oid[cut:] for oid, _tag, _raw in data.get(SENSOR_VALUE, ())} != labels.indexes:
            # sensors come and go: a transceiver inserted or pulled behind an entLastChangeTime that did not move
            ctx.notes["optics"] = ctx.store("optics", ctx.notes["optics_stamp"],
                                            await self._load(ctx, await interface_labels(ctx)))

    @staticmethod
    async def _load(ctx: PollContext, if_labels: InterfaceLabels) -> OpticLabels:
        data = await ctx.walk([SENSOR_TYPE, SENSOR_SCALE, SENSOR_PRECISION])
        ent = await ctx.walk([ENT_PHYSICAL_NAME, ENT_CONTAINED_IN])
        alias = await ctx.walk([ENT_ALIAS_MAPPING])

        def by_index(rows, column):
            return {vb[0][len(column):]: vb for vb in rows.get(column, [])}

        types, scales, precisions = (by_index(data, c) for c in (SENSOR_TYPE, SENSOR_SCALE, SENSOR_PRECISION))
        names, parents = by_index(ent, ENT_PHYSICAL_NAME), by_index(ent, ENT_CONTAINED_IN)
        if_of_entity = {}
        for oid, tag, raw in alias.get(ENT_ALIAS_MAPPING, []):
            entity = ber.decode_subids(oid[len(ENT_ALIAS_MAPPING):])[0]
            if tag == ber.OBJECT_ID and raw.startswith(IF_INDEX_COLUMN):
                if_of_entity[entity] = raw[len(IF_INDEX_COLUMN):]
        sensors, unreadable = {}, {}
        for index, type_vb in types.items():
            entity = ber.decode_subids(index)[0]
            name = text(names[index][2]) if index in names else ""
            chosen = sensor_metric(_uint(type_vb), name)
            if chosen is None:
                continue
            if_index, hop = None, entity
            for _ in range(3):  # sensor, its port, the port's container
                if hop in if_of_entity:
                    if_index = if_of_entity[hop]
                    break
                parent = parents.get(ber.encode_arcs((hop,))) if hop else None
                # entPhysicalContainedIn is 0..2147483647: a negative one is no container
                # (encoding it as an index raised ValueError and failed the whole scrape)
                hop = max(0, _uint(parent)) if parent else 0
            scale = _uint(scales[index]) if index in scales else 9
            precision = _uint(precisions[index]) if index in precisions else 0
            iface = (if_labels.by_index.get(if_index) or _unnamed(if_index)) if if_index else 'if_name=""'
            labels = f'{iface},sensor="{escape(name)}"'
            if not (1 <= scale <= 17 and -8 <= precision <= 9):
                # ENTITY-SENSOR-MIB's ranges: beyond them this sensor's reading means nothing
                # (10.0 ** exponent overflowed); the other transceivers' readings still do
                unreadable[index] = (labels, "scale_out_of_range")
                continue
            sensors[index] = Sensor(chosen[0], 3 * (scale - 9) - precision, chosen[1], labels)
        return OpticLabels(sensors, frozenset(types), unreadable)

    def render(self, ctx, data, out):
        labels: OpticLabels | None = ctx.notes.get("optics")
        sensors = labels.sensors if labels is not None else {}
        families = {name: Family(name, "gauge", help_text) for name, help_text in OPTIC_FAMILIES.items()}
        unreadable = Family("netops_snmp_sensor_unreadable", "gauge",
                            "An optic sensor whose reading is left out, and why (value 1, label reason).")
        bad = dict(labels.unreadable) if labels is not None else {}
        ok = {vb[0][len(SENSOR_OPER_STATUS):] for vb in data.get(SENSOR_OPER_STATUS, ()) if _uint(vb) == 1}
        for vb in data.get(SENSOR_VALUE, ()):
            index = vb[0][len(SENSOR_VALUE):]
            sensor = sensors.get(index)
            if sensor is None or index not in ok:
                continue  # not an optic sensor (or one unreadable), or its reading is unavailable/nonoperational
            raw = _uint(vb)
            if vb[1] != ber.INTEGER or raw not in SENSOR_VALUE_RANGE:
                bad[index] = (sensor.labels, "value_out_of_range")  # no EntitySensorValue: not a reading
                continue
            value = raw * 10.0 ** sensor.exponent
            if sensor.to_dbm:
                if value <= 0:  # no power in dBm: a watts sensor reading 0 (no light) or less
                    bad[index] = (sensor.labels, "no_power_in_dbm")
                    continue
                value = 10 * math.log10(value * 1000)
            families[sensor.metric].add(sensor.labels, round(value, 6))
        for sensor_labels, reason in bad.values():
            unreadable.add(f'{sensor_labels},reason="{reason}"', 1)
        out += families.values()
        out.append(unreadable)


# ----------------------------------------------------------------------------- wifi
@dataclass(frozen=True)
class WifiMib:
    """One vendor's wireless tables, all of the same shape: SSID name and client count
    by SSID index; AP name by AP MAC (6 arcs); clients by (AP MAC, radio)."""

    name: str
    ssid_name: bytes
    ssid_clients: bytes
    ap_name: bytes
    radio_clients: bytes


WIFI_MIBS = (
    # AIRESPACE-WIRELESS-MIB: Cisco WLCs and Catalyst 9800 (bsnDot11EssSsid,
    # bsnDot11EssNumberOfMobileStations, bsnAPName, bsnApIfNoOfUsers)
    WifiMib("airespace", O("1.3.6.1.4.1.14179.2.1.1.1.2"), O("1.3.6.1.4.1.14179.2.1.1.1.38"),
            O("1.3.6.1.4.1.14179.2.2.1.1.3"), O("1.3.6.1.4.1.14179.2.2.2.1.15")),
    # AI-AP-MIB: Aruba Instant / AOS 8.4+ APs (aiSSID, aiSSIDClientNum, aiAPName, aiRadioClientNum)
    WifiMib("aruba_instant", O("1.3.6.1.4.1.14823.2.3.3.1.1.7.1.2"), O("1.3.6.1.4.1.14823.2.3.3.1.1.7.1.4"),
            O("1.3.6.1.4.1.14823.2.3.3.1.2.1.1.2"), O("1.3.6.1.4.1.14823.2.3.3.1.2.2.1.21")),
)


def _mac(index: bytes) -> str:
    return ":".join(f"{arc:02x}" for arc in ber.decode_subids(index))


class WifiModule(Module):
    """Clients per SSID and per AP from whichever vendor MIB the agent serves: the walk of
    an absent table ends after one varbind, so asking for all of them is cheap."""

    name = "wifi"
    columns = [column for mib in WIFI_MIBS for column in (mib.ssid_clients, mib.radio_clients)]

    async def prepare(self, ctx):
        async def load():
            data = await ctx.walk([column for mib in WIFI_MIBS for column in (mib.ssid_name, mib.ap_name)])
            ssids, aps = {}, {}
            for mib in WIFI_MIBS:
                for oid, _tag, raw in data[mib.ssid_name]:
                    ssids[(mib.name, oid[len(mib.ssid_name):])] = f'ssid="{escape(text(raw))}"'
                for oid, _tag, raw in data[mib.ap_name]:
                    index = oid[len(mib.ap_name):]
                    aps[(mib.name, index)] = f'ap_name="{escape(text(raw))}",ap_mac="{_mac(index)}"'
            return ssids, aps

        # APs join and leave a controller: a short TTL on top of reboot detection
        ctx.notes["wifi"] = await ctx.cached("wifi", int(ctx.now // 300), load)

    def render(self, ctx, data, out):
        ssids, aps = ctx.notes.get("wifi") or ({}, {})
        per_ssid = Family("wifi_ssid_clients", "gauge", "Associated clients per SSID.")
        per_ap_family = Family("wifi_ap_clients", "gauge", "Associated clients per access point, all radios.")
        for mib in WIFI_MIBS:
            for vb in data.get(mib.ssid_clients, ()):
                index = vb[0][len(mib.ssid_clients):]
                per_ssid.add(ssids.get((mib.name, index)) or f'ssid="#{ber.index_str(index)}"', _uint(vb))
            per_ap: dict[bytes, int] = {}
            for vb in data.get(mib.radio_clients, ()):
                mac_index = ber.encode_arcs(ber.decode_subids(vb[0][len(mib.radio_clients):])[:6])
                per_ap[mac_index] = per_ap.get(mac_index, 0) + _uint(vb)
            for mac_index, clients in per_ap.items():
                per_ap_family.add(aps.get((mib.name, mac_index)) or f'ap_name="",ap_mac="{_mac(mac_index)}"', clients)
        out += [per_ssid, per_ap_family]


# ----------------------------------------------------------------------------- lldp
LLDP_REM_CHASSIS_ID = O("1.0.8802.1.1.2.1.4.1.1.5")
LLDP_REM_PORT_ID = O("1.0.8802.1.1.2.1.4.1.1.7")
LLDP_REM_SYS_NAME = O("1.0.8802.1.1.2.1.4.1.1.9")
LLDP_LOC_PORT_DESC = O("1.0.8802.1.1.2.1.3.7.1.4")


class LldpModule(Module):
    """LLDP-MIB neighbours (remote table, index timeMark.localPortNum.remIndex)."""

    name = "lldp"
    columns = [LLDP_REM_SYS_NAME, LLDP_REM_PORT_ID, LLDP_REM_CHASSIS_ID, LLDP_LOC_PORT_DESC]

    def render(self, ctx, data, out):
        local = {ber.decode_subids(oid[len(LLDP_LOC_PORT_DESC):])[0]: text(raw)
                 for oid, _tag, raw in data.get(LLDP_LOC_PORT_DESC, ())}
        port_ids = {oid[len(LLDP_REM_PORT_ID):]: text(raw) for oid, _tag, raw in data.get(LLDP_REM_PORT_ID, ())}
        chassis = {oid[len(LLDP_REM_CHASSIS_ID):]: text(raw) for oid, _tag, raw in data.get(LLDP_REM_CHASSIS_ID, ())}
        family = Family("lldp_neighbor_info", "gauge", "An LLDP neighbour seen on a local port; value 1.")
        for oid, _tag, raw in data.get(LLDP_REM_SYS_NAME, ()):
            index = oid[len(LLDP_REM_SYS_NAME):]
            arcs = ber.decode_subids(index)
            port_num = arcs[1] if len(arcs) > 1 else 0
            family.add(f'local_port_num="{port_num}",local_port="{escape(local.get(port_num, ""))}",'
                       f'remote_sys_name="{escape(text(raw))}",remote_port_id="{escape(port_ids.get(index, ""))}",'
                       f'remote_chassis_id="{escape(chassis.get(index, ""))}"', 1)
        out.append(family)


MODULES: dict[str, Module] = {m.name: m for m in (SystemModule(), InterfacesModule(), OpticsModule(),
                                                  WifiModule(), LldpModule())}
