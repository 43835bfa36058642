"""`netops report`: the city map report and KPIs."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import typer

from commands.common import console, json_option, open_session, output_file, print_json, working
from report.prometheus import PrometheusError

DEFAULT_ALERTMANAGER_BASE = Path("deploy/alertmanager/alertmanager.yml")
app = typer.Typer(invoke_without_command=True)  # its help is in cli.GROUPS


def _http_url(value: str | None) -> str | None:
    """A base URL the report can query: http(s)://host[:port][/path] (else usage, exit 2).

    No message echoes more of a refused URL than its scheme and host name (``_shown``): the
    line reaches CI logs, and a password or token may stand in any other part of it."""
    if value is None:
        return None
    if "@" in unicodedata.normalize("NFKC", value):  # (a full-width ＠ is read as @ by urlsplit's check)
        # urllib sends no credentials from the URL (the query fails), and the URL goes into the
        # report's note and the error line: a password there would be published
        raise typer.BadParameter("a user or password in the URL is not supported")
    try:
        parts = urlsplit(value)
    except ValueError:  # a [ left open, characters that normalise to / ? # :
        raise typer.BadParameter(f"{_shown(value)} is no URL, e.g. http://prometheus:9090") from None
    try:
        parts.port  # noqa: B018  (raises on a port that is no number or out of range)
    except ValueError:  # (not urllib's message: it echoes the port, and http://admin:s3cret has one)
        raise typer.BadParameter(f"{_shown(value)}: the port is no number in 0-65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise typer.BadParameter(f"{_shown(value)} is not an http(s) URL, e.g. http://prometheus:9090")
    if parts.query or parts.fragment:  # the API path goes after the base: ?x/api/v1/query asks the wrong page
        raise typer.BadParameter(f"{_shown(value)}: a base URL has no ?query or #fragment, "
                                 "e.g. http://prometheus:9090")
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in parts.path):  # (HTTP cannot send
        # them: http.client's refusal quoted the path, where a proxy's token may stand)
        raise typer.BadParameter(f"{_shown(value)}: a space or control character in the path: percent-encode it")
    return parts.geturl()  # as urlsplit reads it: without tabs and line breaks, which urllib drops too


#: a URL's scheme and host name, up to the first character that belongs to neither
_SCHEME_AND_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9._-]*")


def _shown(value: str) -> str:
    """``value`` as an error line may show it: its scheme and host name, ``...`` for the rest
    (a port, a path, a ?query, a #fragment may hold a secret: ``http://admin:s3cret`` reads as
    host ``admin``, port ``s3cret``); a value that does not start so is not shown at all."""
    head = _SCHEME_AND_HOST.match(value)
    if head is None:
        return "the value"
    return repr(head.group() + ("..." if head.end() < len(value) else ""))


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
