"""Everything a plan needs from the inventory: priced candidate network, PoPs, sites."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, replace
from pathlib import Path

from sqlmodel import Session, select

from inventory.models import RouteNode, Site, SiteKind, Status, TrenchSegment
from netops.errors import InputError, NotFoundError, RowProblem
from netops.textfile import read_text
from netops.vocabulary import did_you_mean
from planning.batch import SkippedSite
from planning.connect import SiteSpec
from planning.costs import cost_model
from planning.network import CandidateNetwork, build_candidate_network, load_street_network
from planning.strands import closure_nodes, free_splices, spare_cables
from topology.graphs import physical_graph


@dataclass(frozen=True)
class NetworkOptions:
    streets: Path | None = None  # candidate street network (GeoJSON)
    strands: int = 12
    region: str | None = None  # price table region (default: any)
    on: dt.date | None = None  # price table in force on this date (default: today)
    spare_strands: bool = True  # splice into existing cables' free strands (False: new cables only)
    midspan_closures: bool = True  # also open a spare cable mid-span with a new closure in a manhole


def pop_nodes(session: Session) -> dict[int, str]:
    """Route node id -> site code of every active PoP (site kind core) entry node."""
    rows = session.exec(
        select(RouteNode.id, Site.code).join(Site, Site.id == RouteNode.site_id)
        .where(Site.kind == SiteKind.CORE, Site.status == Status.ACTIVE)
    ).all()
    return {node_id: code for node_id, code in rows}


def load_network(session: Session, options: NetworkOptions) -> CandidateNetwork:
    costs = cost_model(session, region=options.region, on=options.on)
    streets = load_street_network(options.streets) if options.streets else []
    physical = physical_graph(session)
    # every trench's way: new trenches beside full ones follow it, the corridor rule measures it
    geometries = dict(session.exec(select(TrenchSegment.id, TrenchSegment.geometry)).all())
    cables, closure_codes = spare_cables(session) if options.spare_strands else ([], {})
    return build_candidate_network(physical, pop_nodes(session), costs, streets=streets,
                                   strands=options.strands, geometries=geometries,
                                   spare_cables=cables, closure_codes=closure_codes,
                                   closure_splices=free_splices(session) if cables else None,
                                   midspan_closures=options.midspan_closures,
                                   closure_nodes=closure_nodes(session) if cables else ())


def _spec(site: Site, entry_nodes: dict[int, int]) -> SiteSpec:
    entry = entry_nodes.get(site.id)
    return SiteSpec(site.code, site.name, str(site.kind), site.lat, site.lon, site.id,
                    ("n", entry) if entry is not None else None)


def _entry_nodes(session: Session, site_ids: list[int]) -> dict[int, int]:
    if not site_ids:
        return {}
    rows = session.exec(select(RouteNode.site_id, RouteNode.id).where(
        RouteNode.site_id.in_(site_ids), RouteNode.status == Status.ACTIVE)).all()
    return {site_id: node_id for site_id, node_id in rows}


def site_spec(session: Session, code: str) -> SiteSpec:
    site = session.exec(select(Site).where(Site.code == code)).first()
    if site is None:
        raise NotFoundError(f"no site with code {code!r}{did_you_mean(code, session.exec(select(Site.code)).all())}")
    if site.lat is None:
        raise NotFoundError(f"site {code} has no coordinates to plan from")
    return _spec(site, _entry_nodes(session, [site.id]))


def sites_by_kind(session: Session, kind: str, status: str | None) -> tuple[list[SiteSpec], list[str]]:
    """The sites of a kind (and status) to plan, and the codes of those without coordinates
    (which cannot be planned: the caller says so)."""
    query = select(Site).where(Site.kind == kind)
    if status:
        query = query.where(Site.status == status)
    sites = session.exec(query.order_by(Site.code)).all()
    placed = [s for s in sites if s.lat is not None and s.lon is not None]
    entries = _entry_nodes(session, [s.id for s in placed])
    return [_spec(site, entries) for site in placed], [s.code for s in sites if s.lat is None or s.lon is None]


class SkippableRowsError(InputError):
    """Invalid rows of a sites CSV that has valid ones too: skipping them (``skip_invalid``)
    would plan the rest."""


def sites_from_csv(session: Session, path: Path, *, skip_invalid: bool = False) -> tuple[list[SiteSpec],
                                                                                       list[SkippedSite]]:
    """Sites to plan from a CSV: a ``code`` column naming inventory sites, or new sites
    given by ``code, name, kind, lat, lon``. All or nothing, unless ``skip_invalid``: then
    the valid rows and each invalid one (file, row, field, value, reason). A file with no
    valid row (or not readable as CSV) is an error either way."""
    name = str(path)
    try:
        rows = list(csv.DictReader(io.StringIO(read_text(path), newline="")))
    except csv.Error as exc:  # e.g. a cell over csv's field size limit
        raise InputError([RowProblem(name, 0, "file", "", f"not readable as CSV: {exc}")]) from None
    specs, problems = [], []
    first_row: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        if not code:
            problems.append((code, RowProblem(name, number, "code", "", "missing")))
            continue
        if code in first_row:
            problems.append((code, RowProblem(name, number, "code", code,
                                              f"listed twice (also row {first_row[code]})")))
            continue
        try:
            if (row.get("lat") or "").strip():
                spec = new_site_spec(session, code, row.get("name") or code, row.get("kind") or "kindergarten",
                                     float(row["lat"]), float(row.get("lon") or ""))
            else:
                spec = site_spec(session, code)
        except NotFoundError as exc:
            problems.append((code, RowProblem(name, number, "code", code, str(exc))))
            continue
        except ValueError as exc:
            problems.append((code, RowProblem(name, number, "lat/lon/kind", f"{row.get('lat')},{row.get('lon')}",
                                              str(exc))))
            continue
        # only a row planned counts as the code's first: a later row of a rejected one is no twin
        first_row[code] = number
        specs.append(replace(spec, row=number))
    if problems and (not skip_invalid or not specs):
        found = [problem for _, problem in problems]
        raise SkippableRowsError(found) if specs else InputError(found)  # specs: not skip_invalid
    if not specs:
        raise InputError([RowProblem(name, 1, "code", "", "no sites in the file")])
    return specs, [SkippedSite.invalid(code, problem) for code, problem in problems]


def new_site_spec(session: Session, code: str, name: str, kind: str, lat: float, lon: float) -> SiteSpec:
    """A site that is not in the inventory yet, checked like an imported one."""
    Site.model_validate({"code": code, "name": name, "kind": kind, "lat": lat, "lon": lon,
                         "source": "plan"})
    if session.exec(select(Site.id).where(Site.code == code)).first() is not None:
        raise ValueError(f"site {code} exists already: plan it by its code")
    return SiteSpec(code, name, SiteKind(kind).value, lat, lon)
