"""Planning operations as the CLI (and tests) use them: plan, store, export."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from sqlmodel import Session, select

from inventory.models import Cable, CableSegment, Plan, Site, TrenchSegment
from netops.errors import NetopsError
from planning.batch import JointPlan, SkippedSite, SteinerInstance, plan_batch
from planning.changeset import SiteRoutes, save_plan
from planning.connect import ConnectPlan, SiteSpec, best_loss_budget, plan_connection
from planning.context import NetworkOptions, load_network
from planning.exact import optimal_cost
from planning.strands import strand_capacities
from planning.loss_budget import DEFAULT_MIN_MARGIN_DB, LossBudget, Optic, named_optic, optics_from_inventory
from planning.redundant import RedundantInstance, RedundantPlan, exact_pairs, plan_redundant_batch
from planning.routing import Route


@dataclass
class ConnectResult:
    plan: ConnectPlan
    stored: Plan | None


@dataclass
class BatchResult:
    plan: JointPlan | RedundantPlan
    stored: Plan | None
    exact_eur: float | None = None  # optimum of the routing cost (civil works + cable), --exact
    loss: dict[str, list[LossBudget]] = field(default_factory=dict)  # per site, one per route (as plan connect's)

    @property
    def flagged_sites(self) -> list[str]:
        """The sites a route of which keeps less than the minimum margin (or is beyond its optic's reach)."""
        return [code for code, budgets in self.loss.items() if any(b.flagged for b in budgets)]

    def to_dict(self) -> dict:
        """The plan's summary with each site's loss budgets (what is shown and stored), and
        whether the single-site plans of the independent total could all be built together
        (False: they count on the same last free pairs or closure joins, the saving is
        understated: the caveat the notes give in prose, as a field a script reads)."""
        return {**self.plan.to_dict(),
                "independent_buildable": self.plan.independent_buildable,
                "loss_budget": {code: [b.to_dict() for b in budgets] for code, budgets in self.loss.items()},
                "flagged": bool(self.flagged_sites), "flagged_sites": self.flagged_sites}


def known_optics(session: Session, optic: str | None) -> list[Optic]:
    """The optic types to plan with; ``UnknownOpticError`` (one line, exit 2, before any
    planning: a batch may plan for minutes first) when ``optic`` names none of them."""
    optics = optics_from_inventory(session)
    if optic:
        named_optic(optics, optic)
    return optics


def route_budgets(routes: dict[str, Route | Sequence[Route]], optics: list[Optic], optic: str | None,
                  min_margin_db: float) -> dict[str, list[LossBudget]]:
    """Per site, each route's loss budget as plan connect gives it (``best_loss_budget``)."""
    return {code: [best_loss_budget(r, optics, optic, min_margin_db=min_margin_db)
                   for r in ([rs] if isinstance(rs, Route) else rs)] for code, rs in routes.items()}


def connect_site(session: Session, site: SiteSpec, options: NetworkOptions, *, redundant: bool = False,
                 optic: str | None = None, min_margin_db: float = DEFAULT_MIN_MARGIN_DB,
                 save: bool = True, name: str | None = None) -> ConnectResult:
    optics = known_optics(session, optic)
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
        super().__init__(f"{source}: {len(sites)} site(s) cannot be planned: " + "; ".join(str(s) for s in sites))


def batch_sites(session: Session, sites: list[SiteSpec], options: NetworkOptions, *, save: bool = True,
                name: str | None = None, exact: bool = False, skip_bad_rows: bool = False,
                unplaceable: tuple[SkippedSite, ...] = (), source: str = "batch", csv_file: str | None = None,
                redundant: bool = False, thorough: bool = False, optic: str | None = None,
                min_margin_db: float = DEFAULT_MIN_MARGIN_DB,
                progress: Callable[[int, int], None] | None = None) -> BatchResult:
    """The joint plan of ``sites`` (with ``redundant``, two risk-free routes per site;
    with ``thorough``, improved by a neighbourhood search, ``progress`` over it). A
    site that cannot be connected (or one of ``unplaceable``, e.g. without coordinates or
    an invalid row of ``csv_file``) fails the whole batch, naming every such site; with
    ``skip_bad_rows`` the rest is planned and the plan lists each skipped site (each
    unreachable one a ``SkippedSite`` of ``csv_file``, if any). Every route gets the loss
    budget plan connect would give it (``optic``, ``min_margin_db`` as there), its optic
    stored on the route's interfaces."""
    if redundant and thorough:
        raise NetopsError("--thorough improves the single-route batch; it does not apply with --redundant")
    optics = known_optics(session, optic)
    net = load_network(session, options)
    plan = plan_redundant_batch(net, sites) if redundant else plan_batch(net, sites, thorough, progress)
    rows = {s.code: s.row for s in sites}
    skipped = sorted([*unplaceable, *(SkippedSite(code, why, rows[code], csv_file)
                                      for code, why in plan.unreachable.items())], key=lambda s: (s.row or 0, s.site))
    if not plan.routes:  # first: skipping would leave nothing to plan either
        raise NetopsError(f"{source}: no site can be planned: " + "; ".join(str(s) for s in skipped))
    if skipped and not skip_bad_rows:
        raise UnplannableSitesError(source, skipped)
    plan.skipped = skipped
    exact_eur = None
    planned = [("site", s.code) for s in sites if s.code in plan.routes]
    if exact and redundant:
        exact_eur = exact_pairs(RedundantInstance(net, planned)).value_eur
    elif exact:
        instance = SteinerInstance.from_network(net, planned)
        exact_eur = optimal_cost(instance, capacities=strand_capacities(net, instance))
    result = BatchResult(plan, None, exact_eur, route_budgets(plan.routes, optics, optic, min_margin_db))
    if save:
        kind = "batch-redundant" if redundant else "batch"
        items = [SiteRoutes(s, list(plan.routes[s.code]) if redundant else [plan.routes[s.code]],
                            tuple(b.optic for b in result.loss[s.code]))
                 for s in sites if s.code in plan.routes]
        result.stored = save_plan(session, net, name=name or _free_name(session, kind), kind=kind, items=items,
                                  total_eur=plan.total_eur, summary=result.to_dict())
    return result


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
