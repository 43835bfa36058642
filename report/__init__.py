"""What people see: the city map report (one offline HTML file) and the city's KPIs.

``build_report`` gathers the numbers from the inventory, the topology audits and,
optionally, Prometheus; ``render_html`` draws them; ``write_report`` does both.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from configs.state import Workspace

from report.collect import build_report
from report.html import render_html
from report.model import Report


def write_report(session: Session, out: Path, prometheus_url: str | None = None,
                 config_workspace: Workspace | None = None) -> Report:
    report = build_report(session, prometheus_url=prometheus_url, config_workspace=config_workspace)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(report), encoding="utf-8")
    return report


__all__ = ["build_report", "render_html", "write_report", "Report"]
