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

import json
import math
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Optional

import typer

from commands.common import app_context, console, err_console, output_file, print_json, print_table, write_text
from netops.db import session_scope
from netops.errors import NetopsError
from topology import audits
from topology.findings import Finding, Severity
from topology.geojson import findings_to_geojson
from topology.network import DEFAULT_WEIGHTS, AuditConfig, Network
from topology.rows import load_inventory

app = typer.Typer(
    help="Resilience audits: reachability, single points of failure, shared trenches, cuts.",
    invoke_without_command=True,
)


class FailOn(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"


JSON = typer.Option(False, "--json", help="Machine-readable output on stdout.")
FAIL_ON = typer.Option(None, "--fail-on", help="Exit 1 if any finding is at or above this severity.")
GEOJSON = typer.Option(None, "--geojson", help="Also write the findings as GeoJSON to this file.",
                       callback=output_file)
PLANNED = typer.Option(False, "--planned", help="Count planned rows too (evaluate a plan).")
WEIGHTS = typer.Option(
    None, "--weight",
    help=f"Criticality weight of a site kind, KIND=NUMBER, repeatable (defaults: "
         f"{', '.join(f'{k}={v:g}' for k, v in DEFAULT_WEIGHTS.items())}).")
MIN_SEVERITY = typer.Option(Severity.INFO, "--min-severity",
                            help="Show findings at or above this severity (counts and --fail-on see all).")
CRITICAL_WEIGHT = typer.Option(10.0, "--critical-weight", min=0,
                               help="Cutting off at least this much weight is always critical.")
NO_TRANSIT = typer.Option(False, "--no-transit",
                          help="Customers' switches forward no other site's traffic and the core is the PoP "
                               "routers (PoP routers become single points of failure).")


def _config(planned: bool, weights: list[str] | None, critical_weight: float, no_transit: bool) -> AuditConfig:
    table = dict(DEFAULT_WEIGHTS)
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
    engine = app_context(ctx).engine
    with err_console.status("loading the inventory and building the graphs"):
        with session_scope(engine) as session:
            inv = load_inventory(session, geometry=True)
        return Network(inv, config)


def _short(items: list[str], limit: int = 6) -> str:
    more = f" … +{len(items) - limit}" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _show(findings: list[Finding]) -> None:
    """Tables grouped by severity, worst first (``findings`` come sorted)."""
    styles = {Severity.CRITICAL: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
    for severity in Severity:
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        console.rule(f"[{styles[severity]}]{severity.value}: {len(group)}")
        print_table("", ["audit", "layer", "finding", "elements", "sites affected", "weight"], (
            (f.audit, f.layer, f.title, _short([f"{e.kind}:{e.code}" for e in f.elements]),
             f"{len(f.sites)}: {_short(list(f.sites))}" if f.sites else "", f"{f.weight:g}")
            for f in group))


def _report(ctx: typer.Context, names: list[str], as_json: bool, fail_on: FailOn | None,
            geojson: Path | None, planned: bool, weights: list[str] | None, critical_weight: float,
            min_severity: Severity, no_transit: bool) -> None:
    net = _network(ctx, _config(planned, weights, critical_weight, no_transit))
    with err_console.status("auditing"):
        report = audits.run_audits(net, names)
    shown = report.at_least(min_severity).sorted()
    if geojson is not None:
        write_text(geojson, json.dumps(findings_to_geojson(net, shown)))
    counts = report.counts()
    if as_json:
        print_json({"counts": counts, "findings": [f.as_dict() for f in shown]})
    else:
        _show(shown)
        hidden = len(report.findings) - len(shown)
        console.print(f"findings: {counts['critical']} critical, {counts['warning']} warning, {counts['info']} info"
                      + (f" ({hidden} below {min_severity.value} not shown)" if hidden else ""))
    if report.fails(Severity(fail_on.value) if fail_on else None):
        raise typer.Exit(1)


def _audit_command(name: str, names: list[str], doc: str):
    def command(ctx: typer.Context, as_json: bool = JSON, fail_on: Optional[FailOn] = FAIL_ON,
                geojson: Optional[Path] = GEOJSON, planned: bool = PLANNED,
                weight: Optional[list[str]] = WEIGHTS, critical_weight: float = CRITICAL_WEIGHT,
                min_severity: Severity = MIN_SEVERITY, no_transit: bool = NO_TRANSIT) -> None:
        _report(ctx, names, as_json, fail_on, geojson, planned, weight, critical_weight, min_severity, no_transit)

    command.__doc__ = doc
    app.command(name)(command)


@app.callback()
def audit(ctx: typer.Context, as_json: bool = JSON, fail_on: Optional[FailOn] = FAIL_ON,
          geojson: Optional[Path] = GEOJSON, planned: bool = PLANNED,
          weight: Optional[list[str]] = WEIGHTS, critical_weight: float = CRITICAL_WEIGHT,
          min_severity: Severity = MIN_SEVERITY, no_transit: bool = NO_TRANSIT) -> None:
    """Without a sub-command: run every audit (same as `netops audit all`)."""
    if ctx.invoked_subcommand is None:
        _report(ctx, list(audits.AUDITS), as_json, fail_on, geojson, planned, weight, critical_weight,
                min_severity, no_transit)


_audit_command("all", list(audits.AUDITS), "Every audit: reachability, SPOFs, shared trenches, capacity, consistency.")
_audit_command("reachability", ["reachability"], "Sites and devices with no path to any core PoP.")
_audit_command("spof", ["spof"], "Single points of failure on every layer, with the sites behind each.")
_audit_command("shared-risk", ["shared_risk"], "\"Redundant\" links that one trench cut or manhole failure takes down together.")
_audit_command("capacity", ["capacity"], "Full or nearly full cables (strands) and trenches (ducts).")
_audit_command("consistency", ["consistency"], "Broken cable paths, wrong lengths, missing or duplicate IPs, sites without coordinates.")


@app.command()
def diversity(ctx: typer.Context, as_json: bool = JSON, planned: bool = PLANNED,
              weak_only: bool = typer.Option(False, "--weak-only", help="Only sites one failure can cut off."),
              no_transit: bool = NO_TRANSIT) -> None:
    """Disjoint paths to the core per site: logical (links), physical (trenches), and the
    trenches that alone would cut the site off."""
    net = _network(ctx, _config(planned, None, 10.0, no_transit))
    with err_console.status("counting disjoint paths"):
        rows = audits.path_diversity(net)
    if weak_only:
        rows = [r for r in rows if r.logical_paths < 2 or r.trench_cuts]
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    count = {0: "0", 1: "1", 2: "≥2", None: "-"}
    print_table("path diversity to the core", ["site", "kind", "logical paths", "trench-disjoint routes",
                                               "single trench cuts"],
                ((r.site, r.kind, count[r.logical_paths], count[r.physical_paths], _short(list(r.trench_cuts)))
                 for r in rows))


@app.command()
def rank(ctx: typer.Context, as_json: bool = JSON, planned: bool = PLANNED,
         top: int = typer.Option(20, "--top", min=1, help="Show this many elements."),
         kind: Optional[str] = typer.Option(None, "--kind", help="Only trench, node or device."),
         weight: Optional[list[str]] = WEIGHTS, no_transit: bool = NO_TRANSIT) -> None:
    """Criticality ranking: every trench, route node and device by the weighted sites its
    failure alone cuts off."""
    net = _network(ctx, _config(planned, weight, 10.0, no_transit))
    with err_console.status("ranking every element"):
        ranking = [e for e in audits.criticality_ranking(net) if kind in (None, e.kind)][:top]
    if as_json:
        print_json([{"kind": e.kind, "code": e.code, "weight": e.weight, "sites": list(e.sites)}
                    for e in ranking])
        return
    print_table("criticality ranking", ["#", "kind", "element", "weight", "sites cut off"],
                ((i, e.kind, e.code, f"{e.weight:g}", f"{len(e.sites)}: {_short(list(e.sites))}")
                 for i, e in enumerate(ranking, 1)))


@app.command()
def cut(ctx: typer.Context,
        elements: list[str] = typer.Argument(..., help="TRENCH|NODE|CLOSURE|CABLE|DEVICE|LINK|SITE codes failing "
                                                       "together; prefix with kind: when ambiguous."),
        as_json: bool = JSON, planned: bool = PLANNED, no_transit: bool = NO_TRANSIT) -> None:
    """Blast radius: what loses its connection when all the ELEMENTS fail at once. A route
    node takes its trench segments and closures with it, a closure the cables spliced in it,
    a site all its devices; a link is down when anything it runs through fails, whatever
    that element's recorded status."""
    net = _network(ctx, _config(planned, None, 10.0, no_transit))
    failure, refs = audits.resolve_failures(net, elements)
    result = audits.blast_radius(net, failure, refs)
    if as_json:
        print_json(asdict(result))
        return
    console.print(f"failing together: {', '.join(f'{r.kind}:{r.code}' for r in result.failed)}")
    console.print(f"links down: {len(result.links_down)}  devices cut off: {len(result.devices_cut)}  "
                  f"sites cut off: {len(result.sites_cut)} (weight {result.weight:g})  "
                  f"hotspots: {result.hotspots_cut}")
    print_table("sites cut off by kind", ["kind", "sites"], result.sites_by_kind.items())
    print_table("sites cut off", ["site"], ((s,) for s in result.sites_cut))
    if result.physically_isolated:
        console.print(f"building entries without any trench route to a PoP: {_short(list(result.physically_isolated), 20)}")

