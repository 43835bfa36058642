"""CLI glue, one file per command group (Typer's pattern). Options, output and exit
codes only: the logic lives in the packages and is tested without the CLI."""
