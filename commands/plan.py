"""`netops plan`: connection planning (connect, batch), the cheapest fix for every weak site
(fixes), and plans as change sets (list, show, diff, apply, discard)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer

from commands.common import (OutputFormat, app_context, choice_option, chosen_format, console, err_console,
                             flat_rows, format_option, json_option, open_session, output_file, print_json,
                             print_listing, print_object, print_table, progress_bar, write_text)
from netops.errors import InputError, NetopsError
from netops.vocabulary import SiteKind

# the planning code (scipy, the routing) is imported inside each command, not for --help

app = typer.Typer(no_args_is_help=True)  # its help is in cli.GROUPS

STREETS = typer.Option(None, "--streets", envvar="NETOPS_STREETS", exists=True, dir_okay=False,
                       help="Candidate street network (GeoJSON LineStrings; `netops inventory seed --streets`).")
STRANDS = typer.Option(12, "--strands", min=1, help="Strands per new cable.")
NO_MIDSPAN = typer.Option(False, "--no-midspan", help="Open no spare cable mid-span with a new closure: "
                          "splice into spare strands at existing closures only.")
REGION = typer.Option(None, "--region", help="Price table region (default: any).")
PRICE_DATE = typer.Option(None, "--price-date", formats=["%Y-%m-%d"],
                          help="Price table in force on this date (default: today).")
DRY_RUN = typer.Option(False, "--dry-run", help="Plan only; store nothing.")
OPTIC = typer.Option(None, "--optic", help="Optic type (default: the shortest reach that keeps the margin, "
                                           "else the shortest that covers, flagged).")
# at least 0: a margin below 0 dB is a link whose loss exceeds its optic's power budget, never one to pass
MIN_MARGIN = typer.Option(None, "--min-margin", min=0.0, help="Flag optical margins below this many dB, at least 0 "
                                                                "(default: the planning rule's 3 dB).")
JSON = json_option()
FORMAT = format_option()
PLAN_NAME = "--plan-name"
PLAN_ARG = typer.Argument(..., metavar="PLAN", help="Plan id or name (`netops plan list`).")
SITE_KIND_HELP = f"({', '.join(SiteKind)})"


def _options(streets, strands, region, price_date, no_midspan=False):
    from planning import context

    return context.NetworkOptions(streets=streets, strands=strands, region=region,
                                  on=price_date.date() if price_date else None, midspan_closures=not no_midspan)


def _eur(value: float) -> str:
    return f"{value:,.0f} €"


def _metres(by_method: dict[str, float]) -> str:
    return ", ".join(f"{m} {v:,.0f} m" for m, v in by_method.items()) or "-"


def _print_price_table(price: dict) -> None:
    console.print(f"price table: {price['region']}, valid from {price['valid_from']} "
                  f"({price['currency']}; {price['source']})", highlight=False)
    if price.get("priced_by_default"):
        console.print(f"[yellow]note:[/yellow] the table has no {', '.join(price['priced_by_default'])}: "
                      "priced at the default table's figure", highlight=False)


def _print_bom(bom: list[dict], total: float) -> None:
    rows = [(line["item"], f"{line['quantity']:,}", line["unit"], f"{line['unit_eur']:,.2f}",
             f"{line['total_eur']:,.2f}") for line in bom]
    rows.append(("total", "", "", "", f"{total:,.2f}"))
    print_table("bill of materials (EUR)", ["item", "quantity", "unit", "unit €", "total €"], rows)


def _print_connect(summary: dict, stored) -> None:
    site = summary["site"]
    console.print(f"[bold]{site['code']}[/bold] {site['name']} ({site['kind']}) at "
                  f"{site['lat']:.5f}, {site['lon']:.5f}", highlight=False)
    _print_price_table(summary["price_table"])
    print_table("routes", ["#", "to PoP", "length m", "work by laying method", "legs", "new trench legs",
                           "spare strands of"],
                [(i + 1, r["pop"], f"{r['length_m']:,.0f}", _metres(r["metres_by_method"]), len(r["legs"]),
                  sum(1 for leg in r["legs"] if leg["kind"] in ("new", "entry")),
                  ", ".join(leg["cable"] for leg in r["legs"] if leg["kind"] == "strand") or "-")
                 for i, r in enumerate(summary["routes"])])
    if summary["redundant"]:
        faults = summary.get("shared_risks", [])
        named = {id(r): f"{r['kind']} {' / '.join(r['elements'])}" + (f" ({r['metres']:,.0f} m)" if r["metres"] else "")
                 for r in faults}
        shared = [named[id(r)] for r in faults if r.get("route") is None]
        console.print("disjoint (trench, manhole, building, street): "
                      + ("yes" if not shared else f"NO, shared: {'; '.join(shared)}"), highlight=False)
        if own := [f"route {r['route']}: {named[id(r)]}" for r in faults if r.get("route")]:
            console.print(f"doubles back or runs along itself: {'; '.join(own)}", highlight=False)
    _print_bom(summary["bom"], summary["total_eur"])
    print_table("optical loss budget", ["#", "optic", "λ nm", "km", "splices", "loss 1310 dB", "loss 1550 dB",
                                        "budget dB", "margin dB", "status"],
                [(i + 1, b["optic"], b["optic_wavelength_nm"], f"{b['length_m'] / 1000:.2f}", b["splices"],
                  b["loss_1310_db"], b["loss_1550_db"], b["power_budget_db"], b["margin_db"],
                  "[red]FLAG[/red] " + b["reason"] if b["flagged"] else "ok")
                 for i, b in enumerate(summary["loss_budget"])])
    for note in summary["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if stored is not None:
        print_stored(stored.name, stored.id)


def print_stored(name: str, plan_id: int) -> None:
    """The line under a plan that was stored: its name, id, and what to do with it next."""
    console.print(f"stored as plan [bold]{name}[/bold] (id {plan_id}, draft): "
                  f"`netops plan diff {plan_id}`, `apply`, `discard`", highlight=False)


@app.command()
def connect(
    ctx: typer.Context,
    site_code: Optional[str] = typer.Argument(None, help="A site in the inventory (e.g. a planned Kita)."),
    lat: Optional[float] = typer.Option(None, "--lat", help="New site: latitude."),
    lon: Optional[float] = typer.Option(None, "--lon", help="New site: longitude."),
    site_kind: str = typer.Option("kindergarten", "--site-kind", callback=choice_option("site kind", SiteKind),
                                  help=f"New site: its kind {SITE_KIND_HELP}."),
    site_name: Optional[str] = typer.Option(None, "--name", help="New site: its name."),
    code: Optional[str] = typer.Option(None, "--code", help="New site: code (default from the name)."),
    redundant: bool = typer.Option(False, "--redundant", help="Two routes sharing no trench, manhole, "
                                   "building or street corridor, neither doubling back (Suurballe), to two "
                                   "different PoPs where possible."),
    optic: Optional[str] = OPTIC, min_margin: Optional[float] = MIN_MARGIN,
    streets: Optional[Path] = STREETS, strands: int = STRANDS, no_midspan: bool = NO_MIDSPAN,
    region: Optional[str] = REGION,
    price_date: Optional[dt.datetime] = PRICE_DATE,
    name: Optional[str] = typer.Option(None, PLAN_NAME, help="Name of the stored plan (default connect-<site>-N)."),
    dry_run: bool = DRY_RUN, fmt: OutputFormat = FORMAT, as_json: bool = JSON,
) -> None:
    """Plan the cheapest connection of one site: route, BOM, cost, optical loss budget.

    Exit code 1 when a loss budget margin is below --min-margin (the plan is still shown
    and, without --dry-run, stored). CSV: the plan's dotted fields as field,value rows."""
    from planning import context, plans

    if (not site_code) == (lat is None or lon is None):
        raise NetopsError("give either a SITE_CODE or --lat and --lon (with --site-kind, --name) for a new site")
    with open_session(ctx) as session:
        if site_code:
            site = context.site_spec(session, site_code)
        else:
            label = site_name or code or f"new {site_kind}"
            try:
                site = context.new_site_spec(session, code or _code_from(label), label, site_kind, lat, lon)
            except ValueError as exc:
                raise NetopsError(f"new site: {exc}") from None
        with _optic_named_by_option():
            result = plans.connect_site(session, site, _options(streets, strands, region, price_date, no_midspan),
                                        redundant=redundant, optic=optic, min_margin_db=_margin(min_margin),
                                        save=not dry_run, name=name)
        summary = result.plan.to_dict()
        if not print_object({**summary, "plan_id": result.stored.id if result.stored else None},
                            chosen_format(fmt, as_json)):
            _print_connect(summary, result.stored)
    if result.plan.flagged:
        raise typer.Exit(1)


@contextmanager
def _optic_named_by_option() -> Iterator[None]:
    """An optic type the inventory does not hold, named as the option that gave it."""
    from planning.loss_budget import UnknownOpticError

    try:
        yield
    except UnknownOpticError as exc:
        raise NetopsError(f"--optic: {exc}") from None


@contextmanager
def _skip_bad_rows_hint() -> Iterator[None]:
    """Invalid CSV rows (beside valid ones) and sites that cannot be planned: both errors end
    with the option that would plan the rest."""
    from planning.context import SkippableRowsError
    from planning.plans import UnplannableSitesError

    hint = "--skip-bad-rows plans the rest"
    try:
        yield
    except SkippableRowsError as exc:
        raise InputError(exc.problems, hint=f"({hint})") from None
    except UnplannableSitesError as exc:
        raise NetopsError(f"{exc} ({hint})") from None


def _margin(min_margin: float | None) -> float:
    from planning.loss_budget import DEFAULT_MIN_MARGIN_DB

    return DEFAULT_MIN_MARGIN_DB if min_margin is None else min_margin


def _code_from(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")[:60] or "new-site"


@app.command()
def batch(
    ctx: typer.Context,
    kind: Optional[str] = typer.Option(None, "--site-kind", callback=choice_option("site kind", SiteKind),
                                       help=f"Plan every site of this kind {SITE_KIND_HELP}..."),
    status: Optional[str] = typer.Option("planned", "--status", help="...with this status ('' for any)."),
    csv_file: Optional[Path] = typer.Option(None, "--csv", exists=True, dir_okay=False,
                                            help="Or the sites in a CSV (code; or code,name,kind,lat,lon)."),
    exact: bool = typer.Option(False, "--exact", help="Also solve the exact optimum (integer program; "
                               "small batches only) and print the gap."),
    redundant: bool = typer.Option(False, "--redundant", help="Two routes per site sharing no trench, manhole, "
                                   "building or street corridor, to two PoP buildings; trenches shared between "
                                   "sites where cheaper."),
    thorough: bool = typer.Option(False, "--thorough", help="Then re-plan each site with its nearest exactly "
                                  "(one neighbourhood search pass, minutes of CPU on a city): a cheaper plan and a "
                                  "tighter gap. Not with --redundant."),
    top: int = typer.Option(15, "--top", min=1, help="Rows of the per-site and construction tables to print."),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows", "--skip-unreachable",
                                       help="Plan the sites that can be planned and list the rest: invalid CSV "
                                            "rows and sites that cannot be reached (exit 1) instead of failing "
                                            "(exit 2). --skip-unreachable is the old name."),
    optic: Optional[str] = OPTIC, min_margin: Optional[float] = MIN_MARGIN,
    streets: Optional[Path] = STREETS, strands: int = STRANDS, no_midspan: bool = NO_MIDSPAN,
    region: Optional[str] = REGION,
    price_date: Optional[dt.datetime] = PRICE_DATE,
    name: Optional[str] = typer.Option(None, PLAN_NAME, help="Name of the stored plan (default batch-N)."),
    dry_run: bool = DRY_RUN, fmt: OutputFormat = FORMAT, as_json: bool = JSON,
) -> None:
    """Joint plan for many sites: each trench dug once for every site behind it (Steiner
    tree), against the sum of independent single-site plans. With --redundant, two routes
    per site that share no risk (as `plan connect --redundant`), trenches shared between
    sites. Every plan states a lower bound on its routing cost and the proven gap, and every
    route its optical loss budget (as `plan connect` gives it).

    An invalid CSV row or a site that cannot be planned (no coordinates, nothing to connect
    to within reach) is an error naming it (exit 2); with --skip-bad-rows the rest is
    planned, each skipped row or site listed, and the exit code is 1. Exit code 1 too when a route's loss budget margin
    is below --min-margin (the plan is still shown and, without --dry-run, stored). CSV:
    the plan's dotted fields as field,value rows."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from planning import context, plans

    if (kind is None) == (csv_file is None):
        raise NetopsError("give either --site-kind (with --status) or --csv")
    with open_session(ctx) as session:
        if csv_file:
            with _skip_bad_rows_hint():
                sites, unplaceable = context.sites_from_csv(session, csv_file, skip_invalid=skip_bad_rows)
            source = str(csv_file)
        else:
            sites, no_coordinates = context.sites_by_kind(session, kind, status or None)
            unplaceable = [plans.SkippedSite(code, "site has no coordinates to plan from")
                           for code in no_coordinates]
            source = f"sites of kind {kind} ({status or 'any status'})"
        if not sites and not unplaceable:
            raise NetopsError(f"no sites of kind {kind} with status {status or 'any'}")
        fmt = chosen_format(fmt, as_json)
        columns = TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        with progress_bar(*columns) if fmt is OutputFormat.TABLE else Progress(disable=True) as bar:
            task = bar.add_task(f"planning {len(sites)} sites jointly", total=None)

            def step(done: int, total: int) -> None:
                bar.update(task, description="re-planning neighbourhoods", completed=done, total=total)

            with _optic_named_by_option(), _skip_bad_rows_hint():
                result = plans.batch_sites(session, sites, _options(streets, strands, region, price_date, no_midspan),
                                           save=not dry_run, name=name, exact=exact,
                                           skip_bad_rows=skip_bad_rows, unplaceable=tuple(unplaceable),
                                           source=source, csv_file=csv_file and str(csv_file),
                                           redundant=redundant, thorough=thorough,
                                           optic=optic, min_margin_db=_margin(min_margin), progress=step)

        summary = result.to_dict()
        if not print_object({**{k: v for k, v in summary.items() if k != "sites"},
                             "exact_routing_eur": result.exact_eur,
                             "plan_id": result.stored.id if result.stored else None}, fmt):
            _print_batch(summary, result, top)
    if result.plan.skipped or result.flagged_sites:
        raise typer.Exit(1)


def _print_batch(summary: dict, result, top: int) -> None:
    redundant = summary.get("redundant", False)
    console.print(f"price table: {summary['price_table']}", highlight=False)
    what = "redundant joint plan" if redundant else "joint plan"
    print_table(f"{what} for {len(result.plan.routes)} sites", ["", "EUR"], [
        (f"{what} (trenches shared)", _eur(summary["total_eur"])),
        (f"sum of independent single-site{' redundant' if redundant else ''} plans",
         _eur(summary["independent_total_eur"])),
        ("saving", f"{_eur(summary['saving_eur'])} ({summary['saving_pct']} %)"),
    ])
    if redundant:
        console.print(f"each site: {summary['disjoint']}", highlight=False, soft_wrap=True)
    if summary["lower_bound_eur"] is not None:
        console.print(f"routing cost {_eur(result.plan.routing_eur)}, lower bound {_eur(summary['lower_bound_eur'])} "
                      f"({summary['bound_method']}): at most {summary['proven_gap_pct']:.2f} % above the optimum",
                      highlight=False, soft_wrap=True)
    if "thorough" in summary:
        search = summary["thorough"]
        console.print(f"neighbourhood search: {search['sites_moved']} sites moved, routing "
                      f"{_eur(search['routing_before_eur'])} -> {_eur(result.plan.routing_eur)} "
                      f"(saves {_eur(search['routing_saving_eur'])}; {search['kept']} of {search['neighbourhoods']} "
                      f"neighbourhoods kept, {search['refused_by_route_check']} refused by the route check)",
                      highlight=False, soft_wrap=True)
    if result.exact_eur is not None:
        gap = 100 * (result.plan.routing_eur - result.exact_eur) / result.exact_eur
        console.print(f"routing cost {_eur(result.plan.routing_eur)} vs exact optimum "
                      f"{_eur(result.exact_eur)}: gap {gap:.2f} %", highlight=False)
    _print_bom(summary["bom"], summary["total_eur"])
    if "order" in summary:
        print_table(f"construction order (first {top} of {len(summary['order'])})",
                    ["step", "site", "marginal €", "cumulative €", "sites connected"],
                    [(s["step"], s["site"], f"{s['marginal_eur']:,.0f}", f"{s['cumulative_eur']:,.0f}",
                      s["sites_connected"]) for s in summary["order"][:top]])
    shares = sorted(summary["shares_eur"].items(), key=lambda kv: -kv[1])
    routes = {code: r if isinstance(r, list) else [r] for code, r in summary["routes"].items()}
    budgets = summary["loss_budget"]
    print_table(f"per-site cost share (top {top} of {len(shares)})",
                ["site", "share €", "PoP", "length m", "margin dB"],
                [(code, f"{share:,.0f}", " + ".join(r["pop"] for r in routes[code]),
                  " + ".join(f"{r['length_m']:,.0f}" for r in routes[code]),
                  " + ".join(f"{b['margin_db']:.2f}" + (" [red]FLAG[/red]" if b["flagged"] else "")
                             for b in budgets[code])) for code, share in shares[:top]])
    _print_batch_budgets(summary)
    for note in summary["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if summary["skipped"]:
        print_table(f"[yellow]skipped: {len(summary['skipped'])} site(s) not planned[/yellow]",
                    ["file", "row", "site", "field", "value", "reason"],
                    [(s.get("file") or "", s["row"] or "", s["site"], s.get("field") or "", s.get("value") or "",
                      s["reason"]) for s in summary["skipped"]], prose=("reason",))
    if result.stored is not None:
        print_stored(result.stored.name, result.stored.id)


def _print_batch_budgets(summary: dict) -> None:
    """Every flagged route of a batch (the per-site table shows the top shares only), or
    that none is and on which optics; how many run at a lower line rate than the first choice."""
    budgets = summary["loss_budget"]
    slower = sum(1 for site in budgets.values() for b in site if b.get("rate_lowered_from"))
    if slower:
        console.print(f"[yellow]note:[/yellow] {slower} route(s) on a longer-reach optic of a lower line rate than "
                      "the first choice (its margin too small): `rate_lowered_from` in --json", highlight=False)
    flagged = [(code, i + 1, b) for code in summary["flagged_sites"] for i, b in enumerate(budgets[code])
               if b["flagged"]]
    if flagged:
        print_table(f"[red]optical loss budget flagged at {len(summary['flagged_sites'])} of {len(budgets)} "
                    "site(s)[/red]", ["site", "route", "optic", "km", "splices", "margin dB", "reason"],
                    [(code, number, b["optic"], f"{b['length_m'] / 1000:.2f}", b["splices"], b["margin_db"],
                      b["reason"]) for code, number, b in flagged], prose=("reason",))
        return
    optics = Counter(b["optic"] for site in budgets.values() for b in site)
    least = min((b["margin_db"] for site in budgets.values() for b in site), default=None)
    if least is not None:
        console.print(f"optical loss budget: every route keeps its margin (least {least:.2f} dB; optics: "
                      + ", ".join(f"{name} ×{n}" for name, n in optics.most_common()) + ")", highlight=False)


FIXES_SHOWN = 15  # lines of the fixes table unless --limit says otherwise


@app.command()
def fixes(
    ctx: typer.Context,
    site: Optional[str] = typer.Option(None, "--site", help="Only the fixes that protect this site."),
    show_all: bool = typer.Option(False, "--all", help="Also fix the sites single-homed by design "
                                  "(hotspots, small cells)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Lines of the ranking to show (table: "
                                        f"{FIXES_SHOWN} unless told; json and csv: all)."),
    store: Optional[list[str]] = typer.Option(None, "--store", metavar="SITE",
                                              help="Store the fix that starts at this site as a draft plan "
                                                   "(repeatable); `plan diff`, `apply`, `discard` take it on."),
    store_top: int = typer.Option(0, "--store-top", min=0, metavar="K",
                                  help="Store the K best lines (of those shown) as draft plans."),
    min_margin: Optional[float] = MIN_MARGIN,
    reference: bool = typer.Option(False, "--reference", help="Count protected sites by running the audits "
                                   "again on the fixed inventory, fix by fix (slow; the fast count's reference)."),
    streets: Optional[Path] = STREETS, strands: int = STRANDS, no_midspan: bool = NO_MIDSPAN,
    region: Optional[str] = REGION,
    price_date: Optional[dt.datetime] = PRICE_DATE,
    fmt: OutputFormat = format_option(), as_json: bool = JSON,
) -> None:
    """The cheapest fix for every weak site: for each site the audits call single-homed or
    shared-risk, the cheapest new route that makes it truly redundant (no trench, manhole,
    building or street corridor shared with what cuts it off), ranked by the weight of the
    sites it protects per euro (a ring closed at a spur's end protects the whole spur).

    Exit code 1 when some weak site has no such route (listed) or a line shown or stored keeps
    a loss budget margin below --min-margin (flagged, as `plan connect`); 2 on bad input."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from planning import fixes as fixes_mod

    fmt = chosen_format(fmt, as_json)
    with open_session(ctx) as session:
        from inventory.models import Site
        from sqlmodel import select

        known = set(session.exec(select(Site.code)).all())
        for option, code in [("--site", site)] * (site is not None) + [("--store", c) for c in store or ()]:
            if code not in known:
                raise NetopsError(f"{option} {code!r}: no such site")
        with progress_bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn()) as bar:
            task = bar.add_task("auditing the network", total=None)

            def step(done: int, total: int, code: str) -> None:
                bar.update(task, description=f"routing a fix for {code}", completed=done, total=total)

            result = fixes_mod.plan_fixes(session, _options(streets, strands, region, price_date, no_midspan),
                                          include_by_design=show_all, reference=reference, progress=step,
                                          min_margin_db=_margin(min_margin))
        ranking, net = result.ranking, result.net
        lines = ranking.fixes
        if site is not None:
            site_id = next((s.id for s in net.sites.values() if s.code == site), None)
            if site_id is None:
                raise NetopsError(f"--site {site!r}: no such site in service")
            if site_id not in ranking.weak:
                by_design = not show_all and not fixes_mod.is_target(net, site_id, include_by_design=False)
                raise NetopsError(f"--site {site}: " + ("single-homed by design: add --all to fix it" if by_design
                                  else "the audits report no single point of failure or shared risk for it"))
            lines = [f for f in lines if site_id in f.protected]
        limit = limit or (FIXES_SHOWN if fmt is OutputFormat.TABLE else None)
        lines = lines[:limit] if limit else lines
        chosen = list(lines[:store_top])
        for code in store or ():
            line = result.line(code)
            if line is None:
                raise NetopsError(f"--store {code}: no fix in the ranking starts at {code!r} "
                                  f"(the lines start at: {', '.join(f.site.code for f in ranking.fixes[:6]) or 'none'})")
            if line not in chosen:
                chosen.append(line)
        stored = [fixes_mod.store_fix(session, result, line) for line in chosen]
        summary = result.to_dict(lines)
        summary["stored"] = [{"plan_id": p.id, "name": p.name, "site": line.site.code}
                             for p, line in zip(stored, chosen)]
    if fmt is OutputFormat.JSON:
        print_json(summary)
    elif fmt is OutputFormat.CSV:
        print_listing(fmt, "fixes", FIX_COLUMNS, [_fix_row(f) for f in summary["fixes"]])
    else:
        _print_fixes(summary, len(ranking.fixes))
    if ranking.unfixable or any(line.plan.flagged for line in [*lines, *chosen]):  # flagged: stored or not
        raise typer.Exit(1)


FIX_COLUMNS = ["rank", "site", "kind", "pop", "total_eur", "length_m", "new_trench_m", "protected",
               "protected_weight", "weight_per_keur", "flagged"]


def _fix_row(line: dict) -> list:
    return [line["rank"], line["site"], line["kind"], line["pop"], line["total_eur"], line["length_m"],
            line["new_trench_m"], " ".join(line["protected"]), line["protected_weight"], line["weight_per_keur"],
            line["flagged"]]


def _print_fixes(summary: dict, total: int) -> None:
    if not summary["sites"]:
        console.print("no weak sites: the audits report no single point of failure or shared risk "
                      "(sites single-homed by design only with --all)", highlight=False)
        return
    price = summary["price_table"]
    console.print(f"price table: {price['region']}, valid from {price['valid_from']} ({price['currency']})",
                  highlight=False)
    print_table(f"fixes, best weight protected per euro first ({len(summary['fixes'])} of {total})",
                ["#", "from site", "to PoP", "cost €", "new trench m", "protects", "weight", "weight/k€"],
                [(f["rank"], f["site"], f["pop"], _eur(f["total_eur"]), f"{f['new_trench_m']:,.0f}",
                  f"{len(f['protected'])}: {', '.join(f['protected'][:4])}"
                  + (f" +{len(f['protected']) - 4} more" if len(f["protected"]) > 4 else ""),
                  f"{f['protected_weight']:g}", f"{f['weight_per_keur']:.3f}"
                  + (" [red]FLAG[/red]" if f["flagged"] else "")) for f in summary["fixes"]],
                prose=("protects",))
    for f in summary["fixes"]:
        for note in f["notes"]:
            console.print(f"[yellow]note:[/yellow] #{f['rank']} from {f['site']}: {note}", highlight=False)
    sites = sorted(summary["sites"], key=lambda s: (s["cheapest_fix"] is not None, -s["weight"], s["site"]))
    print_table(f"weak sites and their cheapest fix ({min(len(sites), 2 * FIXES_SHOWN)} of {len(sites)}, "
                f"those without a fix and the heaviest first; --json lists all)",
                ["site", "kind", "weight", "weak by", "cheapest fix"],
                [(s["site"], s["kind"], f"{s['weight']:g}", ", ".join(s["checks"]),
                  f"#{s['cheapest_rank']} from {s['cheapest_fix']}, {_eur(s['cheapest_eur'])}" if s["cheapest_fix"]
                  else f"[yellow]none[/yellow]: {s['unfixable']}") for s in sites[:2 * FIXES_SHOWN]],
                prose=("cheapest fix",))
    for plan in summary["stored"]:
        print_stored(plan["name"], plan["plan_id"])


@app.command("list")
def list_plans(ctx: typer.Context, fmt: OutputFormat = format_option(), as_json: bool = JSON) -> None:
    """Every plan with its state and cost."""
    from planning import changeset

    with open_session(ctx) as session:
        rows = changeset.list_plans(session)
    fmt = chosen_format(fmt, as_json)
    if fmt is not OutputFormat.TABLE:
        print_listing(fmt, "plans", ["id", "name", "kind", "state", "created_at", "total_cost_eur"],
                      [[p.id, p.name, p.kind, str(p.state), p.created_at, p.total_cost_eur] for p in rows])
        return
    print_table("plans", ["id", "name", "kind", "state", "created", "total €"],
                [(p.id, p.name, p.kind, str(p.state), f"{p.created_at:%Y-%m-%d %H:%M}",
                  _eur(p.total_cost_eur or 0)) for p in rows])


@app.command()
def show(
    ctx: typer.Context,
    plan_ref: str = PLAN_ARG,
    geojson: Optional[Path] = typer.Option(None, "--geojson", callback=output_file,
                                           help="Write the plan's routes as GeoJSON for a map."),
    fmt: OutputFormat = FORMAT, as_json: bool = JSON,
) -> None:
    """A stored plan: its route(s), bill of materials, cost and loss budget (CSV: its dotted
    fields as field,value rows)."""
    from planning import changeset, plans

    with open_session(ctx) as session:
        plan = changeset.get_plan(session, plan_ref)
        if geojson:
            collection = plans.plan_geojson(session, plan)
            write_text(geojson, json.dumps(collection, ensure_ascii=False))
            err_console.print(f"{len(collection['features'])} route features written to {geojson}")
    if print_object({"id": plan.id, "name": plan.name, "kind": plan.kind, "state": str(plan.state),
                     "total_cost_eur": plan.total_cost_eur, "summary": plan.summary}, chosen_format(fmt, as_json)):
        return
    console.print(f"plan [bold]{plan.name}[/bold] (id {plan.id}, {plan.kind}, {plan.state})", highlight=False)
    # a summary an older netops or a hand stored may lack what the view needs: the view is
    # printed whole, or the summary's fields as they are stored with a note naming the gap
    try:
        with console.capture() as view:
            _print_summary(plan)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        gap = f"no field {exc.args[0]!r}" if isinstance(exc, KeyError) else "a field of another type or shape"
        err_console.print(f"note: plan {plan.name}'s stored summary is not what this netops shows ({gap}; an "
                          "older netops or a hand stored it): its fields as stored", highlight=False, soft_wrap=True)
        print_table("summary as stored", ["field", "value"], flat_rows(plan.summary), prose=("value",))
    else:
        console.file.write(view.get())


def _print_summary(plan) -> None:
    if plan.kind.startswith("access-"):  # a building or area plan (commands/plan_access.py)
        from commands.plan_access import print_access

        print_access(plan.summary, None)
    elif plan.kind.startswith("batch"):
        s = plan.summary
        console.print(f"price table: {s['price_table']}", highlight=False)
        console.print(f"{len(s['routes'])} sites: joint {_eur(s['total_eur'])}, independent "
                      f"{_eur(s['independent_total_eur'])}, saving {_eur(s['saving_eur'])} ({s['saving_pct']} %)")
        _print_bom(s["bom"], s["total_eur"])
        if "loss_budget" in s:  # plans stored before batches had loss budgets lack it
            _print_batch_budgets(s)
        for note in s.get("notes", []):  # what qualifies the figures above (e.g. a saving against unbuildable plans)
            console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    else:
        _print_connect(plan.summary, None)


@app.command()
def diff(ctx: typer.Context, plan_ref: str = PLAN_ARG, fmt: OutputFormat = FORMAT, as_json: bool = JSON) -> None:
    """What applying the plan would add to and change in the inventory (CSV: one line per
    row added or field changed)."""
    from inventory.entities import KIND_OF_TABLE
    from planning import changeset

    with open_session(ctx) as session:
        plan = changeset.get_plan(session, plan_ref)
        added = {KIND_OF_TABLE.get(t, t): codes for t, codes in changeset.plan_rows(session, plan).items()}
        changed = [{"kind": KIND_OF_TABLE.get(c["table"], c["table"]), **{k: v for k, v in c.items() if k != "table"}}
                   for c in changeset.plan_changes(session, plan)]
    fmt = chosen_format(fmt, as_json)
    if fmt is OutputFormat.JSON:
        print_json({"plan": plan.name, "state": str(plan.state), "added": added, "changed": changed})
        return
    if fmt is OutputFormat.CSV:
        print_listing(fmt, "", DIFF_COLUMNS, diff_rows(added, changed))
        return
    print_table(f"plan {plan.name}: rows added (status planned -> active on apply)", ["kind", "rows", "codes"],
                [(kind, len(codes), ", ".join(codes[:6]) + (f" +{len(codes) - 6} more" if len(codes) > 6 else ""))
                 for kind, codes in added.items()], prose=("codes",))
    print_table("rows changed", ["kind", "code", "field", "before", "after"],
                [(c["kind"], c["code"], c["field"], c["before"], c["after"]) for c in changed])


DIFF_COLUMNS = ["change", "kind", "code", "field", "before", "after"]


def diff_rows(added: dict[str, list[str]], changed: list[dict]) -> list[list]:
    """`plan diff` as one line per row the plan adds and per field it changes on a row it
    does not own (the lines of its CSV)."""
    return [*(["added", kind, code, "", "", ""] for kind, codes in added.items() for code in codes),
            *(["changed", c["kind"], c["code"], c["field"], c["before"], c["after"]] for c in changed)]


def _change_state(ctx: typer.Context, plan_ref: str, action: str, done: str) -> None:
    from inventory.entities import KIND_OF_TABLE
    from netops.db import session_scope
    from planning import changeset

    # under the writer lock: a seed running meanwhile must not judge rows this changes
    with app_context(ctx).writing("netops plan apply/discard", create=False) as engine, \
            session_scope(engine) as session:
        plan = changeset.get_plan(session, plan_ref)
        counts = getattr(changeset, action)(session, plan)
    console.print(f"plan {plan.name} {done} " + ", ".join(f"{n} {KIND_OF_TABLE.get(t, t)}"
                                                            for t, n in counts.items() if n), highlight=False)


@app.command()
def apply(ctx: typer.Context, plan_ref: str = PLAN_ARG) -> None:
    """Build the plan in the inventory: planned -> active, in one transaction."""
    _change_state(ctx, plan_ref, "apply_plan", "applied:")


@app.command()
def discard(ctx: typer.Context, plan_ref: str = PLAN_ARG) -> None:
    """Remove every row of a draft plan (the plan stays listed as discarded)."""
    _change_state(ctx, plan_ref, "discard_plan", "discarded: removed")


# planning for customers (plan building, business, area): its own file, registered on this group
from commands import plan_access  # noqa: E402,F401
