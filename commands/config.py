"""`netops config`: backup running configs to git, diff them, audit them.

Read-only: these commands only ever run show commands on devices.

Exit codes: 0 ok; 1 audit findings at or above --fail-on; 2 bad input; 3 some devices
could not be read (their results are reported, the others were still processed; this
wins over 1 because the audit is incomplete); 4 configuration (secrets, database).
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from typing import TYPE_CHECKING

from commands import ssh_common as ssh
from commands.common import (OutputFormat, app_context, chosen_format, console, format_option, open_session, print_json,
                             print_listing, print_table, severity_option)

if TYPE_CHECKING:  # the config code (netmiko, rules, git store) is imported by each command
    from configs.audit import AuditReport
    from configs.scrub import Fingerprinter

app = typer.Typer(no_args_is_help=True)  # its help is in cli.GROUPS


@app.command()
def backup(
    ctx: typer.Context,
    site: list[str] = ssh.SiteOpt, site_kind: list[str] = ssh.SiteKindOpt, district: list[str] = ssh.DistrictOpt,
    role: list[str] = ssh.RoleOpt, device: list[str] = ssh.DeviceOpt, store: Path = ssh.StoreOpt,
    address_map: Path = ssh.AddressMapOpt, known_hosts: Path = ssh.KnownHostsOpt, workers: int = ssh.WorkersOpt,
    login_limit: int = ssh.LoginLimitOpt, retries: int = ssh.RetriesOpt, as_json: bool = ssh.JsonOpt,
    fmt: OutputFormat = format_option(),
) -> None:
    """Back up the running config of the selected devices: scrubbed, one git commit per run."""
    from configs.backup import run_backup

    run = ssh.SshRun(ssh.device_filter(site, site_kind, district, role, device), ssh.workspace(store),
                     address_map, known_hosts, workers, login_limit, retries)
    with open_session(ctx) as session:
        targets = ssh.targets(ctx, run, session)
    fingerprint = _fingerprinter(ctx)
    pool, started = run.pool(), time.monotonic()
    report = ssh.with_progress(
        "backup", len(targets.ready),
        lambda step: run_backup(targets.ready, pool, run.workspace, targets.unusable, step,
                                fingerprint=fingerprint),
    )
    logins = ssh.login_summary(pool, time.monotonic() - started)
    fmt = chosen_format(fmt, as_json)
    if fmt is OutputFormat.JSON:
        print_json({**report.as_dict(), "logins": logins})
    else:
        print_listing(fmt, f"config backup → {run.workspace.root / 'repo'}",
                      ["device", "status", "change", "error", "warning"],
                      [[d.device, d.status, d.change, d.error, d.warning] for d in report.devices],
                      prose=("error", "warning"))
    if fmt is OutputFormat.TABLE:  # the run's summary, for people
        console.print(report.message.splitlines()[0] if report.message else "no devices selected",
                      highlight=False, markup=False)
        console.print(ssh.login_line(logins), highlight=False)
    if report.failed:
        raise typer.Exit(ssh.EXIT_DEVICES_FAILED)


def _fingerprinter(ctx: typer.Context) -> Fingerprinter:
    from configs.scrub import Fingerprinter
    from netops.secrets import SecretStore, fingerprint_key

    return Fingerprinter(fingerprint_key(SecretStore(path=app_context(ctx).settings.secrets_file)))


@app.command()
def diff(
    device: str = typer.Argument(..., help="Device name."),
    since: str = typer.Option(None, "--since", help="Compare with the version at this date (e.g. 2026-11-01, '2 weeks ago')."),
    store: Path = ssh.StoreOpt, as_json: bool = ssh.JsonOpt,
) -> None:
    """What changed in a device's config: since --since, or between its last two backups."""
    result = ssh.workspace(store).store().diff(device, since)
    if as_json:
        print_json({"device": result.device, "from": result.from_commit, "to": result.to_commit,
                    "changes": result.changes, "diff": result.diff})
    elif not result.diff.strip():
        console.print(f"{device}: no changes since {since}", highlight=False)
    else:
        console.print("\n".join(f"# {item}" for item in result.changes), highlight=False, markup=False)
        console.print(result.diff, highlight=False, markup=False, end="")


@app.command()
def audit(
    ctx: typer.Context,
    site: list[str] = ssh.SiteOpt, site_kind: list[str] = ssh.SiteKindOpt, district: list[str] = ssh.DistrictOpt,
    role: list[str] = ssh.RoleOpt, device: list[str] = ssh.DeviceOpt, store: Path = ssh.StoreOpt,
    address_map: Path = ssh.AddressMapOpt, known_hosts: Path = ssh.KnownHostsOpt, workers: int = ssh.WorkersOpt,
    login_limit: int = ssh.LoginLimitOpt, retries: int = ssh.RetriesOpt, as_json: bool = ssh.JsonOpt,
    rules_dir: list[Path] = typer.Option([], "--rules", help="Extra rules directory (repeatable; env NETOPS_RULES_DIR)."),
    from_store: bool = typer.Option(False, "--from-store", help="Audit the last backups, no SSH."),
    intended: bool = typer.Option(False, "--intended", help="Audit generated configs of planned devices, no SSH."),
    fail_on: str = typer.Option(
        "critical", "--fail-on", callback=severity_option, metavar="[critical|warning|info]",
        help="Exit 1 on findings of this severity or worse (high/medium/low are accepted as before)."),
    fmt: OutputFormat = format_option(),
) -> None:
    """Check configs against the compliance rules (running configs over SSH by default)."""
    from configs.audit import audit_live, audit_store, record_audit
    from configs.intended import audit_intended
    from configs.rules import load_rules
    from configs.targets import select_devices

    if from_store and intended:
        raise typer.BadParameter("--from-store and --intended exclude each other")
    rules = load_rules(rules_dir)
    run = ssh.SshRun(ssh.device_filter(site, site_kind, district, role, device), ssh.workspace(store),
                     address_map, known_hosts, workers, login_limit, retries)
    report = None
    with open_session(ctx) as session:
        if intended:
            report = audit_intended(session, run.filters, rules)
        elif from_store:  # no SSH, so no secrets needed
            report = audit_store(select_devices(session, run.filters), run.workspace.store(), rules)
        else:
            targets = ssh.targets(ctx, run, session)
    if report is None:
        fingerprint = _fingerprinter(ctx)  # evidence shows the same markers as the backups
        report = ssh.with_progress("audit", len(targets.ready),
                                   lambda step: audit_live(targets, run.pool(), rules, step, fingerprint))
    record_audit(run.workspace, report, intended=intended)
    fmt = chosen_format(fmt, as_json)
    if fmt is OutputFormat.JSON:
        print_json(report.as_dict())
    elif fmt is OutputFormat.CSV:  # one row per finding, like the table of findings
        print_listing(fmt, "", FINDING_COLUMNS, _findings(report))
    else:
        _print_audit(report)
    if report.failed_devices:
        raise typer.Exit(ssh.EXIT_DEVICES_FAILED)
    if report.fails_at(fail_on):
        raise typer.Exit(ssh.EXIT_FINDINGS)


FINDING_COLUMNS = ["device", "rule", "severity", "evidence"]


def _findings(report: AuditReport) -> list[list]:
    return [[d.device, r.rule_id, r.severity, "; ".join(r.evidence)] for d in report.devices for r in d.failures]


def _print_audit(report: AuditReport) -> None:
    print_table("compliance by device", ["device", "platform", "status", "passed", "failed", "worst"], [
        [d.device, d.platform, d.error and f"{d.status}: {d.error}" or d.status,
         len(d.results) - len(d.failures), len(d.failures),
         max((r.severity for r in d.failures), key=lambda s: s.rank, default="")]
        for d in report.devices
    ], prose=("status",))
    findings = _findings(report)
    if findings:
        print_table("findings", FINDING_COLUMNS, findings, prose=("evidence",))
    else:
        console.print("no findings")
    print_table("compliance by rule", ["rule", "severity", "compliant", "noncompliant", "title"], [
        [rule, c["severity"], c["compliant"], c["noncompliant"], c["title"]]
        for rule, c in report.rule_counts().items()
    ], prose=("title",))


@app.command()
def remediate(
    ctx: typer.Context,
    site: list[str] = ssh.SiteOpt, site_kind: list[str] = ssh.SiteKindOpt, district: list[str] = ssh.DistrictOpt,
    role: list[str] = ssh.RoleOpt, device: list[str] = ssh.DeviceOpt, store: Path = ssh.StoreOpt,
    as_json: bool = ssh.JsonOpt,
    rules_dir: list[Path] = typer.Option([], "--rules", help="Extra rules directory (repeatable)."),
) -> None:
    """Dry run: the config lines that would fix the violations in the last backups (from
    the rules' `fix` data). Nothing is sent to any device. Exit 3 when a device's backup is
    there but could not be audited (not a config file, unreadable, rules cannot read it)."""
    from configs.audit import audit_store
    from configs.remediate import plan as remediation_plan
    from configs.rules import load_rules
    from configs.targets import select_devices

    rules = load_rules(rules_dir)
    with open_session(ctx) as session:
        devices = select_devices(session, ssh.device_filter(site, site_kind, district, role, device))
    report = audit_store(devices, ssh.workspace(store).store(), rules)
    plans = remediation_plan(report, rules)
    # a device never backed up has nothing to plan from: said, but not a failed run (a new switch);
    # a backup that is there and was not audited (a file that is no config, one the rules cannot
    # read) is a failed run, exit 3 as `config audit` says: the plan misses what that device needs
    from netops.access import AccessStatus

    no_backup = [d.device for d in report.failed_devices if d.status != AccessStatus.PARSE_ERROR]
    unreadable = [d for d in report.failed_devices if d.status == AccessStatus.PARSE_ERROR]
    if as_json:
        print_json({"plans": [p.as_dict() for p in plans], "not_in_store": no_backup,
                    "not_audited": [{"device": d.device, "error": d.error} for d in unreadable]})
    else:
        for p in plans:
            console.rule(f"{p.device}: fixes {len(p.fixed_rules)} rules, {len(p.manual_rules)} manual")
            console.print("\n".join(p.lines) or "(nothing automatic)", highlight=False, markup=False)
            if p.manual_rules:
                console.print(f"manual: {', '.join(p.manual_rules)}", highlight=False)
        if no_backup:
            console.print(f"no backup yet, nothing to plan (run `netops config backup` first): "
                          f"{', '.join(no_backup)}", highlight=False, markup=False)
        for d in unreadable:
            console.print(f"{d.device}: nothing to plan, {d.error}", highlight=False, markup=False)
        console.print(f"dry run: {len(plans)} devices need changes; netops sends no configuration")
    if unreadable:
        raise typer.Exit(ssh.EXIT_DEVICES_FAILED)
