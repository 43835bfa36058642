"""Planning for customers: a residential building onto the PON, a company on its own
fibre, and a whole area's homes passed, with the cost per home passed.

A building is connected the way the PON is built (``inventory/models/access.py``)::

    OLT port ─feeder─▶ splitter ──port──drop cable──▶ building entry, one ONT per ≤ 24 homes

1. **A free port of an existing splitter**: every drop splitter (one that feeds homes;
   a distribution splitter's ports are kept for further splitters) within drop reach
   (the building's cheapest drop over the candidate network: free ducts of existing
   trenches first, a new trench only where there is none, priced) that can take the
   building's ONTs (a free port each, at most 1:64 ONTs on its OLT port) with the power
   budget per ONT holding the planning margin; the cheapest wins. The budget is the PON audit's
   (``topology.pon.path_loss``: splitter cascade + fibre + splices + connectors).
2. Else **a new splitter** at one of the plant nodes nearest the building (in the
   closure there, or a new one), fed from a free port of an existing splitter (a
   cascade, at most 1:64 in all), a spare OLT port, or a new port on an OLT with room
   left, over a spare strand of an existing cable between the two closures, a new feeder
   cable routed like the drop, or a patch when both sit in one closure; the cheapest
   feasible combination wins.

An **area plan** passes every building of some Stadtteile (or inside a GeoJSON polygon)
whose homes are not all passed yet, building after building in street order with the
same rule: the first building of a street gets a new splitter, its neighbours fill that
splitter's free ports while their drops stay within reach. Trenches one drop digs are
free for the next, a closure opened once is opened. Cost per home passed = the plan's
total / the homes (residential units) it passes; each building's share is its marginal
cost, and the shares add up to the total.

A **company** gets a point-to-point fibre to a PoP: the site planner's route
(``planning.connect``, spare strands first), two disjoint ones for a gold SLA
(``--redundant`` planning). The model has no device at the customer's premises, so the
connection is recorded on the PoP switch its fibre lands on, the cable from the
building's entry closure to the PoP carrying it.

Every plan is a change set (``planning.changeset``): new rows planned with the plan's id
(splitters, OLT ports, ONTs, closures, cables, trenches), a free duct taken in each
existing trench used; a splitter port or strand a draft plan uses is not offered again.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Hashable, Iterable

from sqlmodel import Session, select

from inventory.models import (
    Building, BusinessConnection, Device, DeviceRole, Interface, InterfaceKind, NodeKind, OltPort,
    ResidentialConnection, RouteNode, Site, SpliceClosure, Splitter, Status,
)
from inventory.models.access import (
    NTU_MODEL, NTU_PLATFORM, NTU_VENDOR, POWER_BUDGET_DB, BusinessAccess, ServiceClass, TakeUp,
)
from netops.errors import InputError, NetopsError, NotFoundError, RowProblem
from netops.optics import DEFAULT_MIN_MARGIN_DB, joints_for
from netops.textfile import read_json
from netops.vocabulary import did_you_mean
from planning.changeset import SOURCE, save_plan
from planning.connect import (
    CABLE_KINDS, BomLine, ConnectPlan, SiteSpec, bom_dicts, bom_total, civil_metres, plan_connection,
)
from planning.context import NetworkOptions, load_network
from planning.loss_budget import optics_for_rate, optics_from_inventory
from planning.network import EXISTING, OWN_ENTRY, STRAND, CandidateNetwork, Node
from planning.routing import Route, make_leg
from topology.network import Network
from topology.pon import MAX_SPLIT, Pon, path_loss
from topology.rows import load_inventory

#: access equipment the price tables do not carry (yet): netops' planning figures (2024, installed,
#: excluding VAT), named in every plan's summary (``access_prices``)
SPLITTER_EUR = {2: 35.0, 4: 45.0, 8: 60.0, 16: 90.0, 32: 140.0, 64: 220.0}  # PLC module, spliced in a tray
OLT_PORT_EUR = 650.0  # a GPON port's share of a line card and its SFP (B+ and C+ alike)
ONT_EUR = 120.0  # an FTTB ONT in the basement, installed
OLT_PORTS_PER_OLT = 112  # Huawei MA5800-X7: 7 service slots x 16 GPON ports
ONT_UNITS = 24  # homes behind one ONT at most (a stairwell's worth, as the generated city has)
CASCADE_RATIOS = (16, 8, 4)  # a new splitter on a free port: the largest the cascade and budget allow
FIRST_STAGE_RATIOS = (32, 16, 8)  # a new splitter on an OLT port
DEFAULT_MAX_DROP_M = 500.0
DEFAULT_MAX_FEEDER_M = 6000.0
DEFAULT_PLACEMENTS = 6  # plant nodes nearest a building tried for a new splitter


class NoAccessError(NetopsError):
    """A building cannot be put on the PON: nothing within reach, or no OLT capacity."""


@dataclass(frozen=True)
class AccessOptions:
    network: NetworkOptions = field(default_factory=NetworkOptions)
    max_drop_m: float = DEFAULT_MAX_DROP_M
    max_feeder_m: float = DEFAULT_MAX_FEEDER_M
    min_margin_db: float = DEFAULT_MIN_MARGIN_DB
    max_olt_ports: int = OLT_PORTS_PER_OLT
    take_up: TakeUp = TakeUp.PASSED
    placements: int = DEFAULT_PLACEMENTS


@dataclass(frozen=True)
class BuildingSpec:
    id: int
    code: str
    address: str
    district: str | None
    lat: float
    lon: float
    open_units: int  # residential units not yet behind an ONT

    @property
    def onts(self) -> int:
        return math.ceil(self.open_units / ONT_UNITS)

    @property
    def node(self) -> Node:
        return ("site", f"building:{self.code}")


@dataclass
class Tap:
    """A splitter ONTs or a further splitter can hang on: in the inventory, or new in this plan."""

    key: Hashable  # splitter id, or ("new", n)
    code: str
    node: int  # route node id
    ratio: int
    ratios: tuple[int, ...]  # the chain's ratios, OLT side first, this one last
    runs_m: tuple[float, ...]  # the chain's feeder runs, OLT side first
    root: Hashable  # its OLT port: id, or ("new", n)
    optics_class: str
    free: list[int]  # free port numbers
    distribution: bool = False  # it feeds further splitters: its ports are for splitters, not homes

    @property
    def split(self) -> int:
        return math.prod(self.ratios)


@dataclass
class Olt:
    device_id: int
    name: str
    pop: str
    pop_nodes: list[Node]
    port_names: set[str]  # its interfaces' names
    ports: int  # OLT port rows on it (any status)
    spare: list[tuple[int, str, str]]  # (OLT port id, name, optics class) feeding no splitter


@dataclass
class Feed:
    """How a new splitter is fed: where from, over what."""

    kind: str  # "splitter" | "olt_port" | "new_olt_port"
    source: str  # the parent splitter's code, or the OLT port's name
    parent: Tap | None = None
    parent_port: int | None = None
    olt: Olt | None = None
    olt_port_id: int | None = None
    port_name: str | None = None  # the OLT port's interface
    route: Route | None = None  # a new feeder cable (from the new splitter's node)
    strand: tuple[int, str, int, float] | None = None  # (cable id, code, strand, cable length) of a spare strand

    @property
    def length_m(self) -> float:
        return self.strand[3] if self.strand else _cable_length(self.route)


@dataclass
class NewSplitter:
    tap: Tap
    feed: Feed
    closure_new: bool


@dataclass
class Connection:
    """One building on the PON: its drop, the splitter and ports, its loss budget, its cost."""

    building: BuildingSpec
    tap: Tap
    ports: list[int]
    drop: Route
    drop_m: float
    loss_db: float
    splitter_loss_db: float
    splices: int
    budget_db: float
    margin_db: float
    cost_eur: float
    new_splitter: NewSplitter | None = None

    def to_dict(self) -> dict:
        b = self.building
        feed = self.new_splitter.feed if self.new_splitter else None
        return {
            "building": b.code, "address": b.address, "district": b.district, "homes": b.open_units,
            "onts": len(self.ports), "splitter": self.tap.code, "splitter_ratio": self.tap.ratio,
            "ports": self.ports, "new_splitter": self.new_splitter is not None,
            "fed_from": None if feed is None else {
                "kind": feed.kind, "source": feed.source, "port": feed.parent_port,
                "over": f"spare strand {feed.strand[2]} of cable {feed.strand[1]}" if feed.strand
                else "new feeder cable" if feed.route else "a patch in the same closure",
                "feeder_m": round(feed.length_m, 1)},
            "drop_m": round(self.drop_m, 1), "drop_by_method": civil_metres([self.drop]),
            "loss_budget": {"optics_class": self.tap.optics_class, "budget_db": self.budget_db,
                            "splitters": " + ".join(f"1:{r}" for r in self.tap.ratios),
                            "splitter_loss_db": round(self.splitter_loss_db, 2),
                            "fibre_m": round(sum(self.tap.runs_m) + self.drop_m, 1), "splices": self.splices,
                            "loss_db": round(self.loss_db, 2), "margin_db": round(self.margin_db, 2)},
            "cost_eur": round(self.cost_eur, 2),
        }


def _cable_length(route: Route | None) -> float:
    """A new cable's recorded length, as the change set stores it (``_Writer.new_cable``)."""
    if route is None:
        return 0.0
    return round(max(sum(leg.length_m for leg in route.legs if leg.kind in CABLE_KINDS), 1.0), 1)


# -- the state a plan works on ---------------------------------------------------------------

class AccessPlanner:
    """The candidate network and the PON as a plan sees them, and what the plan adds so far."""

    def __init__(self, session: Session, options: AccessOptions):
        self.session, self.options = session, options
        self.net: CandidateNetwork = load_network(session, options.network)
        self.costs = self.net.costs
        inv = load_inventory(session)
        pon = Pon(Network(inv))
        live = lambda status: str(status) != Status.DECOMMISSIONED.value  # noqa: E731  draft plans' rows count
        used: dict[int, set[int]] = defaultdict(set)
        for row in inv.splitters:
            if row.parent_id is not None and live(row.status):
                used[row.parent_id].add(row.parent_port)
        for row in inv.residential:
            if live(row.status):
                used[row.splitter_id].add(row.splitter_port)
        parent = {s.id: s for s in inv.splitters}
        cascading = {s.parent_id for s in inv.splitters if s.parent_id is not None and live(s.status)}

        def root(splitter_id: int) -> int | None:
            seen = set()
            while splitter_id in parent and splitter_id not in seen:
                seen.add(splitter_id)
                row = parent[splitter_id]
                if row.parent_id is None:
                    return row.olt_port_id
                splitter_id = row.parent_id
            return None

        self.onts_on_root: Counter = Counter(root(r.splitter_id) for r in inv.residential if live(r.status))
        self.taps: dict[Hashable, Tap] = {}
        self.taps_at: dict[int, list[Tap]] = defaultdict(list)
        for splitter in sorted(pon.splitters.values(), key=lambda s: s.code):
            chain = pon.chain(splitter.id)
            if chain is None or not pon.measurable(chain):
                continue
            free = [p for p in range(1, splitter.ratio + 1) if p not in used[splitter.id]]
            self._add_tap(Tap(splitter.id, splitter.code, splitter.node_id, splitter.ratio,
                              tuple(s.ratio for s in chain), tuple(m for m, _ in pon.feeder_runs(chain)),
                              chain[0].olt_port_id, str(pon.ports[chain[0].olt_port_id].optics_class), free,
                              splitter.id in cascading))
        self.closure_at = {c.node_id: c.id for c in inv.closures if str(c.status) == Status.ACTIVE.value}
        self.node_kind = {n.id: str(n.kind) for n in inv.nodes}
        self.olts = self._olts(inv, pon, {s.olt_port_id for s in inv.splitters if s.parent_id is None
                                          and live(s.status)})
        # what this plan has added so far
        self.connections: list[Connection] = []
        self.new_splitters: list[NewSplitter] = []
        self.new_closures: set[int] = set()  # route nodes that get a closure
        self.opened: set[int] = set()  # existing closures re-entered (route nodes)
        self.dug: set[tuple] = set()  # new trench edges dug (their civil works paid)
        self.strands_taken: dict[int, set[int]] = defaultdict(set)

    def _add_tap(self, tap: Tap) -> None:
        self.taps[tap.key] = tap
        self.taps_at[tap.node].append(tap)

    def _olts(self, inv, pon: Pon, feeding: set[int]) -> list[Olt]:
        sites = {s.id: s for s in inv.sites if str(s.status) == Status.ACTIVE.value}
        nodes_of_pop: dict[str, list[Node]] = defaultdict(list)
        for node, code in self.net.pops.items():
            nodes_of_pop[code].append(node)
        interfaces: dict[int, list] = defaultdict(list)
        for interface in inv.interfaces:
            interfaces[interface.device_id].append(interface)
        port_rows: dict[int, list] = defaultdict(list)
        interface_device = {i.id: i.device_id for i in inv.interfaces}
        for port in inv.olt_ports:
            port_rows[interface_device.get(port.interface_id)].append(port)
        olts = []
        for device in sorted(inv.devices, key=lambda d: d.name):
            site = sites.get(device.site_id)
            if str(device.role) != DeviceRole.OLT.value or str(device.status) != Status.ACTIVE.value or \
                    site is None or site.code not in nodes_of_pop:
                continue
            spare = [(p.id, pon.port_name.get(p.id, str(p.id)), str(p.optics_class)) for p in port_rows[device.id]
                     if p.id in pon.ports and p.id not in feeding and str(p.optics_class) in POWER_BUDGET_DB]
            olts.append(Olt(device.id, device.name, site.code, sorted(nodes_of_pop[site.code]),
                            {i.name for i in interfaces[device.id]}, len(port_rows[device.id]),
                            sorted(spare, key=lambda p: _port_number(p[1]))))
        return olts

    # -- routing ---------------------------------------------------------------------------
    def cheapest(self, source: Node, max_m: float) -> dict[Node, tuple[float, float, Route]]:
        """New-cable routes from ``source`` to every node within ``max_m`` metres, cheapest
        first: free ducts of existing trenches, new trenches (paid once per plan). No route
        passes through a building (a site's entry node, another building being planned)."""
        graph, best = self.net.graph, {source: (0.0, 0.0, None)}
        heap, tie = [(0.0, 0.0, 0, source)], itertools.count(1)
        done: set[Node] = set()
        while heap:
            cost, metres, _, node = heapq.heappop(heap)
            if node in done:
                continue
            done.add(node)
            if node != source and (node[0] == "site" or graph.nodes[node].get("site_id") is not None):
                continue  # reached, not passed through
            for _, other, key, data in graph.edges(node, keys=True, data=True):
                if data["kind"] not in (*CABLE_KINDS, OWN_ENTRY) or other in done:
                    continue
                length = metres + data["length_m"]
                if length > max_m:
                    continue
                edge = (frozenset((node, other)), key)
                step = data["per_cable_eur"] + (0.0 if edge in self.dug else data["fixed_eur"])
                if other not in best or cost + step < best[other][0] - 1e-9:
                    best[other] = (cost + step, length, (node, key))
                    heapq.heappush(heap, (cost + step, length, next(tie), other))
        found = {}
        for node, (cost, metres, _) in best.items():
            if node == source:
                continue
            legs, here = [], node
            while best[here][2] is not None:
                previous, key = best[here][2]
                legs.append(make_leg(self.net, previous, here, key))
                here = previous
            found[node] = (cost, metres, Route(tuple(reversed(legs)), node, str(node[1])))
        return found

    def _closure_cost(self, node: int) -> float:
        """Opening the closure at a route node: a re-entry, a new closure, or nothing when
        this plan opens or builds it already."""
        if node in self.new_closures or node in self.opened:
            return 0.0
        return self.costs.closure_reentry_eur if node in self.closure_at else self.costs.closure_eur

    def _budget(self, ratios: tuple[int, ...], runs_m: Iterable[float], optics_class: str):
        loss, splitter_loss, splices = path_loss(list(ratios), list(runs_m))
        budget = POWER_BUDGET_DB[optics_class]
        return loss, splitter_loss, splices, budget, budget - loss

    def _free_strand(self, node: Node, other: Node) -> tuple[int, str, int, float, float] | None:
        """A spare strand of an existing cable between closure ``("x", node)`` and ``other``
        (a closure or PoP node), and what splicing into it costs."""
        x = ("x", node[1])
        if x not in self.net.graph or other not in self.net.graph[x]:
            return None
        for key, data in sorted(self.net.graph[x][other].items(), key=lambda kv: repr(kv[0])):
            if data["kind"] != STRAND:
                continue
            spare = self.net.spare_cables[data["cable_id"]]
            free = [s for s in spare.free_strands if s not in self.strands_taken[spare.cable_id]]
            if free:
                return spare.cable_id, spare.code, free[0], float(spare.length_m), 2 * self.costs.splice_eur
        return None

    # -- one building ------------------------------------------------------------------------
    def connect(self, building: BuildingSpec) -> Connection:
        """The cheapest feasible connection of ``building`` given what the plan holds so far,
        taken into the plan (ports, trenches, closures)."""
        if building.open_units <= 0:
            raise NoAccessError(f"building {building.code}: its homes are passed already")
        self.net.attach_site(building.node[1], building.lat, building.lon)
        drops = self.cheapest(building.node, self.options.max_drop_m)
        choice = self._on_free_port(building, drops) or self._on_new_splitter(building, drops)
        if choice is None:
            raise NoAccessError(self._why_not(building, drops))
        self._take(choice)
        return choice

    def _fixed_part(self, building: BuildingSpec) -> float:
        """What every connection of the building costs whatever the splitter: ONTs, its
        entry, two fusion splices per ONT (at the splitter's port and at the ONT)."""
        return (building.onts * (ONT_EUR + 2 * self.costs.splice_eur)
                + self.costs.building_entry_eur)

    def _on_free_port(self, building: BuildingSpec, drops) -> Connection | None:
        best = None
        for node, (cost, _, route) in drops.items():
            if node[0] != "n":
                continue
            for tap in self.taps_at.get(node[1], ()):
                if tap.distribution or len(tap.free) < building.onts or \
                        self.onts_on_root[tap.root] + building.onts > MAX_SPLIT:
                    continue
                drop_m = _cable_length(route)
                loss, splitter_loss, splices, budget, margin = self._budget(
                    tap.ratios, (*tap.runs_m, drop_m), tap.optics_class)
                if margin < self.options.min_margin_db:
                    continue
                total = cost + self._closure_cost(tap.node) + self._fixed_part(building)
                candidate = Connection(building, tap, tap.free[:building.onts], route, drop_m, loss, splitter_loss,
                                       splices, budget, margin, total)
                if best is None or (total, tap.code) < (best.cost_eur, best.tap.code):
                    best = candidate
        return best

    def _placements(self, drops) -> list[tuple[int, float, Route]]:
        nodes = [(cost, node[1], route) for node, (cost, _, route) in drops.items()
                 if node[0] == "n" and self.node_kind.get(node[1]) != NodeKind.SITE_ENTRY.value]
        return [(node, cost, route) for cost, node, route in sorted(nodes, key=lambda t: (t[0], t[1]))
                [: self.options.placements]]

    def _on_new_splitter(self, building: BuildingSpec, drops) -> Connection | None:
        best = None
        for node, drop_cost, drop in self._placements(drops):
            drop_m = _cable_length(drop)
            feeders = self.cheapest(("n", node), self.options.max_feeder_m)
            base = drop_cost + self._closure_cost(node) + self._fixed_part(building)
            for feed, feed_cost, ratios, classes in self._feeds(node, feeders):
                if feed.parent and self.onts_on_root[feed.parent.root] + building.onts > MAX_SPLIT:
                    continue  # its OLT port has no room for these ONTs
                parent_ratios = feed.parent.ratios if feed.parent else ()
                runs = (*(feed.parent.runs_m if feed.parent else ()), feed.length_m)
                for ratio, optics_class in itertools.product(ratios, classes):
                    chain = (*parent_ratios, ratio)
                    if math.prod(chain) > MAX_SPLIT or ratio <= building.onts:
                        continue
                    loss, splitter_loss, splices, budget, margin = self._budget(chain, (*runs, drop_m), optics_class)
                    if margin < self.options.min_margin_db:
                        continue
                    total = base + feed_cost + SPLITTER_EUR[ratio]
                    if best is None or (total, -ratio) < (best.cost_eur, -best.tap.ratio):
                        key = ("new", len(self.new_splitters) + 1)
                        root = feed.parent.root if feed.parent else (feed.olt_port_id or key)
                        tap = Tap(key, "", node, ratio, chain, runs, root, optics_class, list(range(1, ratio + 1)))
                        best = Connection(building, tap, tap.free[:building.onts], drop, drop_m, loss,
                                          splitter_loss, splices, budget, margin, total,
                                          NewSplitter(tap, feed, node not in self.closure_at))
                    break  # the largest ratio that fits (the best optics class for it): room for the neighbours
        return best

    def _feeds(self, node: int, feeders):
        """Every way to feed a new splitter at ``node``: (feed, its cost beyond the new
        splitter's own closure, ratios to try, optics classes to try)."""
        here = ("n", node)

        def ways(target: Node, closure_node: int | None):
            """(cost, new cable route, spare strand) to ``target``: a patch within the same
            closure, a new cable, or a spare strand to its closure (or PoP)."""
            other_end = self._closure_cost(closure_node) if closure_node not in (None, node) else 0.0
            if target == here:
                yield 2 * self.costs.splice_eur, None, None
                return
            if target in feeders:
                cost, _, route = feeders[target]
                yield (cost + other_end + 2 * self.costs.splice_eur
                       + self.costs.closure_eur * joints_for(_cable_length(route))), route, None
            if node in self.closure_at:
                strand = self._free_strand(here, ("x", closure_node) if closure_node is not None else target)
                if strand is not None:
                    yield strand[4] + other_end, None, strand[:4]

        for tap in sorted(self.taps.values(), key=lambda t: t.code or repr(t.key)):
            if not tap.free or self.onts_on_root[tap.root] >= MAX_SPLIT or tap.split * CASCADE_RATIOS[-1] > MAX_SPLIT:
                continue
            for cost, route, strand in ways(("n", tap.node), tap.node):
                yield (Feed("splitter", tap.code, parent=tap, parent_port=tap.free[0], route=route, strand=strand),
                       cost, CASCADE_RATIOS, (tap.optics_class,))
        for olt in self.olts:
            new_port = not olt.spare
            if new_port and olt.ports >= self.options.max_olt_ports:
                continue
            port_id, port_name, optics = olt.spare[0] if olt.spare else (None, _next_port(olt), None)
            for pop in olt.pop_nodes:
                for cost, route, strand in ways(pop, None):
                    yield (Feed("new_olt_port" if new_port else "olt_port", f"{olt.name}/{port_name}", olt=olt,
                                olt_port_id=port_id, port_name=port_name, route=route, strand=strand),
                           cost + (OLT_PORT_EUR if new_port else 0.0), FIRST_STAGE_RATIOS,
                           (optics,) if optics else ("b_plus", "c_plus"))

    def _why_not(self, building: BuildingSpec, drops) -> str:
        if not any(node[0] == "n" for node in drops):
            return (f"building {building.code}: no plant or street within {self.options.max_drop_m:,.0f} m "
                    f"of drop to reach it")
        if not any(t.free and self.onts_on_root[t.root] < MAX_SPLIT for t in self.taps.values()) and not any(
                o.spare or o.ports < self.options.max_olt_ports for o in self.olts):
            return (f"building {building.code}: no OLT capacity anywhere (every splitter port and OLT port taken, "
                    f"every OLT at {self.options.max_olt_ports} ports)")
        return (f"building {building.code}: no splitter within {self.options.max_drop_m:,.0f} m of drop and no "
                f"feeder within {self.options.max_feeder_m:,.0f} m from a splitter or OLT with capacity keeps the "
                f"power budget with {self.options.min_margin_db:g} dB margin")

    def _take(self, choice: Connection) -> None:
        """Book the connection into the plan (ports, trenches, closures, strands); its cost
        is what it adds to the plan's bill of materials, so the shares add up to the total."""
        before = bom_total(self.bom())
        tap = choice.tap
        new = choice.new_splitter
        if new is not None:
            tap.code = f"new splitter {len(self.new_splitters) + 1} (1:{tap.ratio})"
            feed = new.feed
            if feed.parent is not None:
                feed.parent.free.remove(feed.parent_port)
                feed.parent.distribution = True
                self._open(feed.parent.node)
            elif feed.kind == "olt_port":
                feed.olt.spare.pop(0)
            else:
                feed.olt.ports += 1
                feed.olt.port_names.add(feed.port_name)
            if feed.strand is not None:
                self.strands_taken[feed.strand[0]].add(feed.strand[2])
            self._dig(feed.route)
            self.new_splitters.append(new)
            self._add_tap(tap)
        for port in choice.ports:
            tap.free.remove(port)
        self.onts_on_root[tap.root] += len(choice.ports)
        self._open(tap.node)
        self._dig(choice.drop)
        self.connections.append(choice)
        choice.cost_eur = bom_total(self.bom()) - before

    def _open(self, node: int) -> None:
        (self.opened if node in self.closure_at else self.new_closures).add(node)

    def _dig(self, route: Route | None) -> None:
        for leg in route.legs if route else ():
            if leg.kind not in (EXISTING, OWN_ENTRY):
                self.dug.add(leg.edge_id)

    # -- the plan's figures ------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [c.drop for c in self.connections] + [s.feed.route for s in self.new_splitters if s.feed.route]

    def bom(self) -> list[BomLine]:
        costs, lines = self.costs, []

        def line(item: str, quantity: float, unit: str, unit_eur: float) -> None:
            if quantity > 0:
                lines.append(BomLine(item, round(quantity, 1), unit, unit_eur, quantity * unit_eur))

        routes = self.routes()
        for method, metres in civil_metres(routes, digits=None).items():
            label = "cable pulling into existing duct" if method == "existing_duct" else f"trench: {method}"
            line(label, metres, "m", costs.trench_price(method))
        cable_m = [sum(leg.length_m for leg in r.legs if leg.kind in CABLE_KINDS) for r in routes]
        line(f"cable {costs.cable_strands(self.net.strands)}F", sum(cable_m), "m", costs.cable_price(self.net.strands))
        line("splice closure (drum joint)", sum(joints_for(_cable_length(r)) for r in routes), "pc", costs.closure_eur)
        line("splice closure (new, at a splitter)", len(self.new_closures), "pc", costs.closure_eur)
        line("splice closure re-entry", len(self.opened), "pc", costs.closure_reentry_eur)
        onts = sum(len(c.ports) for c in self.connections)
        line("fusion splice", 2 * onts + 2 * len(self.new_splitters), "pc", costs.splice_eur)
        for ratio, count in sorted(Counter(s.tap.ratio for s in self.new_splitters).items()):
            line(f"splitter 1:{ratio}", count, "pc", SPLITTER_EUR[ratio])
        line("OLT PON port (new)", sum(s.feed.kind == "new_olt_port" for s in self.new_splitters), "pc", OLT_PORT_EUR)
        line("ONT", onts, "pc", ONT_EUR)
        line("building entry", len(self.connections), "pc", costs.building_entry_eur)
        return lines

    def summary(self, kind: str, area: str | None = None) -> dict:
        lines = self.bom()
        total = bom_total(lines)
        homes = sum(c.building.open_units for c in self.connections)
        costs = self.costs
        return {
            "kind": kind, "area": area,
            "price_table": {"id": costs.table_id, "region": costs.region, "valid_from": costs.valid_from.isoformat(),
                            "currency": costs.currency, "source": costs.source,
                            "priced_by_default": list(costs.defaulted)},
            "access_prices": {"splitter": {f"1:{r}": eur for r, eur in SPLITTER_EUR.items()},
                              "olt_port": OLT_PORT_EUR, "ont": ONT_EUR},
            "buildings": len(self.connections), "homes_passed": homes,
            "onts": sum(len(c.ports) for c in self.connections),
            "new_splitters": len(self.new_splitters),
            "new_olt_ports": sum(s.feed.kind == "new_olt_port" for s in self.new_splitters),
            "on_existing_splitters": sum(c.new_splitter is None for c in self.connections),
            "metres_by_method": civil_metres(self.routes()),
            "bom": bom_dicts(lines), "total_eur": total,
            "cost_per_home_eur": round(total / homes, 2) if homes else None,
            "worst_margin_db": round(min(c.margin_db for c in self.connections), 2) if self.connections else None,
            "connections": [c.to_dict() for c in self.connections],
            "splitters": [{"splitter": s.tap.code, "ratio": s.tap.ratio, "node": self._node_code(s.tap.node),
                           "closure": "new" if s.closure_new else "existing", "fed_from": s.feed.source,
                           "feed": s.feed.kind, "optics_class": s.tap.optics_class,
                           "ports_used": s.tap.ratio - len(s.tap.free)} for s in self.new_splitters],
            "notes": [],
        }

    def _node_code(self, node: int) -> str:
        return self.net.graph.nodes[("n", node)].get("code") or str(node)

    # -- the change set ----------------------------------------------------------------------
    def write(self, writer) -> None:
        """The plan's rows: closures, splitters, OLT ports, drop and feeder cables, ONTs."""
        session = writer.session
        closures = dict(self.closure_at)
        for node in sorted(self.new_closures):
            closures[node] = writer.add(SpliceClosure(code=writer.code("cl"), node_id=node, status=Status.PLANNED,
                                                      source=SOURCE)).id
        splitter_ids: dict[Hashable, int] = {}
        for new in self.new_splitters:
            tap, feed = new.tap, new.feed
            olt_port_id = None
            if feed.parent is None:
                olt_port_id = feed.olt_port_id or self._new_olt_port(writer, feed, tap.optics_class)
            if feed.strand is not None:
                cable_id, strand = feed.strand[0], feed.strand[2]
            elif feed.route is None:  # both splitters in one closure
                cable_id, strand = None, None
            else:
                end = ({"b_closure_id": closures[feed.parent.node]} if feed.parent
                       else {"b_site_id": session.exec(select(Site.id).where(Site.code == feed.olt.pop)).one()})
                cable_id = writer.new_cable(list(feed.route.legs), None, {"a_closure_id": closures[tap.node]}, end)
                strand = 1
            parent = feed.parent.key if feed.parent else None
            row = writer.add(Splitter(code=writer.code("spl"), ratio=tap.ratio, node_id=tap.node,
                                      olt_port_id=olt_port_id, parent_id=splitter_ids.get(parent, parent),
                                      parent_port=feed.parent_port, feeder_cable_id=cable_id, feeder_strand=strand,
                                      status=Status.PLANNED, source=SOURCE))
            splitter_ids[tap.key] = row.id
            tap.code = row.code
        for connection in self.connections:
            building = connection.building
            entry = writer.add(RouteNode(code=writer.code("bep"), kind=NodeKind.JUNCTION, lat=building.lat,
                                         lon=building.lon, status=Status.PLANNED, source=SOURCE))
            writer.node_ids[building.node] = entry.id
            closure = writer.add(SpliceClosure(code=f"{entry.code}-cl", node_id=entry.id, capacity_splices=12,
                                               status=Status.PLANNED, source=SOURCE))
            drop = writer.new_cable(list(connection.drop.legs), None, {"a_closure_id": closure.id},
                                    {"b_closure_id": closures[connection.tap.node]})
            tap = connection.tap
            for strand, (port, units) in enumerate(zip(connection.ports, _shares(building.open_units,
                                                                                  len(connection.ports))), 1):
                writer.add(ResidentialConnection(
                    code=writer.code("ont"), building_id=building.id, splitter_id=splitter_ids.get(tap.key, tap.key),
                    splitter_port=port, units=units, take_up=self.options.take_up, drop_cable_id=drop,
                    drop_strand=strand, status=Status.PLANNED, source=SOURCE))

    def _new_olt_port(self, writer, feed: Feed, optics_class: str) -> int:
        interface = writer.add(Interface(device_id=feed.olt.device_id, name=feed.port_name, kind=InterfaceKind.FIBRE,
                                         speed_mbps=2500, description=f"PON {optics_class} (planned)"))
        return writer.add(OltPort(interface_id=interface.id, optics_class=optics_class, status=Status.PLANNED,
                                  source=SOURCE)).id

    def store(self, name: str, kind: str, summary: dict):
        """Save the plan; its stored summary names the new rows by their codes."""
        def write(writer) -> None:
            self.write(writer)
            summary.update(self.summary(summary["kind"], summary["area"]))

        return save_plan(self.session, self.net, name=name, kind=kind, items=[], total_eur=summary["total_eur"],
                         summary=summary, write_more=write)


def _shares(units: int, parts: int) -> list[int]:
    return [units // parts + (i < units % parts) for i in range(parts)]


def _port_number(name: str) -> int:
    tail = name.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def _next_port(olt: Olt) -> str:
    """The next GPON interface name on an OLT (``gpon0/1/N``, after the highest taken)."""
    numbered = [n for n in olt.port_names if n.startswith("gpon") and _port_number(n) >= 0]
    if not numbered:
        return "gpon0/1/0"
    last = max(numbered, key=_port_number)
    return f"{last.rsplit('/', 1)[0]}/{_port_number(last) + 1}"


# -- reading what to plan -------------------------------------------------------------------

def _served(session: Session) -> dict[int, int]:
    served: dict[int, int] = defaultdict(int)
    for building_id, units, status in session.exec(select(
            ResidentialConnection.building_id, ResidentialConnection.units, ResidentialConnection.status)).all():
        if str(status) != Status.DECOMMISSIONED.value:
            served[building_id] += units
    return served


def _spec(row: Building, served: dict[int, int]) -> BuildingSpec:
    return BuildingSpec(row.id, row.code, row.address, row.district, row.lat, row.lon,
                        max(0, row.residential_units - served.get(row.id, 0)))


def _building(session: Session, code: str) -> Building:
    row = session.exec(select(Building).where(Building.code == code)).first()
    if row is None:
        raise NotFoundError(f"no building with code {code!r}"
                            f"{did_you_mean(code, session.exec(select(Building.code)).all())}")
    return row


def building_spec(session: Session, code: str) -> BuildingSpec:
    row = _building(session, code)
    if str(row.status) == Status.DECOMMISSIONED.value:
        raise NotFoundError(f"building {code} is decommissioned")
    return _spec(row, _served(session))


def area_buildings(session: Session, districts: list[str] = (), polygon: Path | None = None) -> list[BuildingSpec]:
    """The buildings of the Stadtteile (names as the inventory has them, any case) or inside
    the GeoJSON polygon whose homes are not all passed, in street order (address, code)."""
    rows = session.exec(select(Building).where(Building.status != Status.DECOMMISSIONED,
                                               Building.residential_units > 0)).all()
    if districts:
        known = {d.lower(): d for d in session.exec(select(Building.district).distinct()).all() if d}
        unknown = [d for d in districts if d.lower() not in known]
        if unknown:
            raise NotFoundError(f"no Stadtteil {unknown[0]!r} in the inventory's buildings"
                                + (did_you_mean(unknown[0], sorted(known.values()))
                                   or f" (known e.g.: {', '.join(sorted(known.values())[:8])})"))
        wanted = {d.lower() for d in districts}
        rows = [r for r in rows if (r.district or "").lower() in wanted]
    if polygon is not None:
        area = read_polygon(polygon)
        inside = _inside(area, rows)
        if rows and not inside:
            raise NotFoundError(_none_inside(polygon, area, rows))
        rows = inside
    served = _served(session)
    specs = [_spec(r, served) for r in rows]
    return sorted((s for s in specs if s.open_units > 0), key=lambda s: (_street(s.address), s.code))


def _street(address: str) -> tuple[str, int]:
    """An address as (street, house number) for street order."""
    head, _, number = address.rpartition(" ")
    return (head, int(number)) if number.isdigit() else (address, 0)


def _inside(area, rows: list[Building]) -> list[Building]:
    from shapely import Point

    return [r for r in rows if area.covers(Point(r.lon, r.lat))]


def _none_inside(path: Path, area, rows: list[Building]) -> str:
    """Why a polygon holds none of the buildings, with where they are; a polygon that would
    hold some with longitude and latitude swapped is most likely written latitude first."""
    from shapely import transform

    lons, lats = [r.lon for r in rows], [r.lat for r in rows]
    swapped = len(_inside(transform(area, lambda xy: xy[:, ::-1]), rows))
    return (f"{path}: none of the inventory's {len(rows)} buildings with homes lies inside the polygon (they lie "
            f"within longitude {min(lons):.3f}..{max(lons):.3f}, latitude {min(lats):.3f}..{max(lats):.3f})"
            + (f"; with longitude and latitude swapped it would hold {swapped}: GeoJSON gives longitude first"
               if swapped else ""))


def read_polygon(path: Path):
    """The (multi)polygon of a GeoJSON file: a geometry, a Feature or a FeatureCollection
    (its polygons united), in longitude and latitude (RFC 7946), each polygon valid."""
    from shapely import union_all
    from shapely.errors import ShapelyError
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    name = str(path)

    def bad(field: str, reason: str) -> InputError:
        return InputError([RowProblem(name, 0, field, "", reason)])

    data = read_json(Path(path), "GeoJSON", parse_constant=_not_a_number)
    if not isinstance(data, dict):
        raise bad("file", "not a GeoJSON object")
    features = data.get("features") if isinstance(data.get("features"), list) else []
    geometries = [f.get("geometry") for f in features if isinstance(f, dict)] \
        if data.get("type") == "FeatureCollection" else [data.get("geometry")] if data.get("type") == "Feature" \
        else [data]
    polygons = [g for g in geometries if isinstance(g, dict) and g.get("type") in ("Polygon", "MultiPolygon")]
    if not polygons:
        raise bad("geometry", "no Polygon or MultiPolygon in the file")
    try:
        shapes = [shape(g) for g in polygons]
    except KeyError as exc:
        raise bad("geometry", f"not a valid polygon: it has no {exc.args[0]!r}") from None
    except (ValueError, TypeError, AttributeError, IndexError, ShapelyError) as exc:
        raise bad("geometry", f"not a valid polygon: {exc}") from None
    for one in shapes:  # a ring that crosses itself has no defined inside
        if not one.is_valid:
            raise bad("geometry", f"not a valid polygon: {explain_validity(one)}")
    area = union_all(shapes)
    west, south, east, north = area.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        crs = data.get("crs") if isinstance(data.get("crs"), dict) else {}
        named = f" (the file names {crs['properties']['name']})" if isinstance(crs.get("properties"), dict) \
            and "name" in crs["properties"] else ""
        raise bad("coordinates", f"x {west:g}..{east:g}, y {south:g}..{north:g} are not longitude and latitude in "
                                 f"degrees{named}: GeoJSON is WGS84 longitude, latitude (RFC 7946)")
    return area


def _not_a_number(constant: str):
    raise ValueError(f"{constant} is not a number JSON allows")


# -- the three plans ------------------------------------------------------------------------

@dataclass
class AccessResult:
    summary: dict
    stored: object | None

    @property
    def flagged(self) -> bool:
        return bool(self.summary.get("flagged"))


def _free_name(session: Session, base: str) -> str:
    from planning.plans import _free_name as free

    return free(session, base)


def connect_building(session: Session, code: str, options: AccessOptions, *, save: bool = True,
                     name: str | None = None) -> AccessResult:
    building = building_spec(session, code)
    planner = AccessPlanner(session, options)
    planner.connect(building)
    summary = planner.summary("access-building")
    stored = planner.store(name or _free_name(session, f"building-{code}"), "access-building", summary) \
        if save else None
    return AccessResult(stored.summary if stored else summary, stored)


def plan_area(session: Session, options: AccessOptions, *, districts: list[str] = (), polygon: Path | None = None,
              save: bool = True, name: str | None = None) -> AccessResult:
    """Pass every building of the area not passed yet. A building nothing can reach fails
    the plan, naming it (an area plan is all or nothing)."""
    label = ", ".join(districts) if districts else str(polygon)
    buildings = area_buildings(session, list(districts), polygon)
    if not buildings:
        raise NetopsError(f"area {label}: no building with homes not yet passed")
    planner = AccessPlanner(session, options)
    failed = []
    for building in buildings:
        try:
            planner.connect(building)
        except NoAccessError as exc:
            failed.append(str(exc))
    if failed:
        raise NoAccessError(f"area {label}: {len(failed)} of {len(buildings)} building(s) cannot be passed: "
                            + "; ".join(failed[:3]) + (" ..." if len(failed) > 3 else ""))
    summary = planner.summary("access-area", label)
    stored = planner.store(name or _free_name(session, "area"), "access-area", summary) if save else None
    return AccessResult(stored.summary if stored else summary, stored)


def connect_business(session: Session, code: str, company: str, service_class: ServiceClass, bandwidth_mbps: int,
                     network: NetworkOptions, *, min_margin_db: float = DEFAULT_MIN_MARGIN_DB, save: bool = True,
                     name: str | None = None) -> AccessResult:
    """A company in a building on its own fibre to a PoP (spare strands first); a gold SLA
    gets two routes sharing no trench, manhole, building or street corridor."""
    row = _building(session, code)
    redundant = service_class == ServiceClass.SLA_GOLD
    try:  # the line's optics must carry its bandwidth
        optics = optics_for_rate(optics_from_inventory(session), bandwidth_mbps)
    except LookupError as exc:
        raise NoAccessError(f"{company}, {bandwidth_mbps:,} Mbit/s: {exc}") from None
    net = load_network(session, network)
    spec = SiteSpec(f"building:{row.code}", company, "business", row.lat, row.lon)
    plan: ConnectPlan = plan_connection(net, spec, optics, redundant=redundant, min_margin_db=min_margin_db)
    summary = {**plan.to_dict(), "business": {"company": company, "building": row.code, "address": row.address,
                                              "service_class": service_class.value, "bandwidth_mbps": bandwidth_mbps,
                                              "access": BusinessAccess.P2P_FIBRE.value}}
    stored = None
    if save:
        def write(writer) -> None:
            entry = writer.add(RouteNode(code=writer.code("bep"), kind=NodeKind.JUNCTION, lat=row.lat, lon=row.lon,
                                         status=Status.PLANNED, source=SOURCE))
            writer.node_ids[("site", spec.code)] = entry.id
            closure = writer.add(SpliceClosure(code=f"{entry.code}-cl", node_id=entry.id, capacity_splices=24,
                                               status=Status.PLANNED, source=SOURCE))
            pops = dict(session.exec(select(Site.code, Site.id)).all())
            if writer.pop_switch(plan.routes[0].pop_code) is None:
                raise NoAccessError(f"PoP {plan.routes[0].pop_code} has no active switch to land the line on")
            line = writer.code("bc")
            # the NTU at the company's premises; a device needs a site: the PoP that serves it
            ntu = writer.add(Device(name=f"ntu-{line}", site_id=pops[plan.routes[0].pop_code], role=DeviceRole.NTU,
                                    platform=NTU_PLATFORM, vendor=NTU_VENDOR, model=NTU_MODEL,
                                    status=Status.PLANNED, source=SOURCE))
            for route in plan.routes:  # one fibre link per route, NTU to the PoP's switch
                writer.fibre_link(ntu, "Te1/", route, row, pops[route.pop_code], None,
                                  start={"a_closure_id": closure.id})
            writer.add(BusinessConnection(code=line, company=company, building_id=row.id,
                                          service_class=service_class, access=BusinessAccess.P2P_FIBRE,
                                          bandwidth_mbps=bandwidth_mbps, device_id=ntu.id,
                                          status=Status.PLANNED, source=SOURCE))

        stored = save_plan(session, net, name=name or _free_name(session, f"business-{code}"),
                           kind="connect-business", items=[], total_eur=plan.total_eur, summary=summary,
                           write_more=write)
    return AccessResult({**summary, "flagged": plan.flagged}, stored)


