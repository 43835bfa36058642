"""`netops inventory`: seed, import, export, list, show, stats."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from commands.common import (OutputFormat, app_context, chosen_format, console, err_console, format_option,
                             json_option, open_session, output_dir, output_file, print_json, print_listing,
                             print_object, print_table, progress_bar)
from netops.errors import NetopsError
from netops.vocabulary import ELEMENT_KINDS

if TYPE_CHECKING:
    from rich.progress import Progress

# the inventory code (models, generator, files) is imported inside each command: `netops
# --help` and the other groups do not pay for it

app = typer.Typer(no_args_is_help=True)  # its help is in cli.GROUPS

JSON = json_option()
KIND_HELP = f"Element kind: {', '.join(ELEMENT_KINDS)}."


def _progress() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    return progress_bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _print_report(report, fmt: OutputFormat) -> None:
    counts = report.as_dict()
    if fmt is OutputFormat.JSON:
        print_json(counts)
        return
    columns = list(next(iter(counts.values()), {"inserted": 0, "updated": 0, "unchanged": 0}))
    print_listing(fmt, "written", ["kind", *columns], [[k, *v.values()] for k, v in counts.items()])


@app.command("seed")
def seed_cmd(
    ctx: typer.Context,
    scale: int = typer.Option(1, min=1, max=1000, help="N-times larger synthetic city (benchmarks)."),
    random_seed: Optional[int] = typer.Option(None, "--seed", help="Generator seed (same seed, same city; "
                                                                   "default: the documented city's)."),
    streets: Optional[Path] = typer.Option(None, callback=output_file,
                                           help="Also write the candidate street network (GeoJSON)."),
    prune: bool = typer.Option(False, "--prune", help="Delete rows an earlier seed wrote that the generator "
                                                      "no longer makes (never rows of plans or imports)."),
    fmt: OutputFormat = format_option(),
    as_json: bool = JSON,
) -> None:
    """Load the Gelsenkirchen network (real sites + generated plant). Idempotent.

    A re-seed never reverts rows that a plan or an import changed since (it names them)."""
    from inventory.seed import SEED, generate, seed as load_dataset, write_streets
    from netops.db import session_scope

    context = app_context(ctx)
    context.check_writable()
    with _progress() as progress:
        task = progress.add_task("generating the city", total=None)
        dataset = generate(scale, SEED if random_seed is None else random_seed)
        if streets:  # before the database: a file that cannot be written (a full disk) changes nothing
            write_streets(dataset, streets)
        progress.update(task, total=len(dataset.rows), completed=0, description="waiting for the database")
        with context.writing("netops inventory seed") as engine, session_scope(engine) as session:
            report = load_dataset(session, dataset, prune=prune,
                                  on_kind=lambda k, n: progress.update(task, advance=1, description=f"loaded {k}"))
    if streets:
        err_console.print(f"street network: {streets}")
    _print_report(report, chosen_format(fmt, as_json))
    for what, rows, why in (("kept", report.kept, "changed since the last seed (by a plan or an import); "
                                                  "the seed leaves them as they are"),
                            ("stale", report.stale, "no longer generated: `netops inventory seed --prune` "
                                                    "deletes those still as the seed wrote them")):
        if rows:
            names = [f"{kind} {name}" for kind, names in rows.items() for name in names]
            err_console.print(f"{what}: {len(names)} rows {why}: {', '.join(names[:8])}"
                              + (f" … +{len(names) - 8}" if len(names) > 8 else ""), highlight=False)


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="CSV or GeoJSON files, one entity kind each."),
    kind: Optional[str] = typer.Option(None, "--kind", help=f"Element kind when it cannot be told from the file: {', '.join(ELEMENT_KINDS)}."),
    dry_run: bool = typer.Option(False, help="Validate and report, write nothing."),
    fmt: OutputFormat = format_option(),
    as_json: bool = JSON,
) -> None:
    """Validate whole files, then write everything in one transaction (upsert by natural key)."""
    from inventory import files
    from inventory.store import write
    from netops.db import session_scope

    batches = [files.read_file(path, kind) for path in paths]
    # a dry run checks against an existing inventory: it never creates a database or its schema
    with app_context(ctx).writing("netops inventory import", create=not dry_run) as engine, \
            session_scope(engine) as session:
        report = write(session, batches)
        if dry_run:
            session.rollback()
    _print_report(report, chosen_format(fmt, as_json))
    if dry_run:
        err_console.print("dry run: nothing written")


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    kind: Optional[str] = typer.Option(None, "--kind", help=KIND_HELP),
    fmt: str = typer.Option("csv", "--format", help="csv or geojson (opens in QGIS)."),
    out: Optional[Path] = typer.Option(None, callback=output_file, help="Output file (default: stdout)."),
    open_data: Optional[Path] = typer.Option(None, "--open-data", callback=output_dir, help="Write the publishable open-data layers into this directory."),
) -> None:
    """Export one entity kind as CSV or GeoJSON (opens in QGIS), or the open-data layers."""
    from inventory import files
    from inventory.entities import kind as entity_kind
    from inventory.store import export_rows
    from netops.db import session_scope

    engine = app_context(ctx).engine
    if open_data is not None:
        from inventory.opendata import check_open_data_dir, write_open_data

        check_open_data_dir(open_data)
        with session_scope(engine) as session:
            written = write_open_data(session, open_data)
        for path in written:
            console.print(str(path))
        return
    if kind is None:
        raise NetopsError("--kind is required (or --open-data DIR)")
    entity = entity_kind(kind)
    writer = files.writer_for(entity, fmt)
    with session_scope(engine) as session:
        rows = export_rows(session, kind)
    if out is None:
        writer(entity, rows, sys.stdout)
        return
    from netops.textfile import atomic_text

    with atomic_text(out) as fh:
        writer(entity, rows, fh)
    err_console.print(f"{len(rows)} {kind} rows → {out}")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    kind_argument: Optional[str] = typer.Argument(None, metavar="[KIND]", show_default=False,
                                                  help="The same as --kind (kept for old scripts)."),
    kind_option: Optional[str] = typer.Option(None, "--kind", help=KIND_HELP),
    where: list[str] = typer.Option([], "--where", "-w", help="field=value filter, repeatable (e.g. -w kind=school)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Show at most this many rows."),
    fmt: OutputFormat = format_option(),
    as_json: bool = JSON,
) -> None:
    """List rows of one kind, filtered by exact field values."""
    if (kind_argument is None) == (kind_option is None):
        raise typer.BadParameter("give the element kind once: --kind KIND (or as the argument)")
    kind = kind_option if kind_option is not None else kind_argument
    from inventory import queries
    from inventory.entities import kind as entity_kind
    from netops.db import session_scope

    filters = {}
    for item in where:
        field, sep, value = item.partition("=")
        if not sep:
            raise NetopsError(f"--where takes field=value, not {item!r}")
        filters[field.strip()] = value.strip()
    with open_session(ctx) as session:
        rows = queries.list_rows(session, kind, filters, limit)
    fmt = chosen_format(fmt, as_json)
    if fmt is OutputFormat.JSON:
        print_json(rows)  # every field, geometry included
        return
    entity = entity_kind(kind)
    # a table shows what fits beside the identifiers; CSV has every field but the geometry
    columns = [f for f in entity.file_fields if f != "geometry"]
    if fmt is OutputFormat.TABLE:
        columns = [c for c in columns if c not in ("notes", "address")][:9]
    print_listing(fmt, f"{kind} ({len(rows)})", columns,
                  [[getattr(r.get(c), "value", r.get(c)) for c in columns] for r in rows], prose=("name",))


@app.command("show")
def show_cmd(ctx: typer.Context,
             name: str = typer.Argument(..., help="Code or name of a site, device, cable, segment, node or link."),
             fmt: OutputFormat = format_option(), as_json: bool = JSON) -> None:
    """One site, device, cable, segment, node or link, with what belongs to it."""
    from inventory import queries
    from netops.db import session_scope

    with open_session(ctx) as session:
        result = queries.show(session, name)
    if print_object(result, chosen_format(fmt, as_json)):
        return
    main = result[result["kind"]]
    print_table(f"{result['kind']} {name}", ["field", "value"],
                [(k, getattr(v, "value", v)) for k, v in main.items() if k != "geometry"])
    for part, rows in result.items():
        if part in ("kind", result["kind"]) or not rows:
            continue
        columns = list(rows[0])[:8]
        print_table(part, columns, [[getattr(r.get(c), "value", r.get(c)) for c in columns] for r in rows])


@app.command("stats")
def stats_cmd(ctx: typer.Context, fmt: OutputFormat = format_option(), as_json: bool = JSON) -> None:
    """What is in the inventory: sites by kind and status, devices, plant lengths."""
    from inventory.stats import stats

    with app_context(ctx).reading() as conn:
        result = stats(conn)
    if print_object(result, chosen_format(fmt, as_json)):
        return
    status = result["sites_by_kind_and_status"]
    print_table(
        f"sites ({result['sites_real']} real, {result['sites_generated']} generated)",
        ["kind", "total", "active", "planned"],
        [(k, n, status.get(k, {}).get("active", 0), status.get(k, {}).get("planned", 0))
         for k, n in result["sites_by_kind"].items()],
    )
    print_table("devices", ["role", "count"], result["devices_by_role"].items())
    print_table("outside plant", ["what", "value"], [
        ("trench segments", result["trench_segments"]),
        ("trench length", f"{result['trench_length_m'] / 1000:.1f} km"),
        *[(f"  {m}", f"{v / 1000:.1f} km") for m, v in result["trench_length_by_method_m"].items()],
        ("cables", result["cables"]),
        ("cable length", f"{result['cable_length_m'] / 1000:.1f} km"),
        ("links", sum(result["links_by_medium"].values())),
    ])
    customers = result["customers"]
    print_table("customers", ["what", "count"], [
        ("buildings", customers["buildings"]),
        ("residential units", customers["residential_units"]),
        ("  passed", customers["residential_units_passed"]),
        ("  connected", customers["residential_units_connected"]),
        ("companies", customers["companies"]),
        ("business lines", customers["business_connections"]),
        *[(f"  {c}", n) for c, n in customers["business_connections_by_service_class"].items()],
    ])
