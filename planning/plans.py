"""Planning operations as the CLI (and tests) use them: plan, store, export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlmodel import Session, select

from inventory.models import Cable, CableSegment, Plan, Site, TrenchSegment
from netops.errors import NetopsError
from planning.batch import JointPlan, SkippedSite, SteinerInstance, plan_batch
from planning.changeset import SiteRoutes, save_plan
from planning.connect import ConnectPlan, SiteSpec, plan_connection
from planning.context import NetworkOptions, load_network
from planning.exact import optimal_cost
from planning.strands import strand_capacities
from planning.loss_budget import DEFAULT_MIN_MARGIN_DB, named_optic, optics_from_inventory
from planning.redundant import RedundantInstance, RedundantPlan, exact_pairs, plan_redundant_batch


@dataclass
class ConnectResult:
    plan: ConnectPlan
    stored: Plan | None


@dataclass
class BatchResult:
    plan: JointPlan | RedundantPlan
    stored: Plan | None
    exact_eur: float | None = None  # optimum of the routing cost (civil works + cable), --exact


def connect_site(session: Session, site: SiteSpec, options: NetworkOptions, *, redundant: bool = False,
                 optic: str | None = None, min_margin_db: float = DEFAULT_MIN_MARGIN_DB,
                 save: bool = True, name: str | None = None) -> ConnectResult:
    optics = optics_from_inventory(session)
    if optic:
        named_optic(optics, optic)  # an unknown name is one line before the network is loaded and routed
    net = load_network(session, options)
    plan = plan_connection(net, site, optics, redundant=redundant, optic_name=optic, min_margin_db=min_margin_db)
    stored = None
    if save:
        kind = "connect-redundant" if redundant else "connect"
        stored = save_plan(session, net, name=name or _free_name(session, f"{kind}-{site.code}"), kind=kind,
                           items=[SiteRoutes(site, plan.routes, tuple(b.optic for b in plan.loss))],
                           total_eur=plan.total_eur, summary=plan.to_dict())
    return ConnectResult(plan, stored)


class UnplannableSitesError(NetopsError):
    """Sites of a batch cannot be planned, and the user did not ask to skip them."""

    def __init__(self, source: str, sites: list[SkippedSite]):
        self.sites = sites
        super().__init__(f"{source}: {len(sites)} site(s) cannot be planned (--skip-unreachable plans the "
                         f"rest): " + "; ".join(str(s) for s in sites))


def batch_sites(session: Session, sites: list[SiteSpec], options: NetworkOptions, *, save: bool = True,
                name: str | None = None, exact: bool = False, skip_unreachable: bool = False,
                unplaceable: tuple[SkippedSite, ...] = (), source: str = "batch",
                redundant: bool = False, thorough: bool = False,
                progress: Callable[[int, int], None] | None = None) -> BatchResult:
    """The joint plan of ``sites`` (with ``redundant``, two risk-free routes per site;
    with ``thorough``, improved by a neighbourhood search, ``progress`` over it). A
    site that cannot be connected (or one of ``unplaceable``, e.g. without coordinates)
    fails the whole batch, naming every such site; with ``skip_unreachable`` the rest is
    planned and the plan lists each skipped site."""
    if redundant and thorough:
        raise NetopsError("--thorough improves the single-route batch; it does not apply with --redundant")
    net = load_network(session, options)
    plan = plan_redundant_batch(net, sites) if redundant else plan_batch(net, sites, thorough, progress)
    rows = {s.code: s.row for s in sites}
    skipped = sorted([*unplaceable, *(SkippedSite(code, why, rows[code]) for code, why in plan.unreachable.items())],
                     key=lambda s: (s.row or 0, s.site))
    if skipped and not skip_unreachable:
        raise UnplannableSitesError(source, skipped)
    if not plan.routes:
        raise NetopsError(f"{source}: no site can be planned: " + "; ".join(str(s) for s in skipped))
    plan.skipped = skipped
    exact_eur = None
    planned = [("site", s.code) for s in sites if s.code in plan.routes]
    if exact and redundant:
        exact_eur = exact_pairs(RedundantInstance(net, planned)).value_eur
    elif exact:
        instance = SteinerInstance.from_network(net, planned)
        exact_eur = optimal_cost(instance, capacities=strand_capacities(net, instance))
    stored = None
    if save:
        kind = "batch-redundant" if redundant else "batch"
        items = [SiteRoutes(s, list(plan.routes[s.code]) if redundant else [plan.routes[s.code]])
                 for s in sites if s.code in plan.routes]
        stored = save_plan(session, net, name=name or _free_name(session, kind), kind=kind, items=items,
                           total_eur=plan.total_eur, summary=plan.to_dict())
    return BatchResult(plan, stored, exact_eur)


def _free_name(session: Session, base: str) -> str:
    names = set(session.exec(select(Plan.name).where(Plan.name.startswith(base))).all())
    n = 1
    while f"{base}-{n}" in names:
        n += 1
    return f"{base}-{n}"


def plan_geojson(session: Session, plan: Plan) -> dict:
    """The plan's cable routes as GeoJSON: one LineString per trench segment per cable,
    new trenches (owned by the plan) told apart from re-used ones."""
    features = []
    cables = session.exec(select(Cable).where(Cable.plan_id == plan.id).order_by(Cable.id)).all()
    site_codes = dict(session.exec(select(Site.id, Site.code)).all())
    for cable in cables:
        steps = session.exec(select(CableSegment.seq, TrenchSegment)
                             .join(TrenchSegment, TrenchSegment.id == CableSegment.segment_id)
                             .where(CableSegment.cable_id == cable.id).order_by(CableSegment.seq)).all()
        for seq, seg in steps:
            features.append({"type": "Feature",
                             "geometry": {"type": "LineString", "coordinates": seg.geometry},
                             "properties": {"plan": plan.name, "cable": cable.code, "seq": seq,
                                            "site": site_codes.get(cable.a_site_id),
                                            "pop": site_codes.get(cable.b_site_id), "trench": seg.code,
                                            "laying_method": str(seg.laying_method),
                                            "length_m": seg.length_m,
                                            "new": seg.plan_id == plan.id, "status": str(seg.status)}})
    return {"type": "FeatureCollection", "features": features}
