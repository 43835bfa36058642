"""Single-site connection plans: route, bill of materials, cost, optical loss budget."""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Iterable

from planning.costs import CostModel
from planning.loss_budget import DEFAULT_MIN_MARGIN_DB, LossBudget, Optic, best_budget, joints_for, rate_note
from planning.network import ENTRY, EXISTING, NEW, SPLICE, STRAND, CandidateNetwork, Node, is_new_closure
from planning.routing import Leg, NoRouteError, Route, min_cost_routes, pair_faults, shared_legs
from planning.strands import legs_on, limits, overloaded_limits
from topology.risk import SharedRisk


@dataclass(frozen=True)
class SiteSpec:
    """A site to connect: one in the inventory (``site_id``) or a new one from coordinates."""

    code: str
    name: str
    kind: str
    lat: float
    lon: float
    site_id: int | None = None
    entry_node: Node | None = None  # the site's documented entry route node, if any
    row: int | None = None  # the CSV row it was read from (header = row 1)


@dataclass(frozen=True)
class BomLine:
    item: str
    quantity: float
    unit: str
    unit_eur: float
    total_eur: float


def civil_metres(routes: Iterable[Route], digits: int | None = 1) -> dict[str, float]:
    """Metres of work per laying method; a trench dug for several cables counts once,
    metres pulled into existing ducts count once per cable."""
    metres: dict[str, float] = defaultdict(float)
    seen = set()
    for route in routes:
        for leg in route.legs:
            if leg.kind == EXISTING:
                metres[leg.laying_method] += leg.length_m
            elif leg.kind in (NEW, ENTRY) and leg.edge_id not in seen:
                seen.add(leg.edge_id)
                metres[leg.laying_method] += leg.length_m
    return {method: m if digits is None else round(m, digits) for method, m in sorted(metres.items())}


CABLE_KINDS = (EXISTING, NEW, ENTRY)  # legs a new cable is laid along


@dataclass(frozen=True)
class FibrePath:
    """One route as glass: new cables (from the site, between closures, to the PoP), spare
    strands of existing cables, and the closures where they are joined.

    Every fibre starts on a pigtail at the site and ends on one at the PoP (a new
    cable's, or the existing cable's patch panel), and is spliced once at each drum
    joint of a new cable and at each closure it passes."""

    new_cable_m: tuple[float, ...]  # each new cable's length (a drum joint every DRUM_LENGTH_M)
    spare_strand_m: float
    closures: tuple[Node, ...]  # closure nodes passed, a pair join (two splices) at each
    new_cable_at_pop: bool  # the PoP end is a new cable (its strands get pigtails there)

    @property
    def joints(self) -> int:
        return sum(joints_for(m) for m in self.new_cable_m)

    @property
    def fibre_splices(self) -> int:
        """Fusion splices along one fibre of the path (the loss budget's count)."""
        return 2 + self.joints + len(self.closures)


def fibre_path(route: Route) -> FibrePath:
    runs: list[float] = []
    running = False
    for leg in route.legs:
        if leg.kind in CABLE_KINDS:
            if not running:
                runs.append(0.0)
            runs[-1] += leg.length_m
            running = True
        elif leg.kind in (STRAND, SPLICE):
            running = False
    return FibrePath(tuple(runs), sum(leg.length_m for leg in route.legs if leg.kind == STRAND),
                     tuple(leg.b for leg in route.legs if leg.b[0] == "x"),
                     not route.legs or route.legs[-1].kind not in (STRAND, SPLICE))


def best_loss_budget(route: Route, optics: list[Optic], optic_name: str | None = None, *,
                     min_margin_db: float = DEFAULT_MIN_MARGIN_DB) -> LossBudget:
    """``planning.loss_budget.best_budget`` of ``route``'s fibre: its length, its splices
    (``FibrePath.fibre_splices``: drum joints of its new cables, closures passed)."""
    return best_budget(route.length_m, optics, optic_name, min_margin_db=min_margin_db,
                       splices=fibre_path(route).fibre_splices)


def bill_of_materials(routes: list[Route], costs: CostModel, strands: int,
                      closure_names: dict[Node, str] | None = None) -> list[BomLine]:
    """What building ``routes`` takes: each route a new cable from the site to its PoP, or
    a drop to a closure and spare strands of existing cables on from there (see
    ``FibrePath``), entering its building separately (diverse entries for a redundant pair).
    A closure re-entered for several routes is opened once, a new one (an existing cable
    opened mid-span: the table's installed closure, sheath window and cutting included
    as a planning assumption) is bought once; the splices each closure's
    trays take are listed by closure (named by ``closure_names``, else by route node),
    priced in the fusion splice line."""
    lines: list[BomLine] = []
    paths = [fibre_path(r) for r in routes]

    def line(item: str, quantity: float, unit: str, unit_eur: float) -> None:
        if quantity > 0:
            lines.append(BomLine(item, round(quantity, 1), unit, unit_eur, quantity * unit_eur))

    for method, metres in civil_metres(routes, digits=None).items():
        if method == "existing_duct":
            line("cable pulling into existing duct", metres, "m", costs.trench_price(method))
        else:
            line(f"trench: {method}", metres, "m", costs.trench_price(method))
    cable_strands = costs.cable_strands(strands)
    line(f"cable {cable_strands}F", sum(sum(p.new_cable_m) for p in paths), "m", costs.cable_price(strands))
    line("spare strand pair in existing cable", sum(p.spare_strand_m for p in paths), "m", 0.0)
    joints = sum(p.joints for p in paths)
    line("splice closure (drum joint)", joints, "pc", costs.closure_eur)
    passed = {c for p in paths for c in p.closures}
    line("splice closure re-entry (spare strands)", sum(not is_new_closure(c) for c in passed), "pc",
         costs.closure_reentry_eur)
    line("splice closure, new: existing cable opened mid-span", sum(map(is_new_closure, passed)), "pc",
         costs.closure_eur)
    # every strand of a new cable is spliced to a pigtail at the site (and at the PoP when
    # the cable reaches it) and at each drum joint; a pair is joined at every closure passed
    line("fusion splice", sum(cable_strands * (1 + p.new_cable_at_pop + p.joints) + 2 * len(p.closures)
                              for p in paths), "pc", costs.splice_eur)
    line("building entry", len(routes), "pc", costs.building_entry_eur)
    joins: dict[Node, int] = defaultdict(int)
    for path in paths:
        for closure in path.closures:
            joins[closure] += 1
    for closure, count in sorted(joins.items(), key=lambda kv: repr(kv[0])):
        name = (closure_names or {}).get(closure) or f"at route node {closure[1]}"
        line(f"splices in closure {name} (in the fusion splices)", 2 * count, "pc", 0.0)
    return lines


def bom_dicts(lines: Iterable[BomLine]) -> list[dict]:
    return [{**asdict(line), "total_eur": round(line.total_eur, 2)} for line in lines]


def bom_total(lines: Iterable[BomLine]) -> float:
    return round(sum(line.total_eur for line in lines), 2)


def route_dict(route: Route) -> dict:
    path = fibre_path(route)
    what = {STRAND: "cable", SPLICE: "closure"}
    return {
        "pop": route.pop_code,
        "length_m": round(route.length_m, 1),
        "new_cable_m": round(sum(path.new_cable_m), 1),
        "spare_strand_m": round(path.spare_strand_m, 1),
        "metres_by_method": civil_metres([route]),
        "legs": [
            {"kind": leg.kind, "laying_method": leg.laying_method, "length_m": round(leg.length_m, 1),
             what.get(leg.kind, "trench"): leg.code, "trench_id": leg.trench_id, "from": list(leg.a),
             "to": list(leg.b), "cost_eur": round(leg.fixed_eur + leg.per_cable_eur, 2)}
            for leg in route.legs
        ],
    }


@dataclass
class ConnectPlan:
    site: SiteSpec
    routes: list[Route]
    shared: list[Leg]
    bom: list[BomLine]
    total_eur: float
    loss: list[LossBudget]
    costs: CostModel
    strands: int
    redundant: bool
    notes: list[str] = field(default_factory=list)
    risks: list[dict] = field(default_factory=list)  # the pair's faults (routing.pair_faults), named

    @property
    def flagged(self) -> bool:
        return any(budget.flagged for budget in self.loss)

    def to_dict(self) -> dict:
        return {
            "site": asdict(self.site),
            "redundant": self.redundant,
            "price_table": {"id": self.costs.table_id, "region": self.costs.region,
                            "valid_from": self.costs.valid_from.isoformat(),
                            "currency": self.costs.currency, "source": self.costs.source,
                            "priced_by_default": list(self.costs.defaulted)},
            "strands": self.strands,
            "routes": [route_dict(r) for r in self.routes],
            "shared_trenches": [leg.code or f"new:{leg.key}" for leg in self.shared],
            "shared_risks": self.risks,
            "metres_by_method": civil_metres(self.routes),
            "bom": bom_dicts(self.bom),
            "total_eur": self.total_eur,
            "loss_budget": [b.to_dict() for b in self.loss],
            "flagged": self.flagged,
            "notes": self.notes,
        }


def plan_connection(
    net: CandidateNetwork,
    site: SiteSpec,
    optics: list[Optic],
    *,
    redundant: bool = False,
    optic_name: str | None = None,
    min_margin_db: float = DEFAULT_MIN_MARGIN_DB,
) -> ConnectPlan:
    """The cheapest connection of ``site`` (with ``redundant``, two that share no trench,
    manhole, building or street corridor, neither doubling back nor running along itself:
    ``planning.routing.pair_faults``, wherever the network allows; every fault left is
    reported)."""
    node = net.attach_site(site.code, site.lat, site.lon, site.entry_node)
    routes = routes_within_limits(net, node, 2 if redundant else 1)
    notes = []
    shared = shared_legs(*routes) if redundant else []
    risks = [risk_dict(net, routes, r) for r in pair_faults(net, *routes)] if redundant else []
    if redundant:
        between = [r for r in risks if r["route"] is None]
        if between:
            notes.append(f"no fully disjoint pair exists: {_counted(between)} shared")
        for number in (1, 2):
            if mine := [r for r in risks if r["route"] == number]:
                notes.append(f"route {number} doubles back or runs along itself: {_counted(mine)}")
        if routes[0].pop_code == routes[1].pop_code:
            notes.append(f"no disjoint pair to two PoPs: both routes end at {routes[0].pop_code}")
    lines = bill_of_materials(routes, net.costs, net.strands, net.closure_names())
    budgets = [best_loss_budget(r, optics, optic_name, min_margin_db=min_margin_db) for r in routes]
    notes += [note for number, b in enumerate(budgets, start=1)
              if (note := rate_note(b, number if redundant else None))]
    return ConnectPlan(site, routes, shared, lines, bom_total(lines), budgets, net.costs,
                       net.strands, redundant, notes, risks)


MAX_LIMIT_SEARCHES = 48  # distinct forbidden sets searched one leg at a time, before whole overloaded limits are forbidden


def routes_within_limits(net: CandidateNetwork, site: Node, count: int) -> list[Route]:
    """``min_cost_routes`` taking no more of any cable's free strand pairs or closure's room
    for pair joins than it has (``planning.strands.route_limits``, what the change set
    takes: a plan that overfills one cannot be stored). A plan that overfills one is
    searched again with one of its legs on the first such limit forbidden, each in turn,
    cheapest plan first (faults of a pair, then euros); a set of forbidden legs met again
    (the same legs forbidden in another order) is not searched again. After
    ``MAX_LIMIT_SEARCHES`` distinct sets every leg on the limit at once: each such search
    forbids more legs than the plan it comes from, so they end, but they are not capped (a
    cap would answer NoRouteError where a plan fits: with a cap of 16 leg sets, a feeder with
    one free pair opened mid-span at 12 closures got a pair with 6 faults instead of 1). Where
    no limit binds it is one search (every plan of the seeded city). NoRouteError when nothing fits."""
    known = limits(net)

    def value(routes: list[Route]) -> tuple[int, float]:
        faults = len(pair_faults(net, *routes)) if count == 2 else 0
        return faults, bom_total(bill_of_materials(routes, net.costs, net.strands))

    routes = min_cost_routes(net, site, count)
    if not overloaded_limits(routes, known):
        return routes
    order = itertools.count()
    queue = [(value(routes), next(order), frozenset(), routes)]
    searched = {frozenset()}
    while queue:
        _, _, forbidden, routes = heapq.heappop(queue)
        over = overloaded_limits(routes, known)
        if not over:
            return routes
        legs = legs_on(routes, next(iter(over)))
        whole = forbidden | set(legs)
        for branch in [forbidden | {leg} for leg in legs] + [whole]:
            if branch in searched or (branch != whole and len(searched) >= MAX_LIMIT_SEARCHES):
                continue
            searched.add(branch)
            try:
                found = min_cost_routes(net, site, count, branch)
            except NoRouteError:
                continue
            heapq.heappush(queue, (value(found), next(order), branch, found))
    raise NoRouteError(f"site {site[1]} cannot reach a PoP within the free strand pairs and closure splices left")


def _counted(risks: list[dict]) -> str:
    return ", ".join(f"{sum(r['kind'] == kind for r in risks)} {kind}(s)"
                     for kind in ("trench", "node", "building", "corridor") if any(r["kind"] == kind for r in risks))


def risk_dict(net: CandidateNetwork, routes: list[Route], risk: SharedRisk) -> dict:
    """A fault of a pair with its trenches and nodes named as an operator knows them;
    ``route``: the route that shares it with itself (1, 2), None for one both share."""
    legs = {leg.edge_id: leg for route in routes for leg in route.legs}

    def node_name(node) -> str:
        return net.graph.nodes[node].get("code") or f"{node[0]}:{node[1]}"

    def name(element) -> str:
        if element in legs:
            leg = legs[element]
            return leg.code or f"new {leg.kind} trench {leg.a[1]}-{leg.b[1]}"
        if element in net.graph:
            return node_name(element)
        ends, _ = element  # a trench a ridden cable lies in (no candidate edge of the route)
        return "trench " + "-".join(sorted(node_name(node) for node in ends))

    return {"kind": risk.kind, "elements": [name(e) for e in risk.elements], "metres": risk.metres,
            "route": risk.route}
