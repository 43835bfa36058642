"""Render a ``Report`` as one self-contained HTML file.

Everything the page needs is inline: Leaflet (vendored, BSD-2-Clause, see
``static/LICENSE-leaflet.txt``), the page's own script and style, and the data as JSON.
The map works offline on a blank background; OpenStreetMap tiles are an optional layer
that only loads when the reader picks it. Tables are rendered here, in Python, so the
numbers are readable even where scripts are blocked.
"""

from __future__ import annotations

import json
import re
from collections import Counter
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
  <aside id="side">
    <details id="legend"><summary>Legend</summary></details>
    <div id="site-panel"><p class="muted">Tap or click a site on the map to see its devices, paths to the core and findings.</p></div>
  </aside>
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
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
header, section, footer { padding: 0 1.5rem; }
h1 { font-size: 1.4rem; margin: 0.8rem 0 0.2rem; }
.muted { color: #777; }
#map-section { display: flex; gap: 1rem; }
#map { flex: 3; min-width: 0; height: clamp(480px, 74vh, 900px); border: 1px solid #ccc; background: #f7f6f2; }
#side { flex: 1; min-width: 0; display: flex; flex-direction: column; gap: 0.6rem; max-height: clamp(480px, 74vh, 900px); }
#site-panel { flex: 1; overflow: auto; border: 1px solid #ddd; padding: 0 0.8rem; overflow-wrap: break-word; }
#site-panel ul { padding-left: 1.1rem; }
.table-wrap { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.7rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.sev { font-weight: bold; text-transform: uppercase; font-size: 0.8em; }
.sev-critical { color: #b00; } .sev-warning { color: #d60; } .sev-info { color: #666; }
summary { cursor: pointer; margin: 0.3rem 0; }
details.more { display: inline; } details.more > summary { display: inline; color: #1f5fa8; }
details.audit-group { margin-left: 1rem; }
.id { white-space: nowrap; }
.area-label { color: #555; font-size: 11px; white-space: nowrap; text-shadow: 0 0 3px #fff, 0 0 3px #fff;
  transform: translate(-50%, -50%); width: auto !important; height: auto !important; }
.area-label-stadtbezirk, .area-label-town { font-size: 14px; font-weight: 600; text-transform: uppercase; letter-spacing: 0.08em;
  color: #666; margin-top: 14px; }
.hotspot-cluster { display: flex; align-items: center; justify-content: center; border-radius: 50%;
  background: rgba(255, 127, 0, 0.35); border: 2px solid #ff7f00; color: #7a3b00; font: bold 11px system-ui, sans-serif; }
.legend-cluster { display: inline-flex; width: 22px; height: 22px; vertical-align: middle; }
#legend { border: 1px solid #ddd; padding: 0.2rem 0.8rem; font-size: 13px; }
#legend ul { list-style: none; padding: 0; margin: 0.2rem 0; }
#legend li { display: flex; align-items: center; gap: 0.4rem; margin: 2px 0; }
#legend li svg { flex: none; }
.legend-note { margin: 0.3rem 0; color: #555; }
@media (max-width: 760px) {
  header, section, footer { padding: 0 0.7rem; }
  h1 { font-size: 1.15rem; }
  #map-section { flex-direction: column; gap: 0.6rem; padding: 0; }
  #map { flex: none; width: 100%; height: 56vh; min-height: 340px; border-width: 1px 0; }
  #side { flex: none; width: 100%; max-height: none; }
  #site-panel, #legend { border-width: 1px 0; }
  th, td { padding: 0.2rem 0.3rem; }
  th { font-size: 0.85em; }
  details.audit-group { margin-left: 0.4rem; }
  table.records, table.records tbody, table.records tr, table.records td { display: block; }
  table.records thead { display: none; }
  table.records tr { border-bottom: 1px solid #ccc; padding: 0.3rem 0; }
  table.records td, table.records td.num { border: 0; padding: 0.1rem 0; text-align: left; }
  table.records td:empty { display: none; }
  table.records td:first-child { font-weight: 600; }
  table.records td::before { content: attr(data-label) ": "; color: #777; }
}
"""


def render_html(report: Report) -> str:
    payload = {"sites": report.sites, "trenches": report.trenches, "cables": report.cables,
               "findings": report.findings, "areas": report.areas,
               "customer_areas": report.customer_areas, "customer_buildings": report.customer_buildings}
    notes = "".join(f'<p class="muted">{escape(n)}</p>' for n in report.kpis.notes)
    return _PAGE.substitute(
        title=escape(report.title),
        generated_at=escape(report.generated_at),
        leaflet_css=_leaflet_css(),
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


#: the folded layer control's icon (three stacked sheets), inline: Leaflet's CSS points at
#: images/*.png next to the page, which a single offline file does not have
_LAYERS_ICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 26 26'%3E"
    "%3Cg fill='%23ffffff' stroke='%23555' stroke-width='1.5' stroke-linejoin='round'%3E"
    "%3Cpath d='M13 15 3 19.5l10 4.5 10-4.5z'/%3E%3Cpath d='M13 10.5 3 15l10 4.5L23 15z'/%3E"
    "%3Cpath d='M13 6 3 10.5 13 15l10-4.5z'/%3E%3C/g%3E%3C/svg%3E"
)


def _leaflet_css() -> str:
    css = (_STATIC / "leaflet.css").read_text("utf-8")
    for image in ("url(images/layers.png)", "url(images/layers-2x.png)"):
        css = css.replace(image, f'url("{_LAYERS_ICON}")')
    return css.replace("url(images/marker-icon.png)", "none")  # the map draws no default pin markers


def _pct(share: Share | None) -> str:
    if share is None:
        return "n/a"
    ratio = share.ratio
    return f"{share.part} / {share.total} ({ratio * 100:.1f} %)" if ratio is not None else "0 / 0"


def _table(headers: list[str], rows: list[list[str]], numeric_from: int = 1, records: bool = False) -> str:
    """``records``: on a phone each row becomes a block (label: value) instead of columns."""
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    labels = [f' data-label="{escape(h)}"' for h in headers]
    body = "".join(
        "<tr>" + "".join(
            f'<td class="num"{label}>{cell}</td>' if i >= numeric_from else f"<td{label}>{cell}</td>"
            for i, (cell, label) in enumerate(zip(row, labels))
        ) + "</tr>"
        for row in rows
    )
    kind = ' class="records"' if records else ""
    return f'<div class="table-wrap"><table{kind}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


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
        of = (k.hotspots_in_availability or {}).get(window)
        rows.append([f"hotspot availability, last {window}" + ("" if of is None else f" (of {of} hotspot APs polled)"),
                     "no data" if value is None else f"{value * 100:.2f} %"])
    if k.hotspots_not_polled or (k.hotspots_not_polled is None and k.hotspot_availability is not None):
        # not down and not up: the exporter holds no SNMP credentials for them (docs/metrics.md);
        # Prometheus asked and holding no hotspot now is unknown, not "none left out"
        rows.append(["hotspots not polled (no SNMP credentials; not in the availability)",
                     "no data" if k.hotspots_not_polled is None else f"{k.hotspots_not_polled}"])
    rows.append(["devices with a config backup of the last 2 days", _pct(k.backup_coverage)])
    rows.append(["compliance checks passed (device × rule)", _pct(k.compliance)])
    rows.append(["planned connections", f"{len(k.planned_connections)} (€ {k.planned_cost_eur:,.0f})"])
    if k.customers is not None:
        c = k.customers
        rows.append(["companies connected", f"{c.companies:,}"])
        # one row per class: the value column does not wrap, and a phone is 390 px wide
        rows += [[f"company lines, {escape(cls)}", f"{n:,}"] for cls, n in k.lines_by_service_class.items()]
        rows.append(["residential units passed", f"{c.units_passed:,}"])
        rows.append(["residential units connected (take-up)", _pct(c.take_up)])
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
        + ([str(d.customers.companies), _pct(d.customers.take_up)] if d.customers else ["", ""])
        for d in report.districts
    ]
    headers = (["district"] + [f"{KIND_LABELS[k]} connected" for k in kinds]
               + ["trench-disjoint", "hotspots", "companies", "homes connected / passed"])
    return _table(headers, rows, records=True)


#: site kinds, most important first: the order of site lists in findings
SITE_IMPORTANCE = ("hospital", "school", "kindergarten", "business_park", "public_building", "core", "cabinet",
                   "small_cell", "hotspot")
SEVERITIES = ("critical", "warning", "info")
SITES_SHOWN = 6  # per finding; the rest behind "+N more"
AREAS_SHOWN = 3  # per finding, the areas with most of its sites first
FINDINGS_SHOWN = 10  # per audit group, the heaviest; the rest behind "+N more, lighter"


def _finding_table(report: Report) -> str:
    """Counts by audit and severity first, then per severity (worst first) one collapsible
    group per audit, its findings ranked by the weight of the sites they cut off, each with
    where it is (the Stadtteile or towns of its sites: the towns' single-fibre schools read
    as "Bottrop", not as 30 school codes), the ten heaviest shown and the rest folded; site
    lists in order of importance, shortened with an expandable "+N more". Findings that only
    concern hotspots (one uplink by design) are counted apart and stay folded."""
    if not report.findings:
        return '<p class="muted">none</p>'
    kind_of = {s.code: s.kind for s in report.sites}
    area_of = {s.code: s.district for s in report.sites}
    rank = {kind: i for i, kind in enumerate(SITE_IMPORTANCE)}

    def areas(codes: list[str]) -> str:
        """Where a finding is: its sites' Stadtteile or towns, most sites first."""
        counts = Counter(area_of[c] for c in codes if c in area_of)
        named = [escape(area) for area, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
        more = f" +{len(named) - AREAS_SHOWN}" if len(named) > AREAS_SHOWN else ""
        return ", ".join(named[:AREAS_SHOWN]) + more

    def site_list(codes: list[str]) -> str:
        ordered = [f'<span class="id">{escape(c)}</span>'
                   for c in sorted(codes, key=lambda c: (rank.get(kind_of.get(c, ""), len(rank)), c))]
        if len(ordered) <= SITES_SHOWN + 1:  # "+1 more" would hide less than it takes
            return ", ".join(ordered)
        return (", ".join(ordered[:SITES_SHOWN]) + f' <details class="more"><summary>+{len(ordered) - SITES_SHOWN} more'
                f'</summary>{", ".join(ordered[SITES_SHOWN:])}</details>')

    real = [f for f in report.findings if not f.by_design]
    by_design = [f for f in report.findings if f.by_design]
    parts = [_finding_counts(real, by_design)]
    for severity in SEVERITIES:
        of_severity = [f for f in real if f.severity == severity]
        if not of_severity:
            continue
        groups: dict[str, list] = {}
        for finding in sorted(of_severity, key=lambda f: -f.weight):
            groups.setdefault(finding.kind, []).append(finding)
        def rows(members: list) -> str:
            return _table(["weight", "finding", "where", "sites"],
                          [[f"{f.weight:g}", _ids(escape(f.message)), areas(f.sites), site_list(f.sites)]
                           for f in members],
                          numeric_from=99, records=True)

        def heaviest_first(members: list) -> str:
            """The heaviest findings shown, the rest folded (hundreds of rows are a wall on a phone)."""
            if len(members) <= FINDINGS_SHOWN + 1:
                return rows(members)
            return (rows(members[:FINDINGS_SHOWN]) + f'<details class="more-findings"><summary>+'
                    f"{len(members) - FINDINGS_SHOWN} more, lighter</summary>{rows(members[FINDINGS_SHOWN:])}</details>")

        inner = "".join(
            f'<details class="audit-group audit-{escape(audit)}"{" open" if severity == "critical" else ""}>'
            f"<summary>{escape(audit)}: {len(members)} finding(s)</summary>"
            + heaviest_first(members)
            + "</details>"
            for audit, members in sorted(groups.items(), key=lambda g: (-g[1][0].weight, g[0]))
        )
        parts.append(
            f'<details class="findings-{severity}"{" open" if severity != "info" else ""}>'
            f'<summary><span class="sev sev-{severity}">{severity}</span> {len(of_severity)} finding(s)</summary>'
            f"{inner}</details>"
        )
    if by_design:
        parts.append(
            f'<details class="findings-by-design"><summary><span class="sev sev-info">by design</span> '
            f"{len(by_design)} finding(s) that concern only hotspots (one uplink by design)</summary>"
            + _table(["audit", "finding", "sites"],
                     [[escape(f.kind), _ids(escape(f.message)), site_list(f.sites)] for f in by_design],
                     numeric_from=99, records=True)
            + "</details>"
        )
    return "".join(parts)


#: an identifier in a message (pop-city-ds1, cl-mh-02186): kept on one line
_IDENTIFIER = re.compile(r"\b[\w.]+(?:-[\w.]+)+")


def _ids(text: str) -> str:
    return _IDENTIFIER.sub(lambda m: f'<span class="id">{m.group(0)}</span>', text)


def _finding_counts(real: list, by_design: list) -> str:
    audits = sorted({f.kind for f in real + by_design})
    rows = []
    for audit in audits:
        counts = [sum(f.kind == audit and f.severity == s for f in real) for s in SEVERITIES]
        rows.append([escape(audit)] + [str(n) if n else "" for n in counts]
                    + [str(sum(f.kind == audit for f in by_design) or "")])
    return _table(["audit", *SEVERITIES, "by design"], rows)
