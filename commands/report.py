"""`netops report`: the city map report and KPIs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import typer

from commands.common import console, json_option, open_session, output_file, print_json, working
from report.prometheus import PrometheusError

DEFAULT_ALERTMANAGER_BASE = Path("deploy/alertmanager/alertmanager.yml")
app = typer.Typer(invoke_without_command=True)  # its help is in cli.GROUPS


def _http_url(value: str | None) -> str | None:
    """A base URL the report can query: http(s)://host[:port][/path] (else usage, exit 2)."""
    if value is None:
        return None
    if "@" in value:
        # urllib sends no credentials from the URL (the query fails), and the URL goes into the
        # report's note and the error line: a password there would be published, so it is
        # refused before any message could echo it
        raise typer.BadParameter("a user or password in the URL is not supported")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a port that is no number or out of range)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise typer.BadParameter(f"{value!r} is not an http(s) URL, e.g. http://prometheus:9090")
    if parts.query or parts.fragment:  # the API path goes after the base: ?x/api/v1/query asks the wrong page;
        # not echoed: a query may hold a token (?token=...), and this line reaches CI logs
        hidden = {"query": "...", "fragment": ""} if parts.query else {"fragment": "..."}
        shown = parts._replace(**hidden).geturl()
        raise typer.BadParameter(f"{shown!r}: a base URL has no ?query or #fragment, e.g. http://prometheus:9090")
    return value


@app.callback()
def report(
    ctx: typer.Context,
    out: Path = typer.Option(Path("out/netops-report.html"), "--out", callback=output_file, help="HTML file to write."),
    prometheus_url: str = typer.Option(
        None, "--prometheus-url", callback=_http_url,
        help="Prometheus base URL for hotspot availability (7/30 days); if it fails, the report is written "
             "without those figures and the exit code is 3."
    ),
    as_json: bool = json_option(),
    alertmanager_config: Path = typer.Option(
        None, "--alertmanager-config", callback=output_file, help="Also write an Alertmanager config with PoP inhibitions from the topology."
    ),
    alertmanager_base: Path = typer.Option(
        DEFAULT_ALERTMANAGER_BASE, "--alertmanager-base",
        help="The Alertmanager config the generated inhibit rules are added to.",
    ),
) -> None:
    """Write the report (one self-contained HTML file) and print where it is."""
    from report import write_report
    from report.alerting import read_alertmanager_base, write_alertmanager_config

    if alertmanager_config or alertmanager_base != DEFAULT_ALERTMANAGER_BASE:
        read_alertmanager_base(alertmanager_base)  # a bad file is refused before the work
    with open_session(ctx) as session:
        with working("building the report (inventory, audits, map)"):
            result = write_report(session, out, prometheus_url=prometheus_url)
        rules = write_alertmanager_config(session, alertmanager_base, alertmanager_config) if alertmanager_config else None
    if as_json:
        extra = {"html": str(out.resolve())}
        if alertmanager_config:
            extra |= {"alertmanager_config": str(alertmanager_config.resolve()), "pop_inhibit_rules": rules}
        print_json(result.summary() | extra)
    else:
        console.print(f"report written: {out.resolve()}")
        if alertmanager_config:
            console.print(f"alertmanager config written: {alertmanager_config.resolve()} ({rules} PoP inhibit rules)")
    if result.kpis.prometheus_error:  # written without Prometheus' figures: a service failed
        raise PrometheusError(result.kpis.prometheus_error)
