"""Render a ``Report`` as one self-contained HTML file.

Everything the page needs is inline: Leaflet (vendored, BSD-2-Clause, see
``static/LICENSE-leaflet.txt``), the page's own script and style, and the data as JSON.
The map works offline on a blank background; OpenStreetMap tiles are an optional layer
that only loads when the reader picks it. Tables are rendered here, in Python, so the
numbers are readable even where scripts are blocked.
"""

from __future__ import annotations

import json
from html import escape
from importlib.resources import files
from string import Template

from report.model import Report, Share

_STATIC = files("report") / "static"

KIND_LABELS = {
    "school": "schools", "kindergarten": "Kitas", "hospital": "clinics", "business_park": "business parks",
}

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$leaflet_css</style>
<style>$report_css</style>
</head>
<body data-status="loading">
<header><h1>$title</h1><p class="muted">generated $generated_at</p></header>
<main>
<section id="map-section">
  <div id="map"></div>
  <aside id="site-panel"><p class="muted">Click a site on the map to see its devices, paths to the core and findings.</p></aside>
</section>
<section id="kpis"><h2>Key figures</h2>$kpi_table$notes</section>
<section id="plans"><h2>Planned connections</h2>$plan_table</section>
<section id="districts"><h2>Districts</h2>$district_table</section>
<section id="findings"><h2>Findings</h2>$finding_table</section>
</main>
<footer class="muted">Map drawn with Leaflet (BSD-2-Clause, &copy; Vladimir Agafonkin, CloudMade).</footer>
<script type="application/json" id="netops-data">$data</script>
<script>$leaflet_js</script>
<script>$report_js</script>
</body>
</html>
""")

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
header, section, footer { padding: 0 1.5rem; }
h1 { font-size: 1.4rem; margin: 0.8rem 0 0.2rem; }
.muted { color: #777; }
#map-section { display: flex; gap: 1rem; }
#map { flex: 3; height: 620px; border: 1px solid #ccc; background: #f4f4f0; }
#site-panel { flex: 1; max-height: 620px; overflow: auto; border: 1px solid #ddd; padding: 0 0.8rem; }
#site-panel ul { padding-left: 1.1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.7rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.sev { font-weight: bold; text-transform: uppercase; font-size: 0.8em; }
.sev-critical { color: #b00; } .sev-warning { color: #d60; } .sev-info { color: #666; }
summary { cursor: pointer; margin: 0.3rem 0; }
"""


def render_html(report: Report) -> str:
    payload = {"sites": report.sites, "trenches": report.trenches, "cables": report.cables, "findings": report.findings}
    notes = "".join(f'<p class="muted">{escape(n)}</p>' for n in report.kpis.notes)
    return _PAGE.substitute(
        title=escape(report.title),
        generated_at=escape(report.generated_at),
        leaflet_css=(_STATIC / "leaflet.css").read_text("utf-8"),
        report_css=_CSS,
        kpi_table=_kpi_table(report),
        notes=notes,
        plan_table=_plan_table(report),
        district_table=_district_table(report),
        finding_table=_finding_table(report),
        # "<" escaped so no string in the data can close the script element
        # views are plain dataclasses: vars() is their JSON (asdict's deep copy costs seconds)
        data=json.dumps(payload, ensure_ascii=False, default=vars).replace("<", "\\u003c"),
        leaflet_js=(_STATIC / "leaflet.min.js").read_text("utf-8"),
        report_js=(_STATIC / "report.js").read_text("utf-8"),
    )


def _pct(share: Share | None) -> str:
    if share is None:
        return "n/a"
    ratio = share.ratio
    return f"{share.part} / {share.total} ({ratio * 100:.1f} %)" if ratio is not None else "0 / 0"


def _table(headers: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="num">{cell}</td>' if i >= numeric_from else f"<td>{cell}</td>" for i, cell in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kpi_table(report: Report) -> str:
    k = report.kpis
    rows = []
    for kind, share in k.connected.items():
        rows.append([f"{KIND_LABELS[kind]} connected", _pct(share)])
    for kind, share in k.redundant.items():
        rows.append([f"{KIND_LABELS[kind]} with trench-disjoint redundancy", _pct(share)])
    hotspots = k.hotspots_fibre + k.hotspots_radio
    rows.append(["hotspots fibre-fed", _pct(Share(k.hotspots_fibre, hotspots))])
    rows.append(["hotspots radio-meshed", _pct(Share(k.hotspots_radio, hotspots))])
    for window, value in (k.hotspot_availability or {}).items():
        rows.append([f"hotspot availability, last {window}", "no data" if value is None else f"{value * 100:.2f} %"])
    rows.append(["devices with a config backup of the last 2 days", _pct(k.backup_coverage)])
    rows.append(["compliance checks passed (device × rule)", _pct(k.compliance)])
    rows.append(["planned connections", f"{len(k.planned_connections)} (€ {k.planned_cost_eur:,.0f})"])
    return _table(["figure", "value"], rows)


def _plan_table(report: Report) -> str:
    rows = [
        [escape(p.plan), escape(p.kind), escape(", ".join(p.sites)), "n/a" if p.cost_eur is None else f"€ {p.cost_eur:,.0f}"]
        for p in report.kpis.planned_connections
    ]
    return _table(["plan", "kind", "sites", "cost"], rows, numeric_from=3)


def _district_table(report: Report) -> str:
    kinds = list(KIND_LABELS)
    rows = [
        [escape(d.district)]
        + [_pct(d.by_kind[k]) if k in d.by_kind else "" for k in kinds]
        + [_pct(d.redundant), str(d.hotspots)]
        for d in report.districts
    ]
    headers = ["district"] + [f"{KIND_LABELS[k]} connected" for k in kinds] + ["trench-disjoint", "hotspots"]
    return _table(headers, rows)


def _finding_table(report: Report) -> str:
    """One collapsible table per severity (a city has hundreds of info findings); the
    critical ones open."""
    if not report.findings:
        return '<p class="muted">none</p>'
    parts = []
    for severity in ("critical", "warning", "info"):
        rows = [[escape(f.kind), escape(f.message), escape(", ".join(f.sites))]
                for f in report.findings if f.severity == severity]
        if rows:
            parts.append(
                f'<details class="findings-{severity}"{" open" if severity == "critical" else ""}>'
                f'<summary><span class="sev sev-{severity}">{severity}</span> {len(rows)} finding(s)</summary>'
                + _table(["audit", "finding", "sites"], rows, numeric_from=99) + "</details>"
            )
    return "".join(parts)
