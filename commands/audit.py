"""`netops audit`: where does the city's network break? (options, output, exit codes only;
the audits live in ``topology.audits``).

What "cut off" means (``topology.network``): a site is cut off when none of its devices
reaches a core PoP any more. A link is down when anything it depends on fails (its
devices, cables, the trench segments and manholes of those cables, the closures they are
spliced in), whatever that element's recorded status. ``--no-transit``: customers'
switches (schools, Kitas, hospitals, business parks, public buildings) forward no other
site's traffic and the core is the PoP routers, so a PoP router becomes a single point of
failure for the sites homed on that PoP alone.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from commands.common import (OutputFormat, app_context, choice_option, chosen_format, console, format_option,
                             json_option, output_file, print_json, print_listing, print_table, severity_option,
                             working, write_text)
from netops.errors import NetopsError
from netops.vocabulary import (AUDIT_ELEMENT_KINDS, AUDIT_NAMES, CUSTOMER_WEIGHTS, MASS_OUTAGE_WEIGHT,
                               SINGLE_HOMED_BY_DESIGN, SITE_WEIGHTS, Severity, audit_of_check, site_order)

if TYPE_CHECKING:  # the topology code is imported when an audit runs, not for --help
    from topology.findings import Finding
    from topology.network import AuditConfig, Network

app = typer.Typer(invoke_without_command=True)  # its help is in cli.GROUPS

JSON = json_option()
FORMAT = format_option()
FAIL_ON = typer.Option(None, "--fail-on", callback=severity_option, metavar="[critical|warning|info]",
                       help="Exit 1 if any finding is at or above this severity (high, medium, low accepted "
                            "as the config rules' old words).")
GEOJSON = typer.Option(None, "--geojson", help="Also write the findings as GeoJSON to this file.",
                       callback=output_file)
PLANNED = typer.Option(False, "--planned", help="Count planned rows too (evaluate a plan).")
#: what --weight can set: a site kind, a company's service class, one home (residential_unit)
WEIGHTS_DEFAULT = {**SITE_WEIGHTS, **CUSTOMER_WEIGHTS}
WEIGHTS = typer.Option(
    None, "--weight",
    help=f"Criticality weight of a site kind, a company's service class or one home, KIND=NUMBER, repeatable "
         f"(defaults: {', '.join(f'{k}={v:g}' for k, v in WEIGHTS_DEFAULT.items())}).")
MIN_SEVERITY = typer.Option("info", "--min-severity", callback=severity_option, metavar="[critical|warning|info]",
                            help="Show findings at or above this severity (counts and --fail-on see all).")
CRITICAL_WEIGHT = typer.Option(MASS_OUTAGE_WEIGHT, "--critical-weight", min=0,
                               help="A mass outage: cutting off at least this much weight is critical whatever "
                                    "it is made of (2,000 homes at the default weights).")
NO_TRANSIT = typer.Option(False, "--no-transit",
                          help="Customers' switches forward no other site's traffic and the core is the PoP "
                               "routers (PoP routers become single points of failure).")
SHOW_ALL = typer.Option(False, "--all", help=f"Tables: also show what is so by design: single points of failure that cut "
                                             f"off only {' and '.join(SINGLE_HOMED_BY_DESIGN)} sites "
                                             f"(single-homed on purpose) or the homes of one PON (a tree), "
                                             f"and every finding, not just the top.")
TOP = typer.Option(15, "--top", min=1, help="Findings in the table, heaviest first (all with --all; json and "
                                            "csv always have all, by-design ones marked).")
#: element kinds `rank --kind` and `cut` take, and the graphs' words for them
RANKED_KINDS = ("segment", "route_node", "device")
GRAPH_KIND = {kind: graph for graph, kind in AUDIT_ELEMENT_KINDS.items()}
SITES_SHOWN = 4


def _config(planned: bool, weights: list[str] | None, critical_weight: float, no_transit: bool) -> AuditConfig:
    from topology.network import AuditConfig

    table = dict(WEIGHTS_DEFAULT)
    for item in weights or ():
        kind, _, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not 0 <= number < math.inf:  # also refuses nan
            raise NetopsError(f"--weight {item!r}: expected KIND=NUMBER (0 or more), e.g. hospital=20")
        table[kind.strip()] = number
    return AuditConfig(weights=table, critical_weight=critical_weight, include_planned=planned,
                       transit=not no_transit)


def _network(ctx: typer.Context, config: AuditConfig) -> Network:
    from netops.db import session_scope
    from topology.network import audit_network

    engine = app_context(ctx).engine
    with working("loading the inventory and building the graphs"):
        with session_scope(engine) as session:
            return audit_network(session, config)


class SiteList:
    """Site codes as people read them: most important kind first (hospitals, schools, Kitas
    ... hotspots last), then by code, shortened to a count."""

    def __init__(self, net: Network):
        self.kind_of = {site.code: str(site.kind) for site in net.sites.values()}

    def ordered(self, codes) -> list[str]:
        return sorted(codes, key=lambda code: (site_order(self.kind_of.get(code)), code))

    def short(self, codes, limit: int = SITES_SHOWN) -> str:
        codes = self.ordered(codes)
        more = f" +{len(codes) - limit} more" if len(codes) > limit else ""
        return ", ".join(codes[:limit]) + more

    def by_design(self, finding: Finding) -> bool:
        """An information that concerns only what is single-homed on purpose (hotspots, the
        homes of a PON tree): ``topology.findings.concerns_only_by_design``."""
        from topology.findings import concerns_only_by_design

        return concerns_only_by_design(finding, self.kind_of)


def _element(kind: str, code: str) -> str:
    return f"{AUDIT_ELEMENT_KINDS.get(kind, kind)}:{code}"


def _elements(finding: Finding, limit: int = SITES_SHOWN) -> str:
    names = [_element(e.kind, e.code) for e in finding.elements]
    return ", ".join(names[:limit]) + (f" +{len(names) - limit} more" if len(names) > limit else "")


FINDING_COLUMNS = ["severity", "audit", "check", "layer", "finding", "elements", "sites", "weight", "companies",
                   "residential_units"]


def customers_text(companies: int, units: int, pons: int) -> str:
    """Customers in a few words: "2 companies, 240 homes (3 PONs)"."""
    parts = [f"{companies} compan{'y' if companies == 1 else 'ies'}"] if companies else []
    if units:
        parts.append(f"{units} home{'' if units == 1 else 's'}" + (f" ({pons} PONs)" if pons > 1 else ""))
    return ", ".join(parts)


def _finding_row(finding: Finding, sites: SiteList, whole: bool = False) -> list:
    return [finding.severity.value, audit_of_check(finding.audit), finding.audit, finding.layer, finding.title,
            " ".join(_element(e.kind, e.code) for e in finding.elements) if whole else _elements(finding),
            " ".join(sites.ordered(finding.sites)) if whole else
            (f"{len(finding.sites)}: {sites.short(finding.sites)}" if finding.sites else ""),
            f"{finding.weight:g}",
            " ".join(finding.companies) if whole else customers_text(len(finding.companies),
                                                                       finding.residential_units, finding.pons),
            finding.residential_units]


def _summary(findings: list[Finding], hidden: set[Finding]) -> None:
    """Counts by audit and severity, the by-design findings apart."""
    rows = []
    for audit in AUDIT_NAMES:
        mine = [f for f in findings if audit_of_check(f.audit) == audit]
        counts = [sum(f.severity is s and f not in hidden for f in mine) for s in Severity]
        rows.append([audit.replace("_", "-"), *counts, sum(f in hidden for f in mine)])
    print_table("findings by audit and severity", ["audit", *Severity, "by design"], rows)


def _report(ctx: typer.Context, names: list[str] | None, fmt: OutputFormat, as_json: bool,
            fail_on: Severity | None, geojson: Path | None, planned: bool, weights: list[str] | None,
            critical_weight: float, min_severity: Severity, no_transit: bool, show_all: bool, top: int) -> None:
    from topology import audits
    from topology.geojson import findings_to_geojson

    net = _network(ctx, _config(planned, weights, critical_weight, no_transit))
    with working("auditing"):
        report = audits.run_audits(net, list(audits.AUDITS) if names is None else names)
    sites = SiteList(net)
    by_design = {f for f in report.findings if sites.by_design(f)}
    selected = report.at_least(min_severity).sorted()
    if geojson is not None:
        write_text(geojson, json.dumps(findings_to_geojson(net, selected)))
    counts = report.counts()
    fmt = chosen_format(fmt, as_json)
    # scripts and files get every finding, the by-design ones marked; a table hides those
    if fmt is OutputFormat.JSON:
        print_json({"counts": counts, "by_design": len(by_design),
                    "findings": [{**f.as_dict(), "by_design": f in by_design} for f in selected]})
    elif fmt is OutputFormat.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([*FINDING_COLUMNS, "by_design"])
        writer.writerows([*_finding_row(f, sites, whole=True), f in by_design] for f in selected)
    else:
        hidden = set() if show_all else by_design
        shown = [f for f in selected if f not in hidden]
        _summary(list(report.findings), hidden)
        listed = shown if show_all else shown[:top]
        print_table(f"findings, worst first ({len(listed)} of {len(shown)})",
                    ["severity", "audit", "finding", "elements", "sites affected", "customers", "weight"],
                    [[*row[:2], *row[4:7], row[8], row[7]] for row in (_finding_row(f, sites) for f in listed)],
                    prose=("finding", "elements", "sites affected", "customers"))
        below = len(report.findings) - len(hidden) - len(shown)
        notes = [f"{len(shown) - len(listed)} more (--top N, --all, --format csv)" if len(listed) < len(shown) else "",
                 f"{below} below {min_severity.value} not shown" if below else "",
                 f"{len(hidden)} by design not shown (--all)" if hidden else ""]
        console.print(f"findings: {counts['critical']} critical, {counts['warning']} warning, {counts['info']} info"
                      + "".join(f"; {n}" for n in notes if n), highlight=False)
    if report.fails(fail_on):
        raise typer.Exit(1)


def _audit_command(name: str, names: list[str] | None, doc: str):
    def command(ctx: typer.Context, fmt: OutputFormat = FORMAT, as_json: bool = JSON,
                fail_on: Optional[str] = FAIL_ON, geojson: Optional[Path] = GEOJSON, planned: bool = PLANNED,
                weight: Optional[list[str]] = WEIGHTS, critical_weight: float = CRITICAL_WEIGHT,
                min_severity: str = MIN_SEVERITY, no_transit: bool = NO_TRANSIT, show_all: bool = SHOW_ALL,
                top: int = TOP) -> None:
        _report(ctx, names, fmt, as_json, fail_on, geojson, planned, weight, critical_weight, min_severity,
                no_transit, show_all, top)

    command.__doc__ = doc
    app.command(name)(command)


@app.callback()
def audit(ctx: typer.Context, fmt: OutputFormat = FORMAT, as_json: bool = JSON, fail_on: Optional[str] = FAIL_ON,
          geojson: Optional[Path] = GEOJSON, planned: bool = PLANNED,
          weight: Optional[list[str]] = WEIGHTS, critical_weight: float = CRITICAL_WEIGHT,
          min_severity: str = MIN_SEVERITY, no_transit: bool = NO_TRANSIT, show_all: bool = SHOW_ALL,
          top: int = TOP) -> None:
    """Without a sub-command: run every audit (same as `netops audit all`)."""
    if ctx.invoked_subcommand is None:
        _report(ctx, None, fmt, as_json, fail_on, geojson, planned, weight, critical_weight,
                min_severity, no_transit, show_all, top)


_audit_command("all", None, "Every audit: reachability, SPOFs, shared trenches, capacity, consistency, PON.")
_audit_command("reachability", ["reachability"], "Sites and devices with no path to any core PoP.")
_audit_command("spof", ["spof"], "Single points of failure on every layer, with the sites behind each.")
_audit_command("shared-risk", ["shared_risk"], "\"Redundant\" links that one trench cut or manhole failure takes down together.")
_audit_command("capacity", ["capacity"], "Full or nearly full cables (strands) and trenches (ducts).")
_audit_command("consistency", ["consistency"], "Broken cable paths, wrong lengths, missing or duplicate IPs, sites without coordinates.")
_audit_command("pon", ["pon"], "PON: optical power budget per ONT against its optics class (B+ 28 dB, C+ 32 dB), "
                               "splitter and OLT port capacity.")


@app.command()
def diversity(ctx: typer.Context, fmt: OutputFormat = FORMAT, as_json: bool = JSON, planned: bool = PLANNED,
              weak_only: bool = typer.Option(False, "--weak-only", help="Only sites one failure can cut off."),
              no_transit: bool = NO_TRANSIT) -> None:
    """Disjoint paths to the core per site: logical (links), physical (trenches), and the
    trenches that alone would cut the site off."""
    from topology import audits

    net = _network(ctx, _config(planned, None, MASS_OUTAGE_WEIGHT, no_transit))
    with working("counting disjoint paths"):
        rows = audits.path_diversity(net)
    if weak_only:
        rows = [r for r in rows if r.logical_paths < 2 or r.trench_cuts]
    fmt = chosen_format(fmt, as_json)
    if fmt is OutputFormat.JSON:
        print_json([asdict(r) for r in rows])
        return
    sites = SiteList(net)
    rows = sorted(rows, key=lambda r: (site_order(r.kind), r.site))
    count = {0: "0", 1: "1", 2: "≥2", None: "-"} if fmt is OutputFormat.TABLE else {None: ""}
    print_listing(fmt, "path diversity to the core",
                  ["site", "kind", "logical paths", "trench-disjoint routes", "single trench cuts"],
                  [[r.site, r.kind, count.get(r.logical_paths, r.logical_paths),
                    count.get(r.physical_paths, r.physical_paths),
                    sites.short(r.trench_cuts) if fmt is OutputFormat.TABLE else " ".join(r.trench_cuts)]
                   for r in rows], prose=("single trench cuts",))


@app.command()
def rank(ctx: typer.Context, fmt: OutputFormat = FORMAT, as_json: bool = JSON, planned: bool = PLANNED,
         top: int = typer.Option(20, "--top", min=1, help="Show this many elements."),
         kind: Optional[str] = typer.Option(None, "--kind", help=f"Only elements of this kind: {', '.join(RANKED_KINDS)}.",
                                            callback=choice_option("element kind", RANKED_KINDS,
                                                                   aliases=AUDIT_ELEMENT_KINDS)),
         weight: Optional[list[str]] = WEIGHTS, critical_weight: float = CRITICAL_WEIGHT,
         no_transit: bool = NO_TRANSIT) -> None:
    """Criticality ranking: every trench segment, route node and device by the weighted
    sites and customers (companies, homes) its failure alone cuts off, with the severity
    of that (the audits' rule)."""
    from topology import audits

    net = _network(ctx, _config(planned, weight, critical_weight, no_transit))
    graph_kind = GRAPH_KIND.get(kind, kind)
    with working("ranking every element"):
        ranking = [e for e in audits.criticality_ranking(net) if graph_kind in (None, e.kind)][:top]
    fmt = chosen_format(fmt, as_json)
    if fmt is OutputFormat.JSON:
        print_json([{"kind": AUDIT_ELEMENT_KINDS.get(e.kind, e.kind), "code": e.code, "weight": e.weight,
                     "severity": _severity(net, e), "sites": SiteList(net).ordered(e.sites),
                     **_customers_json(net, e.customers)} for e in ranking])
        return
    sites = SiteList(net)
    table = fmt is OutputFormat.TABLE
    print_listing(fmt, "criticality ranking",
                  ["#", "kind", "element", "weight", "severity", "sites cut off",
                   "customers cut off" if table else "companies", *([] if table else ["residential_units"])],
                  [[i, AUDIT_ELEMENT_KINDS.get(e.kind, e.kind), e.code, f"{e.weight:g}", _severity(net, e),
                    f"{len(e.sites)}: {sites.short(e.sites)}" if table else " ".join(sites.ordered(e.sites)),
                    *_customer_cells(net, e.customers, table)]
                   for i, e in enumerate(ranking, 1)], prose=("sites cut off", "customers cut off"))


def _severity(net: Network, element) -> str:
    """A ranked element's severity, as the spof audit would give it."""
    return net.impact_severity(element.site_ids, element.customers, element.weight).value


def _customers_json(net: Network, loss) -> dict:
    from topology.audits import customer_fields

    fields = customer_fields(net, loss)
    return {"companies": list(fields.get("companies", ())), "residential_units": fields.get("residential_units", 0),
            "buildings": list(fields.get("buildings", ())), "pons": fields.get("pons", 0)}


def _customer_cells(net: Network, loss, table: bool) -> list:
    fields = _customers_json(net, loss)
    if table:
        return [customers_text(len(fields["companies"]), fields["residential_units"], fields["pons"])]
    return [" ".join(fields["companies"]), fields["residential_units"]]


@app.command()
def cut(ctx: typer.Context,
        elements: list[str] = typer.Argument(..., help="Codes of segments, route nodes, closures, cables, devices, "
                                                       "links or sites failing together; prefix with the kind "
                                                       "(segment:TS1) when a code is ambiguous."),
        fmt: OutputFormat = FORMAT, as_json: bool = JSON, planned: bool = PLANNED,
        critical_weight: float = CRITICAL_WEIGHT, no_transit: bool = NO_TRANSIT) -> None:
    """Blast radius: what loses its connection when all the ELEMENTS fail at once. A route
    node takes its trench segments and closures with it, a closure the cables spliced in it,
    a site all its devices; a link is down when anything it runs through fails, whatever
    that element's recorded status."""
    from topology import audits

    net = _network(ctx, _config(planned, None, critical_weight, no_transit))
    graph_names = []
    for name in elements:
        prefix, sep, code = name.partition(":")
        graph_names.append(f"{GRAPH_KIND[prefix]}:{code}" if sep and prefix in GRAPH_KIND else name)
    failure, refs = audits.resolve_failures(net, graph_names)
    result = audits.blast_radius(net, failure, refs)
    sites = SiteList(net)
    cut_off = [[code, sites.kind_of.get(code, "")] for code in sites.ordered(result.sites_cut)]
    fmt = chosen_format(fmt, as_json)
    if fmt is OutputFormat.CSV:  # the sites cut off, as the table lists them
        print_listing(fmt, "", ["site", "kind"], cut_off)
        return
    if fmt is OutputFormat.JSON:
        data = asdict(result)
        for ref in data["failed"]:
            ref["kind"] = AUDIT_ELEMENT_KINDS.get(ref["kind"], ref["kind"])
        data["sites_cut"] = sites.ordered(data["sites_cut"])
        print_json(data)
        return
    console.print(f"failing together: {', '.join(_element(r.kind, r.code) for r in result.failed)}", highlight=False)
    console.print(f"severity: {result.severity}", highlight=False)
    console.print(f"links down: {len(result.links_down)}  devices cut off: {len(result.devices_cut)}  "
                  f"sites cut off: {len(result.sites_cut)} (weight {result.weight:g})  "
                  f"hotspots: {result.hotspots_cut}", highlight=False)
    if result.companies_cut or result.residential_units_cut:
        console.print(f"customers cut off: "
                      f"{customers_text(len(result.companies_cut), result.residential_units_cut, result.pons_cut)}"
                      + (f" in {len(result.buildings_cut)} building(s)" if result.buildings_cut else "")
                      + (f"; companies: {', '.join(result.companies_cut[:20])}"
                         + (f" +{len(result.companies_cut) - 20} more" if len(result.companies_cut) > 20 else "")
                         if result.companies_cut else ""), highlight=False)
    print_table("sites cut off by kind", ["kind", "sites"],
                sorted(result.sites_by_kind.items(), key=lambda kv: site_order(kv[0])))
    print_table("sites cut off, most important first", ["site", "kind"], cut_off)
    if result.physically_isolated:
        console.print(f"building entries without any trench route to a PoP: "
                      f"{sites.short(result.physically_isolated, 20)}", highlight=False)
