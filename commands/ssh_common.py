"""Options and output shared by the command groups that talk to devices over SSH
(`netops config`, `netops lldp`): device selection, pool sizes, progress, exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar

import typer

from commands.common import app_context, choice_option, json_option, output_dir, progress_bar
from netops.settings import WORKSPACE_ENV
from netops.vocabulary import DeviceRole, SiteKind


if TYPE_CHECKING:  # device access (netmiko, paramiko) is imported when devices are contacted
    from configs.state import Workspace
    from configs.targets import DeviceFilter, Targets
    from netops.access import DeviceResult, SessionPool

EXIT_FINDINGS = 1
EXIT_DEVICES_FAILED = 3

T = TypeVar("T")

#: measured with benchmarks/ssh_bench.py, see BENCHMARKS.md and the README on sizing
DEFAULT_WORKERS = 16
DEFAULT_LOGIN_LIMIT = 8

SiteOpt = typer.Option([], "--site", help="Only devices at this site code (repeatable).")
SiteKindOpt = typer.Option([], "--site-kind", callback=choice_option("site kind", SiteKind),
                           help="Only sites of this kind, e.g. school (repeatable).")
DistrictOpt = typer.Option([], "--district", help="Only sites in this district (repeatable).")
RoleOpt = typer.Option([], "--role", callback=choice_option("device role", DeviceRole),
                       help="Only devices with this role, e.g. access_switch (repeatable).")
DeviceOpt = typer.Option([], "--device", help="Only this device (repeatable).")
StoreOpt = typer.Option(None, "--store", envvar=WORKSPACE_ENV, callback=output_dir,
                        help="Config workspace (git store + state); default: user data dir.")
AddressMapOpt = typer.Option(
    None, "--address-map", exists=True, dir_okay=False,
    help='JSON {"device": "host:port"} used instead of mgmt addresses (port forwards, labs).')
KnownHostsOpt = typer.Option(
    None, "--known-hosts", envvar="NETOPS_SSH_KNOWN_HOSTS", exists=True, dir_okay=False,
    help="OpenSSH known_hosts file: refuse devices whose host key is unknown or changed.")
WorkersOpt = typer.Option(DEFAULT_WORKERS, "--workers", min=1, max=256, help="Sessions at once.")
LoginLimitOpt = typer.Option(DEFAULT_LOGIN_LIMIT, "--login-limit", envvar="NETOPS_SSH_LOGIN_LIMIT", min=1, max=256,
                             help="Logins at once (spares the AAA servers; README: sizing it).")
RetriesOpt = typer.Option(1, "--retries", min=0, max=5, help="Retries of a failed connection.")
JsonOpt = json_option()


@dataclass
class SshRun:
    filters: DeviceFilter
    workspace: Workspace
    address_map: Path | None
    known_hosts: Path | None
    workers: int
    login_limit: int
    retries: int

    def pool(self) -> SessionPool:
        from netops.access import RetryPolicy, SessionPool

        return SessionPool(self.workers, self.login_limit, RetryPolicy(retries=self.retries))


def workspace(store: Path | None) -> Workspace:
    from configs.state import Workspace

    return Workspace(store)


def device_filter(site, kind, district, role, device) -> DeviceFilter:
    from configs.targets import DeviceFilter

    return DeviceFilter(tuple(site), tuple(kind), tuple(district), tuple(role), tuple(device))


def targets(ctx: typer.Context, run: SshRun, session) -> Targets:
    from configs.targets import build_targets, check_known_hosts, load_address_map, select_devices
    from netops.secrets import SecretStore

    settings = app_context(ctx).settings
    devices = select_devices(session, run.filters)
    mapping = load_address_map(run.address_map) if run.address_map else None
    if run.known_hosts:
        check_known_hosts(run.known_hosts)
    return build_targets(session, devices, SecretStore(path=settings.secrets_file), mapping, run.known_hosts)


def with_progress(label: str, total: int, work: Callable[[Callable[[DeviceResult], None]], T]) -> T:
    """Run ``work(on_result)`` under a progress bar on stderr (stdout stays clean for --json)."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[last]}"), TimeElapsedColumn())
    with progress_bar(*columns) as progress:
        task = progress.add_task(label, total=total, last="")

        def advance(result: DeviceResult) -> None:
            progress.update(task, advance=1, last=f"{result.device}: {result.status}")

        return work(advance)


def login_summary(pool: SessionPool, wall_s: float) -> dict:
    """What the AAA servers saw of a run: the figures sizing ``--login-limit`` needs."""
    stats = pool.login_stats
    return {"login_limit": pool.login_limit, "logins": stats.logins,
            "mean_login_s": round(stats.mean_login_s, 2),
            "logins_per_s": round(stats.logins / wall_s, 2) if wall_s > 0 else 0.0}


def login_line(summary: dict) -> str:
    return (f"logins: {summary['logins']}, at most {summary['login_limit']} at once, "
            f"{summary['mean_login_s']:.1f}s each on average, {summary['logins_per_s']:.1f}/s")
