"""The `netops` command: Typer glue only (options, output, exit codes).

Each command group lives in its own file under ``commands/``.
"""

from __future__ import annotations

import typer

from commands import audit, config, db, exporter, inventory, lldp, plan, report
from commands.common import AppContext, NetopsGroup
from netops.settings import DB_ENV, Settings

app = typer.Typer(
    cls=NetopsGroup,
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


app.add_typer(db.app, name="db")
app.add_typer(inventory.app, name="inventory")
app.add_typer(report.app, name="report")
app.add_typer(audit.app, name="audit")
app.add_typer(config.app, name="config")
app.add_typer(lldp.app, name="lldp")
app.add_typer(exporter.app, name="exporter")
app.add_typer(plan.app, name="plan")

if __name__ == "__main__":
    app()
