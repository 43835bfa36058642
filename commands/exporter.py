"""`netops exporter`: the SNMP exporter for Prometheus."""

from __future__ import annotations

import dataclasses
import gc
import logging
from functools import partial
from pathlib import Path
from typing import Optional

import typer

from commands.common import app_context, console, err_console
from netops.errors import InputError, RowProblem
from netops.settings import WORKSPACE_ENV, tcp_port

app = typer.Typer(no_args_is_help=True)  # its help is in cli.GROUPS


def _listen(value: str) -> tuple[str, int]:
    host, _, text = value.rpartition(":")
    port = tcp_port(text)
    if not host or port is None:
        raise InputError([RowProblem("--listen", 1, "listen", value, "expected HOST:PORT (a port 0-65535)")])
    return host.strip("[]"), port


@app.command()
def serve(
    ctx: typer.Context,
    listen: str = typer.Option("127.0.0.1:9116", help="Address to serve HTTP on."),
    max_targets_in_flight: int = typer.Option(64, min=1, help="Targets polled at once, shared by all scrapes."),
    cache_ttl: float = typer.Option(3600.0, min=0, help="Seconds static labels (ifName...) stay cached."),
    budget_offset: float = typer.Option(0.5, min=0, help="Finish this many seconds before Prometheus' scrape timeout."),
    inventory: bool = typer.Option(True, help="Use the inventory database (profiles, /sd, inventory gauges)."),
    allow_any_target: bool = typer.Option(
        False, "--allow-any-target",
        help="Labs: also poll hosts the inventory does not know, with profiles without secrets only "
             "(public_v2). Default: only inventory devices, each with the profile bound to it."),
    tolerate_nonincreasing: list[str] = typer.Option(
        [], "--tolerate-nonincreasing", metavar="PROFILE",
        help="Auth profile whose agents return non-increasing OIDs (buggy firmware): walk on instead "
             "of failing the module. Repeatable."),
    log_level: str = typer.Option("warning", help="debug, info, warning, error."),
    config_store: Optional[Path] = typer.Option(
        None, "--config-store", envvar=WORKSPACE_ENV,
        help="Workspace of `netops config` runs, for backup-age and compliance gauges (default: user data dir)."),
) -> None:
    """Serve /snmp?target=HOST[:PORT]&module=a,b&auth=PROFILE, /metrics, /sd, /-/healthy, /-/reload."""
    from exporters.sd import inventory_devices
    from exporters.server import make_app, serve as run
    from exporters.snmp.poller import Poller
    from exporters.snmp.profiles import load_profiles
    from exporters.targets import TargetPolicy
    from configs.metrics import ConfigStateCollector
    from configs.state import Workspace
    from netops.secrets import SecretStore

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import asyncio

    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # about 5 % less CPU per scrape than asyncio's loop
    # a scrape allocates ~1000 short-lived tuples and no cycles worth chasing: young collections
    # every 100k allocations, and the imports frozen out of every collection (~10 % less CPU)
    gc.freeze()
    gc.set_threshold(100_000, 10, 10)
    host, port = _listen(listen)
    context = app_context(ctx)
    engine = context.engine if inventory else None
    store = SecretStore(context.settings.secrets_file)

    def reload_profiles():
        store._file = None  # re-read the secrets file too
        profiles = load_profiles(engine, store)
        for name in tolerate_nonincreasing:
            if name in profiles:
                profiles[name] = dataclasses.replace(profiles[name], allow_nonincreasing=True)
        return profiles

    poller = Poller(reload_profiles(), max_targets_in_flight=max_targets_in_flight, cache_ttl_s=cache_ttl,
                    budget_offset_s=budget_offset)
    # gauges the alert rules and dashboard need beside SNMP: config runs, and (with the
    # inventory) trench-disjoint paths, findings and device info from the report's collector
    collectors = [ConfigStateCollector(Workspace(config_store))]
    if engine is not None:
        from report.collector import InventoryAuditCollector  # its topology figures: from a child process

        collectors.append(InventoryAuditCollector(engine))
    policy = TargetPolicy(partial(inventory_devices, engine) if engine is not None else None,
                          allow_any_target=allow_any_target)
    if engine is None and not allow_any_target:
        err_console.print("[yellow]warning:[/yellow] no inventory and no --allow-any-target: every /snmp "
                          "target is refused (403)", highlight=False, soft_wrap=True)
    console.print(f"netops exporter listening on http://{host}:{port}/", highlight=False)
    run(make_app(poller, engine, reload_profiles, collectors, policy), host, port)
