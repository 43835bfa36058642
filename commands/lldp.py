"""`netops lldp verify`: compare LLDP/CDP neighbours with the documented links.

Exit codes: 0 as documented; 1 mismatches of a --fail-on kind; 3 some devices could not
be read (wins over 1: the check is incomplete); 2 bad input; 4 configuration.
"""

from __future__ import annotations

from pathlib import Path

import typer

from typing import TYPE_CHECKING

from commands import ssh_common as ssh
from commands.common import (OutputFormat, chosen_format, console, err_console, format_option, open_session, print_json,
                             print_listing, severity_option)
from netops.vocabulary import Severity

if TYPE_CHECKING:  # the LLDP code (netmiko) is imported when the command runs
    from configs.lldp import MismatchKind

app = typer.Typer(no_args_is_help=True)  # its help is in cli.GROUPS


def _fail_on_option(values: list[str]) -> list:
    """Typer callback: each value is a mismatch kind or a severity (old words accepted)."""
    from configs.lldp import MismatchKind

    kinds = {str(k): k for k in MismatchKind}
    return [kinds[v.lower()] if v.lower() in kinds else severity_option(v) for v in values]


def _fails(kind: MismatchKind, fail_on: list) -> bool:
    return any(kind is t if not isinstance(t, Severity) else kind.severity.rank >= t.rank for t in fail_on)


@app.command()
def verify(
    ctx: typer.Context,
    site: list[str] = ssh.SiteOpt, site_kind: list[str] = ssh.SiteKindOpt, district: list[str] = ssh.DistrictOpt,
    role: list[str] = ssh.RoleOpt, device: list[str] = ssh.DeviceOpt, store: Path = ssh.StoreOpt,
    address_map: Path = ssh.AddressMapOpt, known_hosts: Path = ssh.KnownHostsOpt, workers: int = ssh.WorkersOpt,
    login_limit: int = ssh.LoginLimitOpt, retries: int = ssh.RetriesOpt, as_json: bool = ssh.JsonOpt,
    fail_on: list[str] = typer.Option(
        ["warning"], "--fail-on", callback=_fail_on_option, metavar="[KIND|SEVERITY]",
        help="Exit 1 on mismatches of this kind (missing, mispatched, unexpected) or of this severity "
             "or worse (critical: missing; warning: all). Repeatable."),
    fmt: OutputFormat = format_option(),
) -> None:
    """Read neighbours over SSH and report missing, mis-patched and unexpected links."""
    from configs.lldp import documented_links, record_lldp, verify as verify_links

    run = ssh.SshRun(ssh.device_filter(site, site_kind, district, role, device), ssh.workspace(store),
                     address_map, known_hosts, workers, login_limit, retries)
    with open_session(ctx) as session:  # read the inventory, then let go of the database
        targets = ssh.targets(ctx, run, session)
        links = documented_links(session, [t.name for t in targets.ready])
    report = ssh.with_progress("lldp", len(targets.ready),
                               lambda step: verify_links(links, targets, run.pool(), step))
    record_lldp(run.workspace, report)
    fmt = chosen_format(fmt, as_json)
    if fmt is OutputFormat.JSON:
        print_json(report.as_dict())
    else:
        print_listing(fmt, "LLDP/CDP vs inventory",
                      ["device", "kind", "severity", "local port", "documented", "observed", "link"],
                      [[f.device, f.kind, f.kind.severity, f.local_interface, f.expected, f.observed, f.link]
                       for f in report.findings])
    if fmt is not OutputFormat.JSON:  # devices not read: beside the table, or on stderr beside CSV
        for d in report.failed_devices:
            (console if fmt is OutputFormat.TABLE else err_console).print(
                f"[red]{d.device}[/red]: {d.status}: {d.error}", highlight=False)
    if fmt is OutputFormat.TABLE:
        counts = report.counts()
        console.print(", ".join(f"{v} {k}" for k, v in counts.items()) + f" ({len(report.devices)} devices)")
    if report.failed_devices:
        raise typer.Exit(ssh.EXIT_DEVICES_FAILED)
    if any(_fails(f.kind, fail_on) for f in report.findings):
        raise typer.Exit(ssh.EXIT_FINDINGS)
