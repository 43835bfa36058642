"""What people see: the city map report (one offline HTML file) and the city's KPIs.

``build_report`` gathers the numbers from the inventory, the topology audits and,
optionally, Prometheus; ``render_html`` draws them; ``write_report`` does both.

They are imported on first use: the exporter imports ``report.collector`` and must not
load the topology that ``build_report`` needs.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import Session

    from configs.state import Workspace
    from report.model import Report

_LAZY = {"build_report": "report.collect", "render_html": "report.html", "Report": "report.model"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'report' has no attribute {name!r}")


def write_report(session: Session, out: Path, prometheus_url: str | None = None,
                 config_workspace: Workspace | None = None) -> Report:
    from report.collect import build_report
    from report.html import render_html
    from netops.textfile import write_text

    report = build_report(session, prometheus_url=prometheus_url, config_workspace=config_workspace)
    write_text(out, render_html(report))
    return report


__all__ = ["build_report", "render_html", "write_report", "Report"]
