"""Spare strands of existing cables: which are free, and keeping a batch within them.

A strand is *taken* when a link hop, a PON feeder or drop, or a plan (draft or applied)
uses it. A draft plan's strands are held like a reservation: its link hops exist as
planned rows (and LinkHop allows one link per strand), so the next plan is offered the
others; ``plan discard`` deletes them and frees the strands, ``plan apply`` makes them
used for good. A new site takes a duplex pair (two strands) on every cable it rides:
a cable with k free strands serves k // 2 sites.

The batch planner (``planning.batch``) optimises without capacities;
``respect_strand_capacity`` then moves the sites that lose least by giving up their
strands onto their next best way, until no cable carries more sites than it has pairs.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlmodel import Session, select

from inventory.models import (
    Cable, CableSegment, Link, LinkHop, Plan, PlanState, ResidentialConnection, RouteNode, SpliceClosure, Splitter,
    Status,
)
from planning.network import STRAND, CandidateNetwork, SpareCable
from planning.routing import Route


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
    plans = select(Plan.summary).where(Plan.state.in_([PlanState.DRAFT, PlanState.APPLIED]))
    if except_plan is not None:
        plans = plans.where(Plan.id != except_plan.id)
    for summary in session.exec(plans).all():
        for use in (summary or {}).get("changes", {}).get("strands", []):
            taken[use["cable_id"]].update(use["strands"])
    return taken


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
                                tuple(seg for _, seg in sorted(paths[cable.id])), cable.length_m, free))
    return found, {cid: code for cid, (code, _) in closures.items()}


def cable_users(routes: list[Route]) -> dict[int, int]:
    """Cable id -> strand pairs the routes take on it."""
    users: dict[int, int] = defaultdict(int)
    for route in routes:
        for leg in route.legs:
            if leg.kind == STRAND:
                users[leg.key[1]] += 1
    return dict(users)


def over_capacity(net: CandidateNetwork, routes: list[Route]) -> dict[str, tuple[int, int]]:
    """Cable code -> (pairs taken, pairs free) for every cable the routes overload."""
    return {net.spare_cables[c].code: (n, net.spare_cables[c].pairs)
            for c, n in sorted(cable_users(routes).items()) if n > net.spare_cables[c].pairs}


def strand_arcs(net: CandidateNetwork, instance) -> dict[int, list[int]]:
    """Cable id -> the arcs of a ``planning.batch.SteinerInstance`` on its spare strands."""
    arcs: dict[int, list[int]] = defaultdict(list)
    for arc, origin in enumerate(instance.origin):
        if origin is not None and net.edge(*origin).get("kind") == STRAND:
            arcs[net.edge(*origin)["cable_id"]].append(arc)
    return dict(arcs)


def strand_capacities(net: CandidateNetwork, instance) -> list[tuple[list[int], int]]:
    """(arcs, free pairs) of every cable with spare strands, for ``planning.exact``."""
    return [(arcs, net.spare_cables[cable].pairs) for cable, arcs in sorted(strand_arcs(net, instance).items())]


def respect_strand_capacity(net: CandidateNetwork, instance, paths: dict[int, list[int]]) -> dict[int, list[int]]:
    """The batch plan ``paths`` (site -> arcs of a ``planning.batch.SteinerInstance``) with
    no cable carrying more sites than it has free pairs.

    While a cable is overloaded, each of its sites is priced on its best way avoiding it
    (and every cable already full), given the trenches the other sites dig; the site
    losing least moves. A site with no other way at all drops out of the plan (it is
    reported unreachable)."""
    arcs_of_cable = strand_arcs(net, instance)
    cable_of_arc = {arc: cable for cable, arcs in arcs_of_cable.items() for arc in arcs}
    if not cable_of_arc:
        return paths
    paths = {t: list(p) for t, p in paths.items()}

    def users() -> dict[int, list[int]]:
        found: dict[int, list[int]] = defaultdict(list)
        for t, arcs in sorted(paths.items()):
            for cable in dict.fromkeys(cable_of_arc[a] for a in arcs if a in cable_of_arc):
                found[cable].append(t)
        return found

    while True:
        using = users()
        overloaded = sorted((c for c, ts in using.items() if len(ts) > net.spare_cables[c].pairs),
                            key=lambda c: (net.spare_cables[c].pairs - len(using[c]), c))
        if not overloaded:
            return paths
        cable = overloaded[0]
        full = {c for c, ts in using.items() if len(ts) >= net.spare_cables[c].pairs}
        blocked = np.zeros(len(instance.fixed), dtype=bool)
        blocked[[a for c in full for a in arcs_of_cable[c]]] = True
        best = None
        dug = np.zeros(len(instance.fixed), dtype=np.int64)
        for arcs in paths.values():
            np.add.at(dug, arcs, 1)
        for t in using[cable]:
            usage = dug.copy()
            np.subtract.at(usage, paths[t], 1)
            weights = instance.per_cable + np.where(usage > 0, 0.0, instance.fixed)
            now = float(weights[paths[t]].sum())
            dist, preds = instance.shortest(np.where(blocked, np.inf, weights), t)
            loss = float(dist[instance.root]) - now
            if best is None or loss < best[0]:
                best = (loss, t, preds)
        loss, t, preds = best
        if np.isfinite(loss):
            paths[t] = instance.path(preds, t, instance.root)[::-1]
        else:
            del paths[t]  # no way to a PoP without the strands others hold
