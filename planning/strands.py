"""Spare strands of existing cables: which are free, and keeping a batch within them.

A strand is *taken* when a link hop, a PON feeder or drop, or a plan (draft or applied)
uses it. A draft plan's strands are held like a reservation: its link hops exist as
planned rows (and LinkHop allows one link per strand), so the next plan is offered the
others; ``plan discard`` deletes them and frees the strands, ``plan apply`` makes them
used for good. A new site takes a duplex pair (two strands) on every cable it rides:
a cable with k free strands serves k // 2 sites.

A closure's splice trays hold ``SpliceClosure.capacity_splices`` fusion splices. Each
strand end in use at a closure is spliced there: joined to another cable's strand (half a
splice each: link hops through the closure) or to a splitter in it (a whole one: PON
feeders and drops); a plan records the splices its pair joins take (two per site and
closure passed) in its change set. What is left, halved, is the pair joins the closure
can still take (``CandidateNetwork.closure_joins``). A new closure a plan opens mid-span
has no limit while planning (the change set sizes it for what it takes).

The batch planner (``planning.batch``) optimises without capacities;
``respect_strand_capacity`` then moves the sites that lose least by giving up their
strands onto their next best way, until no cable carries more sites than it has pairs
and no closure more pair joins than it has room for.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Sequence

import numpy as np
from sqlmodel import Session, select

from inventory.models import (
    Cable, CableSegment, Link, LinkHop, Plan, PlanState, ResidentialConnection, RouteNode, SpliceClosure, Splitter,
    Status,
)
from inventory.plant import cable_closures, halves_to_splices, held_splice_halves
from planning.network import STRAND, CandidateNetwork, Node, SpareCable
from planning.routing import Route
from inventory.plan_changes import changes_of


def taken_strands(session: Session, except_plan: Plan | None = None) -> dict[int, set[int]]:
    """Cable id -> the strand numbers something (but ``except_plan``) uses already."""
    taken: dict[int, set[int]] = defaultdict(set)
    hops = select(LinkHop.cable_id, LinkHop.strand_a, LinkHop.strand_b)
    if except_plan is not None:
        own_links = select(Link.id).where(Link.plan_id == except_plan.id)
        hops = hops.where(LinkHop.link_id.not_in(own_links))
    for cable, a, b in session.exec(hops).all():
        taken[cable].update((a, b))
    for model, cable_field, strand_field in ((Splitter, "feeder_cable_id", "feeder_strand"),
                                             (ResidentialConnection, "drop_cable_id", "drop_strand")):
        cable_col, strand_col = getattr(model, cable_field), getattr(model, strand_field)
        for cable, strand in session.exec(select(cable_col, strand_col).where(cable_col.is_not(None))).all():
            taken[cable].add(strand)
    # strands a plan assigned without a link (a PoP without active equipment gets none)
    plans = select(Plan.name, Plan.summary).where(Plan.state.in_([PlanState.DRAFT, PlanState.APPLIED]))
    if except_plan is not None:
        plans = plans.where(Plan.id != except_plan.id)
    for name, summary in session.exec(plans).all():
        for use in changes_of(name, summary).get("strands", []):
            taken[use["cable_id"]].update(use["strands"])
    return taken


PLAN_SOURCE = "plan"  # rows a plan wrote (``planning.changeset``): their splices are in the plan's record


def free_splices(session: Session, except_plan: Plan | None = None) -> dict[int, int]:
    """Active closure id -> splice positions still free in its trays (never below 0):
    its capacity less the plant's strand ends spliced in it (``used_splices``)."""
    used = used_splices(session, except_plan)
    return {cid: max(0, capacity - used.get(cid, 0)) for cid, capacity in session.exec(
        select(SpliceClosure.id, SpliceClosure.capacity_splices).where(SpliceClosure.status == Status.ACTIVE)).all()}


def used_splices(session: Session, except_plan: Plan | None = None) -> dict[int, int]:
    """Closure id -> fusion splices in its trays: what the plant holds
    (``inventory.plant.held_splice_halves``: links' hops but a plan's, PON feeders and
    drops) and what draft and applied plans (but ``except_plan``) recorded for their pair
    joins (a plan before that record: two per strand pair it took, at each closure end)."""
    halves = defaultdict(int, held_splice_halves(session, except_link_source=PLAN_SOURCE))
    closures_of = cable_closures(session)
    plans = select(Plan.name, Plan.summary).where(Plan.state.in_([PlanState.DRAFT, PlanState.APPLIED]))
    if except_plan is not None:
        plans = plans.where(Plan.id != except_plan.id)
    for name, summary in session.exec(plans).all():
        changes = changes_of(name, summary)
        if "splices" in changes:
            for use in changes["splices"]:
                halves[use["closure_id"]] += 2 * use["splices"]
        else:
            for use in changes.get("strands", []):
                for closure in closures_of.get(use["cable_id"], ()):
                    halves[closure] += 4
    return halves_to_splices(halves)


def spare_cables(session: Session) -> tuple[list[SpareCable], dict[int, str]]:
    """Every active cable with at least one free strand pair and a closure at an end, and
    the codes of the closures (id -> code)."""
    closures = {c.id: (c.code, c.node_id) for c in session.exec(
        select(SpliceClosure).where(SpliceClosure.status == Status.ACTIVE)).all()}
    entry_of = dict(session.exec(select(RouteNode.site_id, RouteNode.id).where(
        RouteNode.site_id.is_not(None), RouteNode.status == Status.ACTIVE)).all())
    paths: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for cable, seq, segment in session.exec(select(CableSegment.cable_id, CableSegment.seq,
                                                   CableSegment.segment_id)).all():
        paths[cable].append((seq, segment))
    taken = taken_strands(session)
    pon = pon_cables(session)
    found = []
    for cable in session.exec(select(Cable).where(Cable.status == Status.ACTIVE, Cable.plan_id.is_(None))
                              .order_by(Cable.id)).all():
        if cable.a_closure_id is None and cable.b_closure_id is None:
            continue
        ends, usable = [], True
        for site, closure in ((cable.a_site_id, cable.a_closure_id), (cable.b_site_id, cable.b_closure_id)):
            node = closures[closure][1] if closure in closures else entry_of.get(site) if site else None
            usable &= node is not None and (closure is None or closure in closures)
            ends.append(node)
        free = tuple(s for s in range(1, cable.strands + 1) if s not in taken.get(cable.id, ()))
        if not usable or len(free) < 2 or not paths.get(cable.id):
            continue
        found.append(SpareCable(cable.id, cable.code, (ends[0], ends[1]), (cable.a_closure_id, cable.b_closure_id),
                                tuple(seg for _, seg in sorted(paths[cable.id])), cable.length_m, free,
                                splittable=cable.id not in pon))
    return found, {cid: code for cid, (code, _) in closures.items()}


def pon_cables(session: Session) -> set[int]:
    """Cables a PON feeder or drop strand rides: the model records one cable per such
    strand (``topology.pon`` counts its whole length), so a split would change the
    audit's answer; they are not opened mid-span."""
    found = set(session.exec(select(Splitter.feeder_cable_id).where(Splitter.feeder_cable_id.is_not(None))).all())
    return found | set(session.exec(select(ResidentialConnection.drop_cable_id).where(
        ResidentialConnection.drop_cable_id.is_not(None))).all())


def closure_nodes(session: Session) -> set[int]:
    """Route nodes holding a closure (active or planned): no new one is offered beside it."""
    return set(session.exec(select(SpliceClosure.node_id).where(SpliceClosure.status != Status.DECOMMISSIONED)).all())


@dataclass(frozen=True)
class Limit:
    """A limited part of the spare-strand plant, in routes: a cable's free pairs, a
    closure's room for pair joins. Keys: ("cable", cable id), ("closure", closure node)."""

    name: str
    routes: int
    arcs_per_route: int  # arcs of a route on it in a ``SteinerInstance``: a strand edge, or in and out


def limits(net: CandidateNetwork) -> dict[Hashable, Limit]:
    """Every limited cable and closure of the candidate network."""
    names = net.closure_names()
    found: dict[Hashable, Limit] = {("cable", c): Limit(f"cable {cable.code}", cable.pairs, 1)
                                    for c, cable in sorted(net.spare_cables.items())}
    found |= {("closure", x): Limit(f"closure {names[x]}", joins, 2)
              for x, joins in sorted(net.closure_joins.items()) if x in net.graph}
    return found


def edge_limits(a: Node, b: Node, kind: str, cable_id: int | None) -> list[Hashable]:
    """THE strand rule, for every user (routes, change sets, the batch's arcs, the redundant
    search's edges): the limits a candidate edge from ``a`` to ``b`` is on: its cable's free
    pairs (an edge along spare strands, ``cable_id``), the closures at its ends (a route
    passing one enters and leaves it: two edges on it, one pair join)."""
    on = [("cable", cable_id)] if kind == STRAND else []
    return on + [("closure", node) for node in (a, b) if node[0] == "x"]


def leg_cable(leg) -> int | None:
    """The existing cable whose spare pair a leg takes (a leg along its strands), else None."""
    return leg.key[1] if leg.kind == STRAND else None


def leg_limits(leg) -> list[Hashable]:
    """The limits a route's leg is on (``edge_limits``)."""
    return edge_limits(leg.a, leg.b, leg.kind, leg_cable(leg))


def route_limits(route: Route) -> Counter:
    """The units a route takes of each limit (what its change set takes, ``planning.changeset``):
    a pair of a cable on every leg along its strands (the parts of a cable opened mid-span
    share its pairs, and each leg is a link hop on a pair of its own), a pair join in each
    closure it passes (``leg_limits``); in route order."""
    on = [key for leg in route.legs for key in leg_limits(leg)]
    return Counter(k for k in on if k[0] == "cable") + Counter({k: 1 for k in on if k[0] == "closure"})


def legs_on(routes: Iterable[Route], limit: Hashable) -> list[Hashable]:
    """The routes' legs on ``limit`` (``leg_limits``), by edge id, each once, in route order."""
    return list(dict.fromkeys(leg.edge_id for route in routes for leg in route.legs if limit in leg_limits(leg)))


def cable_users(routes: list[Route]) -> dict[int, int]:
    """Cable id -> strand pairs the routes take on it (``leg_limits``)."""
    return dict(Counter(key[1] for route in routes for leg in route.legs for key in leg_limits(leg)
                        if key[0] == "cable"))


def overloaded_limits(routes: Iterable[Route], known: dict[Hashable, Limit]) -> dict[Hashable, tuple[int, int]]:
    """Limit key -> (routes on it, routes it has room for) for every one of ``known``
    (``limits``) the routes together overload, in a fixed order (by key)."""
    users = sum((route_limits(route) for route in routes), Counter())
    return {k: (users[k], known[k].routes) for k in sorted(users, key=repr) if k in known and users[k] > known[k].routes}


def over_capacity(net: CandidateNetwork, routes: list[Route]) -> dict[str, tuple[int, int]]:
    """Cable or closure name -> (routes on it, routes it has room for) for every one the
    routes overload (``overloaded_limits``)."""
    known = limits(net)
    return {known[k].name: load for k, load in overloaded_limits(routes, known).items()}


def limit_arcs(net: CandidateNetwork, instance) -> dict[Hashable, list[int]]:
    """Limit key -> the arcs of a ``planning.batch.SteinerInstance`` a route on it takes:
    a cable's strand edge (one arc of a parallel candidate split in two halves), every arc
    at a closure."""
    cables: dict[Hashable, list[int]] = defaultdict(list)
    closures: dict[Hashable, list[int]] = defaultdict(list)
    index = {node: i for i, node in enumerate(net.graph.nodes)}
    seen = set()
    for arc, origin in enumerate(instance.origin):
        if origin is None:
            continue
        data = net.edge(*origin)
        for limit in edge_limits(origin[0], origin[1], data["kind"], data.get("cable_id")):
            if limit[0] == "cable" and origin not in seen:
                seen.add(origin)
                cables[limit].append(arc)
            elif (limit[0] == "closure" and limit[1] in net.closure_joins
                  and index[limit[1]] in (instance.tail[arc], instance.head[arc])):
                closures[limit].append(arc)
    return dict(cables) | {("closure", x): closures[("closure", x)] for x in net.closure_joins
                           if ("closure", x) in closures}


def strand_capacities(net: CandidateNetwork, instance) -> list[tuple[list[int], int]]:
    """(arcs, arc uses) of every limited cable and closure, for ``planning.exact``."""
    known = limits(net)
    return [(arcs, known[k].routes * known[k].arcs_per_route)
            for k, arcs in sorted(limit_arcs(net, instance).items(), key=repr)]


@dataclass(frozen=True, eq=False)  # ndarray fields: compared and hashed as one object
class LimitCounter:
    """Of ``strand_capacities`` (or ``planning.bounds.capacity_rows``): each limit's arcs
    (``members``), the arc uses it allows (``room``), and the one rule counting what paths
    take of each (an arc may be limited twice: a strand edge at a closure). Made once per
    batch (``limit_counter``) and handed to everything that keeps the plan within the limits."""

    members: list[np.ndarray]
    room: np.ndarray
    limits_of_arc: dict[int, list[int]]
    member_arcs: np.ndarray
    member_of: np.ndarray

    @property
    def active(self) -> bool:
        return len(self.room) > 0

    def taken(self, arcs: Sequence[int]) -> np.ndarray:
        """The uses one path's ``arcs`` take of each limit."""
        found = [i for arc in arcs for i in self.limits_of_arc.get(arc, ())]
        return np.bincount(np.asarray(found, dtype=np.int64), minlength=len(self.room))

    def taken_by_all(self, usage: np.ndarray) -> np.ndarray:
        """The uses of each limit of a plan given as its arc usage (paths per arc)."""
        counts = np.zeros(len(self.room), dtype=np.int64)
        np.add.at(counts, self.member_of, usage[self.member_arcs])
        return counts

    def used(self, paths: Iterable[Sequence[int]]) -> np.ndarray:
        """The uses of each limit the ``paths`` take together."""
        size = int(self.member_arcs.max()) + 1 if len(self.member_arcs) else 0
        arcs = [np.asarray(p, dtype=np.int64) for p in paths]
        arcs_on = np.concatenate(arcs) if arcs else np.zeros(0, dtype=np.int64)
        return self.taken_by_all(np.bincount(arcs_on[arcs_on < size], minlength=size))

    def within(self, paths: Iterable[Sequence[int]]) -> bool:
        """Whether the ``paths`` together take no more of any limit than it allows."""
        return bool(np.all(self.used(paths) <= self.room))


def limit_counter(capacities: Sequence[tuple[Sequence[int], int]]) -> LimitCounter:
    """The ``LimitCounter`` of ``capacities`` ((arcs, arc uses at most) per limit)."""
    members = [np.asarray(list(arcs), dtype=np.int64) for arcs, _ in capacities]
    limits_of_arc: dict[int, list[int]] = defaultdict(list)
    for i, arcs in enumerate(members):
        for arc in arcs.tolist():
            limits_of_arc[arc].append(i)
    return LimitCounter(
        members, np.asarray([limit for _, limit in capacities], dtype=np.int64), dict(limits_of_arc),
        np.concatenate(members) if members else np.zeros(0, dtype=np.int64),
        np.repeat(np.arange(len(members), dtype=np.int64), [len(arcs) for arcs in members]))


NO_LIMITS = limit_counter(())


def respect_strand_capacity(net: CandidateNetwork, instance, paths: dict[int, list[int]]) -> dict[int, list[int]]:
    """The batch plan ``paths`` (site -> arcs of a ``planning.batch.SteinerInstance``) with
    no cable carrying more sites than it has free pairs and no closure more than it has
    room for pair joins.

    While one is overloaded, each of its sites is priced on its best way avoiding it (and
    every one already full), given the trenches the other sites dig; the site losing
    least moves. A site with no other way at all drops out of the plan (it is reported
    unreachable)."""
    known = limits(net)
    arcs_of = limit_arcs(net, instance)
    limits_of_arc: dict[int, list[Hashable]] = defaultdict(list)
    for key, arcs in arcs_of.items():
        for arc in arcs:
            limits_of_arc[arc].append(key)
    if not limits_of_arc:
        return paths
    paths = {t: list(p) for t, p in paths.items()}

    # counted in arcs, whole numbers: a route takes ``arcs_per_route`` of a limit's arcs, so it
    # has room for routes × arcs_per_route; ``per_route`` makes the room left comparable in
    # routes between limits of one and of two arcs a route (a closure: in and out)
    room = {k: limit.routes * limit.arcs_per_route for k, limit in known.items()}
    scale = math.lcm(*(limit.arcs_per_route for limit in known.values()))
    per_route = {k: scale // limit.arcs_per_route for k, limit in known.items()}

    def users() -> dict[Hashable, Counter]:
        """Limit -> its sites, each with the arcs of it its way takes."""
        found: dict[Hashable, Counter] = defaultdict(Counter)
        for t, arcs in sorted(paths.items()):
            for k in (k for a in arcs for k in limits_of_arc.get(a, ())):
                found[k][t] += 1
        return found

    while True:
        using = users()
        overloaded = sorted((k for k, ts in using.items() if ts.total() > room[k]),
                            key=lambda k: ((room[k] - using[k].total()) * per_route[k], repr(k)))
        if not overloaded:
            return paths
        crowded = overloaded[0]
        full = {k for k, ts in using.items() if ts.total() >= room[k]}
        best = None
        dug = np.zeros(len(instance.fixed), dtype=np.int64)
        for arcs in paths.values():
            np.add.at(dug, arcs, 1)
        for t in using[crowded]:
            # off the crowded one and every other full one but those t holds itself
            blocked = np.zeros(len(instance.fixed), dtype=bool)
            blocked[[a for k in full if k == crowded or t not in using[k] for a in arcs_of[k]]] = True
            usage = dug.copy()
            np.subtract.at(usage, paths[t], 1)
            weights = instance.per_cable + np.where(usage > 0, 0.0, instance.fixed)
            now = float(weights[paths[t]].sum())
            # only a way losing less than the best so far matters: the search stops there
            bar = np.inf if best is None else max(0.0, (now + best[0]) * (1 + 1e-9) + 1e-9)
            dist, preds = instance.shortest(np.where(blocked, np.inf, weights), t, limit=bar)
            loss = float(dist[instance.root]) - now
            if best is None or loss < best[0]:
                best = (loss, t, preds)
        loss, t, preds = best
        if np.isfinite(loss):
            paths[t] = instance.path(preds, t, instance.root)[::-1]
        else:
            del paths[t]  # no way to a PoP without the strands and closures others hold


MAX_SWAP_SEARCHES = 200  # shortest-path searches per batch (a re-routing pass: one per site): no clock


def swap_scarce_strands(instance, paths: dict[int, list[int]], limits: LimitCounter,
                        settle: Callable[[dict[int, list[int]]], dict[int, list[int]]],
                        max_searches: int = MAX_SWAP_SEARCHES) -> dict[int, list[int]]:
    """The batch plan ``paths`` after the capacity repair, improved by giving the scarce
    strands and closure joins to other sites: the repair moves one site at a time and
    the first to hold a full cable keeps it, even where another site needs it more.

    A site *contests* a full limit when its cheapest way ignoring that limit (given what
    the others dig) rides it and is cheaper than its own. The limit's holders and its
    contesters leave the plan and are planned again, one after the other in every order,
    each on its cheapest way within what the others leave; then ``settle`` (the
    batch's re-routing pass within the limits) lets every other site follow (take a
    trench a moved site now digs, leave one nobody needs any more). The first order that
    makes the whole plan cheaper is kept, and the search starts again.
    At most ``max_searches`` shortest-path searches (a ``settle`` counts one per site): on
    a city the batch pays a few seconds at most; the sites' order is fixed, so two runs give
    the same plan."""
    members, room, taken = limits.members, limits.room, limits.taken
    if not limits.active:
        return paths

    def state(others: dict[int, list[int]]) -> tuple[np.ndarray, np.ndarray]:
        usage = np.zeros(len(instance.fixed), dtype=np.int64)
        if others:
            np.add.at(usage, np.concatenate([np.asarray(arcs, dtype=np.int64) for arcs in others.values()]), 1)
        return instance.per_cable + np.where(usage > 0, 0.0, instance.fixed), limits.taken_by_all(usage)

    def cheapest(t: int, others: dict[int, list[int]], within: bool = True) -> list[int] | None:
        """t's cheapest way given what ``others`` dig; ``within``: taking no more of a
        limit than they leave (a way that would overfill one bars it and searches again)."""
        weights, used = state(others)
        if within:
            for full in np.flatnonzero(used >= room):
                weights[members[full]] = np.inf
        while True:
            dist, preds = instance.shortest(weights, t)
            if not np.isfinite(dist[instance.root]):
                return None
            way = instance.path(preds, t, instance.root)[::-1]
            over = np.flatnonzero(used + taken(way) > room) if within else ()
            if not len(over):
                return way
            for full in over:
                weights[members[full]] = np.inf

    paths = {t: list(p) for t, p in sorted(paths.items())}
    cost, tried, work = instance.cost(paths), set(), [0]

    def search(t: int, others: dict[int, list[int]], within: bool = True) -> list[int] | None:
        work[0] += 1
        return cheapest(t, others, within)

    while work[0] < max_searches:
        used = limits.used(paths.values())
        holders = {i: [t for t in paths if taken(paths[t])[i]] for i in np.flatnonzero(used >= room).tolist()}
        groups = defaultdict(list)  # a full limit -> its holders, then the sites contesting it
        for t in paths if holders else ():
            others = {s: p for s, p in paths.items() if s != t}
            free = search(t, others, within=False)
            if free is None or instance.cost(others | {t: free}) >= cost - 1e-6:
                continue
            wanted = taken(free)
            for i, hs in holders.items():
                if wanted[i] and t not in hs:
                    groups[i] = groups[i] or list(hs)
                    groups[i].append(t)
        better = None
        for group in dict.fromkeys(tuple(g) for _, g in sorted(groups.items())):
            rest = {s: p for s, p in paths.items() if s not in group}
            for order in itertools.permutations(group):
                if work[0] >= max_searches or better is not None:
                    break
                if (order, cost) in tried:
                    continue
                tried.add((order, cost))
                candidate = dict(rest)
                for t in order:
                    way = search(t, candidate)
                    if way is None:
                        break
                    candidate[t] = way
                else:
                    work[0] += len(candidate)
                    candidate = settle(candidate)
                    if instance.cost(candidate) < cost - 1e-6:
                        better = (instance.cost(candidate), candidate)
        if better is None:
            return paths
        cost, paths = better[0], dict(sorted(better[1].items()))
    return paths
