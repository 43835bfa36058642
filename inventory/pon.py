"""The PON's rules across rows, checked on import before anything is written.

A single row's rules (a ratio of 1:2..1:64, a port number, units >= 0) live on the models
(``inventory/models/access.py``). These need the rows around it, stored or in the same
import (an imported row replaces the stored row of the same code)::

    OLT port gk-popn-olt1 pon0/1 (device role olt, at a PoP)   one first-stage splitter
      └─ SPL-A 1:8 in cabinet C-7 (cabinet or closure node)    feeder strand <= cable strands
           ├─ port 1: SPL-B 1:32 (parent SPL-A, parent_port 1)  port <= parent's ratio;
           │    └─ port 17: ONT-12 in building B-4, 12 units    each port feeds one thing;
           └─ port 2: ONT-13 in building B-4, 6 units           the cascade never loops;
                                                                a building's connections
                                                                serve <= its units;
                                                                a feeder/drop strand
                                                                carries nothing else
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from netops.errors import RowProblem

if TYPE_CHECKING:
    from inventory.entities import EntityKind
    from inventory.store import KeyIndex, SourceRow

CheckedRow = tuple["SourceRow", dict[str, Any]]  # where the row came from, its resolved db row
Users = dict[tuple, list[tuple["SourceRow | None", str]]]  # a port or strand -> what uses it

PON_NODE_KINDS = ("cabinet",)  # a splitter sits in a cabinet, or in a splice closure's node


def _rows_by_id(index: KeyIndex, kind: str) -> dict[Any, dict[str, Any]]:
    index.ensure(kind)
    return {row["id"]: row for row in index.rows[kind].values()}


def _overlay(index: KeyIndex, kind: str, rows: list[CheckedRow]) -> list[tuple[SourceRow | None, dict]]:
    """The kind's rows as they will be: stored rows, each replaced by the imported row of
    the same code (which takes the stored id); new rows have id None."""
    merged: dict[Any, tuple[SourceRow | None, dict]] = {
        row["code"]: (None, row) for row in index.rows[kind].values()}
    for source, row in rows:
        stored = merged.get(row["code"], (None, {}))[1]
        merged[row["code"]] = (source, {**row, "id": stored.get("id")})
    return list(merged.values())


def _port_users(splitters: list[tuple[SourceRow | None, dict]],
                onts: list[tuple[SourceRow | None, dict]]) -> Users:
    """(splitter id, port) -> what hangs on it: cascaded splitters and connections."""
    users: Users = defaultdict(list)
    for source, row in splitters:
        if row["parent_id"] is not None:
            users[(row["parent_id"], row["parent_port"])].append((source, f"splitter {row['code']}"))
    for source, row in onts:
        users[(row["splitter_id"], row["splitter_port"])].append((source, f"residential_connection {row['code']}"))
    return users


def _taken(on: list[tuple[SourceRow | None, str]]) -> Iterator[tuple[SourceRow, str | None]]:
    """Each imported row among the users of one port (or strand), with what has it already:
    a stored row, or an earlier row of the import; None when it is the first."""
    for i, (source, _) in enumerate(on):
        if source is not None:
            others = [what for j, (s, what) in enumerate(on) if j < i or (j > i and s is None)]
            yield source, others[0] if others else None


@dataclass(frozen=True)
class _Slots:
    """Numbered slots of one kind of row (a splitter's ports, a cable's strands): how many a
    row has (``size`` column) and how to say that a slot is missing or taken."""

    owners: dict[Any, dict[str, Any]]  # id -> row
    size: str
    missing: str  # formatted with the owner's columns and ``number``
    taken: str  # ... and ``other``, what has the slot already


PORTS = ("ratio", "splitter {code} is 1:{ratio}: ports 1..{ratio}",
         "port {number} of splitter {code} already feeds {other}: one thing per splitter port")
STRANDS = ("strands", "cable {code} has {strands} strands", "strand {number} of cable {code} already carries {other}")


def _slot_problems(users: Users, slots: _Slots, field_name: str) -> list[RowProblem]:
    """An imported row on a slot its owner lacks, or on a slot something else has."""
    problems = []
    for (owner_id, number), on_slot in users.items():
        owner = slots.owners.get(owner_id)
        if owner is None:  # a row this import could not write: already reported
            continue
        for source, other in _taken(on_slot):
            reason = slots.missing if number > owner[slots.size] else slots.taken if other else None
            if reason:
                problems.append(RowProblem(source.file, source.row, field_name, str(number),
                                           reason.format(**owner, number=number, other=other)))
    return problems


def _strand_problems(index: KeyIndex, splitters: list[tuple[SourceRow | None, dict]],
                     onts: list[tuple[SourceRow | None, dict]], field_name: str) -> list[RowProblem]:
    """An imported feeder or drop on a strand its cable lacks, or on a strand that a link,
    another feeder or another drop already uses."""
    index.ensure("link_hop")
    users: Users = defaultdict(list)
    for hop in index.rows["link_hop"].values():
        link = "/".join(map(str, index.by_id["link"].get(hop["link_id"], ())))
        for strand in (hop["strand_a"], hop["strand_b"]):
            users[(hop["cable_id"], strand)].append((None, f"link {link}"))
    for rows, end in ((splitters, "feeder"), (onts, "drop")):
        for source, row in rows:
            if row[f"{end}_cable_id"] is not None:
                what = "splitter" if end == "feeder" else "residential_connection"
                users[(row[f"{end}_cable_id"], row[f"{end}_strand"])].append(
                    (source, f"the {end} of {what} {row['code']}"))
    return _slot_problems(users, _Slots(_rows_by_id(index, "cable"), *STRANDS), field_name)


def check_olt_ports(entity: EntityKind, index: KeyIndex, rows: list[CheckedRow]) -> list[RowProblem]:
    """An OLT port is an interface of a device with role ``olt`` at a PoP (a core site)."""
    interfaces, devices, sites = (_rows_by_id(index, k) for k in ("interface", "device", "site"))
    problems = []
    for source, row in rows:
        interface = interfaces.get(row["interface_id"])
        if interface is None:  # an interface this import could not write: already reported
            continue
        device = devices[interface["device_id"]]
        site = sites[device["site_id"]]
        if str(device["role"]) != "olt" or str(site["kind"]) != "core":
            problems.append(RowProblem(source.file, source.row, "device", device["name"],
                                       f"an OLT port is on a device with role olt at a PoP; this is a "
                                       f"{device['role']} at {site['kind']} site {site['code']}"))
    return problems


def check_splitters(entity: EntityKind, index: KeyIndex, rows: list[CheckedRow]) -> list[RowProblem]:
    nodes = _rows_by_id(index, "route_node")
    closure_nodes = {row["node_id"] for row in _rows_by_id(index, "closure").values()}
    index.ensure("residential_connection")
    splitters = _overlay(index, "splitter", rows)
    by_id = {row["id"]: row for _, row in splitters if row["id"] is not None}
    problems = []
    feeds: dict[Any, list[tuple[SourceRow | None, dict]]] = defaultdict(list)
    olt_ports = _rows_by_id(index, "olt_port")  # not those this import could not write
    for source, row in splitters:
        if row["olt_port_id"] in olt_ports:
            feeds[row["olt_port_id"]].append((source, row))
    for source, row in ((s, r) for s, r in splitters if s is not None):  # this import's, with ids
        node = nodes.get(row["node_id"])  # None: a node this import could not write
        if node and str(node["kind"]) not in PON_NODE_KINDS and row["node_id"] not in closure_nodes:
            problems.append(RowProblem(source.file, source.row, "node", node["code"],
                                       f"a splitter sits in a cabinet or a splice closure; route node "
                                       f"{node['code']} is a {node['kind']} without a closure"))
        if row["olt_port_id"] is not None and len(feeds[row["olt_port_id"]]) > 1:
            others = [r["code"] for _, r in feeds[row["olt_port_id"]] if r["code"] != row["code"]]
            port_name = "/".join(map(str, index.by_id["olt_port"].get(row["olt_port_id"], ())))
            problems.append(RowProblem(source.file, source.row, "olt_interface", port_name,
                                       f"the OLT port already feeds splitter {others[0]}: one first-stage "
                                       f"splitter per PON port (cascade further splitters on its ports)"))
        loop = _loop(row, by_id)
        if loop:
            problems.append(RowProblem(source.file, source.row, "parent", by_id[row["parent_id"]]["code"],
                                       f"the cascade loops: {' -> '.join(loop)}"))
    onts = [(None, row) for row in index.rows["residential_connection"].values()]
    problems.extend(_slot_problems(_port_users(splitters, onts), _Slots(by_id, *PORTS), "parent_port"))
    problems.extend(_strand_problems(index, splitters, onts, "feeder_strand"))
    return problems


def _loop(row: dict, by_id: dict[Any, dict]) -> list[str] | None:
    """The codes around a cascade that leads back to ``row`` (only a stored splitter, which
    others can already hang on, can close a loop)."""
    if row["id"] is None:
        return None
    seen, path, here = {row["id"]}, [row["code"]], row
    while here["parent_id"] is not None and here["parent_id"] in by_id:
        here = by_id[here["parent_id"]]
        path.append(here["code"])
        if here["id"] in seen:
            return path
        seen.add(here["id"])
    return None


def check_residential(entity: EntityKind, index: KeyIndex, rows: list[CheckedRow]) -> list[RowProblem]:
    buildings = _rows_by_id(index, "building")
    splitter_rows = [(None, row) for row in index.rows["splitter"].values()]
    splitters_by_id = {row["id"]: row for _, row in splitter_rows}
    onts = _overlay(index, "residential_connection", rows)
    problems = _slot_problems(_port_users(splitter_rows, onts), _Slots(splitters_by_id, *PORTS), "splitter_port")
    problems.extend(_strand_problems(index, splitter_rows, onts, "drop_strand"))
    served: dict[Any, int] = defaultdict(int)
    for _, row in onts:
        served[row["building_id"]] += row["units"]
    for source, row in rows:
        building = buildings.get(row["building_id"])
        if building is not None and served[row["building_id"]] > building["residential_units"]:
            problems.append(RowProblem(source.file, source.row, "units", str(row["units"]),
                                       f"building {building['code']} has {building['residential_units']} "
                                       f"residential units; its connections would serve "
                                       f"{served[row['building_id']]}"))
    return problems
