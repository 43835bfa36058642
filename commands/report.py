"""`netops report`: the city map report and KPIs."""

from __future__ import annotations

from pathlib import Path

import typer

from commands.common import app_context, console, print_json
from netops.db import session_scope
from report import write_report

app = typer.Typer(help="The city report: offline HTML map and KPIs.", invoke_without_command=True)


@app.callback()
def report(
    ctx: typer.Context,
    out: Path = typer.Option(Path("out/netops-report.html"), "--out", help="HTML file to write."),
    prometheus_url: str = typer.Option(
        None, "--prometheus-url", help="Prometheus base URL for hotspot availability (7/30 days)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the KPIs and district tables as JSON."),
) -> None:
    """Write the report (one self-contained HTML file) and print where it is."""
    with session_scope(app_context(ctx).engine) as session:
        result = write_report(session, out, prometheus_url=prometheus_url)
    if as_json:
        print_json(result.summary() | {"html": str(out.resolve())})
    else:
        console.print(f"report written: {out.resolve()}")
