"""The `netops` command: Typer glue only (options, output, exit codes).

Each command group lives in its own file under ``commands/`` and is imported when it runs
(see :class:`commands.common.NetopsGroup`), so `netops --help` imports none of them.
"""

from __future__ import annotations

import typer

from commands.common import AppContext, NetopsGroup
from netops.settings import DB_ENV, Settings

#: the command groups in help order: name -> (module, help)
GROUPS = {
    "db": ("commands.db", "Database schema (Alembic migrations)."),
    "inventory": ("commands.inventory", "The inventory: sites, devices, outside plant, links."),
    "report": ("commands.report", "The city report: offline HTML map and KPIs."),
    "audit": ("commands.audit", "Resilience audits: reachability, single points of failure, shared trenches, cuts, "
                                "customers cut off, PON budgets."),
    "config": ("commands.config", "Device configurations: backup to git, diff, compliance audit."),
    "lldp": ("commands.lldp", "LLDP/CDP neighbours against the inventory's documented links."),
    "exporter": ("commands.exporter", "SNMP health exporter for Prometheus (snmp_exporter-compatible /snmp)."),
    "plan": ("commands.plan", "Connection planning: routes, bills of materials, costs, optical budgets; "
                              "plans as change sets."),
}


class NetopsCli(NetopsGroup):
    groups = GROUPS


app = typer.Typer(
    cls=NetopsCli,
    help="Network operations for the city's fibre and FreeWiFi network.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


@app.callback()
def main(
    ctx: typer.Context,
    db_url: str = typer.Option(
        None, "--db", envvar=DB_ENV, help="Database URL or SQLite file (default: user data dir)."
    ),
) -> None:
    ctx.obj = AppContext(Settings.load(db_url))


if __name__ == "__main__":
    app()
