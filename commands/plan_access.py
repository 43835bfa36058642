"""`netops plan building|business|area`: planning for customers (``planning.access``).

Registered on the `plan` group by ``commands/plan.py``; the planning code is imported inside
each command, not for --help."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from commands.common import OutputFormat, chosen_format, console, format_option, open_session, print_json, \
    print_listing, print_table
from commands.plan import DRY_RUN, JSON, PLAN_NAME, PRICE_DATE, REGION, STRANDS, STREETS, _eur, _margin, _options, \
    _print_bom, _print_connect, _print_price_table, app, print_stored
from netops.errors import NetopsError
from netops.vocabulary import did_you_mean

if TYPE_CHECKING:  # the planning code is imported when a command runs
    from planning.access import AccessOptions

MAX_DROP = typer.Option(500.0, "--max-drop", min=1.0, help="Longest drop (metres of cable) from a splitter to a "
                        "building.")
MIN_MARGIN = typer.Option(None, "--min-margin", min=0.0, help="Power budget margin every ONT keeps, dB, at least 0 "
                          "(default: the planning rule's 3 dB).")
MAX_OLT_PORTS = typer.Option(112, "--max-olt-ports", min=1, help="PON ports an OLT can have (default: a "
                             "Huawei MA5800-X7's 7 slots x 16).")
TAKE_UP = typer.Option("passed", "--take-up", help="The new ONTs' take-up: passed (drop there, nobody signed) "
                       "or connected.")
CONNECTION_COLUMNS = ["building", "address", "homes", "onts", "splitter", "ports", "fed_from", "drop_m",
                      "margin_db", "cost_eur"]


#: the options of every plan that passes homes (`building`, `area`): name -> (type, option)
ACCESS_OPTIONS = {
    "max_drop": (float, MAX_DROP), "min_margin": (Optional[float], MIN_MARGIN), "take_up": (str, TAKE_UP),
    "max_olt_ports": (int, MAX_OLT_PORTS), "streets": (Optional[Path], STREETS), "strands": (int, STRANDS),
    "region": (Optional[str], REGION), "price_date": (Optional[dt.datetime], PRICE_DATE),
}


def access_options(command):
    """A command that passes homes declares one ``options`` parameter; it gets the options of
    :data:`ACCESS_OPTIONS` on the command line in its place and is called with the
    ``planning.access.AccessOptions`` they make (Typer reads the command's signature, so the
    shared options are put into it)."""
    signature = inspect.signature(command)  # annotations unevaluated: AccessOptions is imported when run
    params = []
    for param in signature.parameters.values():
        params += [inspect.Parameter(name, param.POSITIONAL_OR_KEYWORD, default=option, annotation=annotation)
                   for name, (annotation, option) in ACCESS_OPTIONS.items()] if param.name == "options" else [param]

    @functools.wraps(command)
    def run(**kwargs):
        options = _access_options(**{name: kwargs.pop(name) for name in ACCESS_OPTIONS})
        return command(**kwargs, options=options)

    run.__signature__ = signature.replace(parameters=params)
    run.__annotations__ = {param.name: param.annotation for param in params}
    return run


def _access_options(streets, strands, region, price_date, max_drop, min_margin, take_up, max_olt_ports):
    from inventory.models.access import TakeUp
    from planning.access import AccessOptions

    try:
        take = TakeUp(take_up)
    except ValueError:
        raise NetopsError(f"--take-up {take_up!r}: one of {', '.join(TakeUp)}{did_you_mean(take_up, TakeUp)}") \
            from None
    return AccessOptions(network=_options(streets, strands, region, price_date), max_drop_m=max_drop,
                         min_margin_db=_margin(min_margin), take_up=take,
                         max_olt_ports=max_olt_ports)


def _row(c: dict) -> list:
    feed = c["fed_from"]
    return [c["building"], c["address"], c["homes"], c["onts"], c["splitter"], " ".join(map(str, c["ports"])),
            f"{feed['source']} port {feed['port']}, {feed['over']}" if feed and feed["port"] else
            f"{feed['source']}, {feed['over']}" if feed else "", c["drop_m"], c["loss_budget"]["margin_db"],
            c["cost_eur"]]


def print_access(summary: dict, stored, fmt: OutputFormat = OutputFormat.TABLE) -> None:
    """A building or area plan: per building, the splitters it adds, BOM, cost per home."""
    if fmt is OutputFormat.JSON:
        print_json({**summary, "plan_id": stored.id if stored else None})
        return
    rows = [_row(c) for c in summary["connections"]]
    if fmt is OutputFormat.CSV:
        print_listing(fmt, "connections", CONNECTION_COLUMNS, rows)
        return
    what = f"area {summary['area']}" if summary.get("area") else "building"
    console.print(f"[bold]{what}[/bold]: {summary['buildings']} building(s), {summary['homes_passed']} homes passed, "
                  f"{summary['onts']} ONT(s); {summary['on_existing_splitters']} on free ports of existing "
                  f"splitters, {summary['new_splitters']} new splitter(s), {summary['new_olt_ports']} new OLT "
                  f"port(s)", highlight=False)
    _print_price_table(summary["price_table"])
    prices = summary["access_prices"]
    console.print("access equipment at netops' planning figures (not in price tables): splitter "
                  + ", ".join(f"{r} {eur:g} €" for r, eur in prices["splitter"].items())
                  + f"; OLT port {prices['olt_port']:g} €; ONT {prices['ont']:g} €", highlight=False)
    print_table("buildings", ["building", "address", "homes", "ONTs", "splitter", "ports", "fed from", "drop m",
                              "margin dB", "cost €"],
                [[*r[:7], f"{r[7]:,.0f}", f"{r[8]:.1f}", _eur(r[9])] for r in rows], prose=("address", "fed from"))
    if summary["splitters"]:
        print_table("new splitters", ["splitter", "ratio", "at node", "closure", "fed from", "optics", "ports used"],
                    [(s["splitter"], f"1:{s['ratio']}", s["node"], s["closure"], s["fed_from"], s["optics_class"],
                      s["ports_used"]) for s in summary["splitters"]])
    _print_bom(summary["bom"], summary["total_eur"])
    console.print(f"cost per home passed: [bold]{_eur(summary['cost_per_home_eur'])}[/bold] "
                  f"({_eur(summary['total_eur'])} / {summary['homes_passed']} homes); worst ONT margin "
                  f"{summary['worst_margin_db']:.1f} dB", highlight=False)
    if stored is not None:
        print_stored(stored.name, stored.id)


@app.command()
@access_options
def building(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The building's code (`netops inventory list --kind building`)."),
    options: AccessOptions = None,
    name: Optional[str] = typer.Option(None, PLAN_NAME, help="Name of the stored plan (default building-<code>-N)."),
    dry_run: bool = DRY_RUN, fmt: OutputFormat = format_option(), as_json: bool = JSON,
) -> None:
    """Put a residential building on the PON: splitter port, drop, BOM, cost, loss budget.

    The cheapest splitter with free ports within drop reach whose power budget holds, else a
    new splitter fed from a free splitter port, a spare OLT port or a new one; drop and
    feeder in existing ducts first. Stores a change set unless --dry-run; exit 2 when the
    building is unknown, passed already, or nothing with capacity reaches it."""
    from planning import access

    with open_session(ctx) as session:
        result = access.connect_building(session, code, options, save=not dry_run, name=name)
    print_access(result.summary, result.stored, chosen_format(fmt, as_json))


@app.command()
@access_options
def area(
    ctx: typer.Context,
    stadtteil: Optional[list[str]] = typer.Option(None, "--stadtteil", help="Pass the homes of this Stadtteil "
                                                  "(the buildings' district; repeatable)."),
    polygon: Optional[Path] = typer.Option(None, "--polygon", exists=True, dir_okay=False,
                                           help="...or of the buildings inside this GeoJSON (Multi)Polygon."),
    options: AccessOptions = None,
    name: Optional[str] = typer.Option(None, PLAN_NAME, help="Name of the stored plan (default area-N)."),
    dry_run: bool = DRY_RUN, fmt: OutputFormat = format_option(), as_json: bool = JSON,
) -> None:
    """Pass every home of an area not passed yet, with the cost per home passed.

    Building after building in street order, each on a free splitter port within reach,
    else on a new splitter its neighbours then fill. Prints homes passed, total cost, cost
    per home passed and the BOM; stores one change set unless --dry-run. An unknown
    Stadtteil, an area with nothing to pass, or a building nothing can reach: exit 2."""
    from planning import access

    if not stadtteil and polygon is None:
        raise NetopsError("give --stadtteil (repeatable) or --polygon")
    with open_session(ctx) as session:
        result = access.plan_area(session, options, districts=list(stadtteil or ()), polygon=polygon,
                                  save=not dry_run, name=name)
    print_access(result.summary, result.stored, chosen_format(fmt, as_json))


@app.command()
def business(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The building the company is in (`netops inventory list --kind building`)."),
    company: str = typer.Option(..., "--company", help="The company's name."),
    service_class: str = typer.Option("business", "--service-class",
                                      help="best_effort, business, or sla_gold (two disjoint routes)."),
    bandwidth: int = typer.Option(1000, "--bandwidth", min=1, max=400_000, help="Bandwidth in Mbit/s."),
    min_margin: Optional[float] = MIN_MARGIN,
    streets: Optional[Path] = STREETS, strands: int = STRANDS, region: Optional[str] = REGION,
    price_date: Optional[dt.datetime] = PRICE_DATE,
    name: Optional[str] = typer.Option(None, PLAN_NAME, help="Name of the stored plan (default business-<code>-N)."),
    dry_run: bool = DRY_RUN, fmt: OutputFormat = format_option(), as_json: bool = JSON,
) -> None:
    """Connect a company by point-to-point fibre to a PoP: route, BOM, cost, loss budget.

    Spare strands of existing cables first (as `plan connect`); a gold SLA gets two routes
    sharing no trench, manhole, building or street corridor. Exit code 1 when a loss budget
    margin is below --min-margin."""
    from inventory.models.access import ServiceClass
    from planning import access

    try:
        service = ServiceClass(service_class)
    except ValueError:
        raise NetopsError(f"--service-class {service_class!r}: one of {', '.join(ServiceClass)}"
                          f"{did_you_mean(service_class, ServiceClass)}") from None
    if not company.strip():
        raise NetopsError("--company is empty: give the company's name")
    fmt = chosen_format(fmt, as_json)
    with open_session(ctx) as session:
        result = access.connect_business(session, code, company, service, bandwidth,
                                         _options(streets, strands, region, price_date),
                                         min_margin_db=_margin(min_margin),
                                         save=not dry_run, name=name)
    summary = result.summary
    if fmt is OutputFormat.JSON:
        print_json({**summary, "plan_id": result.stored.id if result.stored else None})
    elif fmt is OutputFormat.CSV:
        print_listing(fmt, "routes", ["route", "pop", "length_m", "new_cable_m", "spare_strand_m", "margin_db"],
                      [[i + 1, r["pop"], r["length_m"], r["new_cable_m"], r["spare_strand_m"], b["margin_db"]]
                       for i, (r, b) in enumerate(zip(summary["routes"], summary["loss_budget"]))])
    else:
        b = summary["business"]
        console.print(f"{b['company']}: {b['service_class']} {b['bandwidth_mbps']:,} Mbit/s, point-to-point fibre "
                      f"from building {b['building']} ({b['address']})", highlight=False)
        _print_connect(summary, result.stored)
    if result.flagged:
        raise typer.Exit(1)
