"""The city report: KPIs from the inventory, and one offline HTML page that Chromium renders."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sqlmodel import select

from cli import app
from configs.state import WORKSPACE_ENV, Workspace
from inventory.models import Site
from netops.db import session_scope
from report import build_report, render_html, write_report
from report.model import FindingView
from tests.support.chromium import Browser, chromium_binary, colour_census
from tests.support.mini_city import build_mini_city

ROOT = Path(__file__).resolve().parent.parent
ARTEFACTS = ROOT / "out" / "test-artifacts"


@pytest.fixture(autouse=True)
def empty_config_workspace(tmp_path, monkeypatch):
    """No test reads the user's real config-run state."""
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "configs"))
    return Workspace(tmp_path / "configs")


def _mini_report(engine, out: Path | None = None):
    with session_scope(engine) as session:
        build_mini_city(session)
    with session_scope(engine) as session:
        return write_report(session, out) if out else build_report(session)


def test_kpis_count_connected_sites_hotspot_feeds_and_plans(engine):
    kpis = _mini_report(engine).kpis
    shares = {kind: (s.part, s.total) for kind, s in kpis.connected.items()}
    # Kita-2 is planned (no link) and the clinic has a switch but no link: neither is connected
    assert shares == {"school": (1, 1), "kindergarten": (1, 2), "hospital": (0, 1), "business_park": (1, 1)}
    # from the topology audits: the school's two uplinks run in different trenches, the
    # business park's two uplinks share seg-5, the Kita has one uplink
    redundant = {kind: (s.part, s.total) for kind, s in kpis.redundant.items()}
    assert redundant == {"school": (1, 1), "kindergarten": (0, 1), "hospital": (0, 0), "business_park": (0, 1)}
    assert kpis.redundant["hospital"].ratio is None  # no connected clinic is not "0 % redundant"
    assert (kpis.hotspots_fibre, kpis.hotspots_radio) == (1, 1)  # HOT-2 hangs on radio behind HOT-1
    assert [(p.plan, p.sites, p.cost_eur) for p in kpis.planned_connections] == [
        ("clinic-1-uplink", ["Bergmannsheil Buer"], 12000.0), ("kita-2", ["Kita Sonnenschein"], 48250.0),
    ]
    assert kpis.planned_cost_eur == 60250.0
    assert kpis.hotspot_availability is None and any("--prometheus-url" in n for n in kpis.notes)
    assert kpis.backup_coverage is None and kpis.compliance is None  # no config run recorded


def test_backup_coverage_and_compliance_come_from_the_config_runs(engine, empty_config_workspace):
    now = time.time()
    with empty_config_workspace.update_state() as state:
        state["backup"] = {"devices": {
            "gk-sch1-as1": {"status": "ok", "last_success": now - 3600},
            "gk-kita1-as1": {"status": "timeout", "last_success": now - 5 * 86400},  # too old
            "gk-hot1-ap1": {"status": "auth_failed"},  # never succeeded
            "gk-popn-cr1": {"status": "ok", "last_success": now - 60},
        }}
        state["audit"] = {"rules": {
            "ssh-only-vty": {"severity": "high", "compliant": 7, "noncompliant": 1},
            "login-banner": {"severity": "low", "compliant": 5, "noncompliant": 3},
        }}
        state["audit_intended"] = {"rules": {"ssh-only-vty": {"severity": "high", "compliant": 0, "noncompliant": 9}}}
    kpis = _mini_report(engine).kpis
    assert (kpis.backup_coverage.part, kpis.backup_coverage.total) == (2, 10)  # 10 active devices in the town
    assert (kpis.compliance.part, kpis.compliance.total) == (12, 16)  # intended configs do not count
    assert not any("config" in note for note in kpis.notes)


def test_sites_carry_devices_and_links_for_the_click_panel(engine):
    report = _mini_report(engine)
    school = next(s for s in report.sites if s.code == "SCH-1")
    assert [d.name for d in school.devices] == ["gk-sch1-as1"]
    assert sorted((u.peer_site, tuple(u.cables)) for u in school.uplinks) == [
        ("POP-N", ("cab-sch1-n",)), ("POP-S", ("cab-sch1-s",)),
    ]
    assert school.redundant is True
    assert school.paths_to_core == [
        ["gk-sch1-as1 (SCH-1)", "gk-popn-ds1 (POP-N)"], ["gk-sch1-as1 (SCH-1)", "gk-pops-ds1 (POP-S)"],
    ]
    hot2 = next(s for s in report.sites if s.code == "HOT-2")
    assert hot2.paths_to_core == [["gk-hot2-ap1 (HOT-2)", "gk-hot1-ap1 (HOT-1)", "gk-pops-ds1 (POP-S)"]]
    kita2 = next(s for s in report.sites if s.code == "KITA-2")
    assert kita2.planned and not kita2.connected
    assert [t.code for t in report.trenches if t.planned] == ["seg-9-planned"]
    status = {t.code: t.status for t in report.trenches if t.status != "ok"}
    # seg-1 is full too, but cutting it takes KITA-1 down: the worse status shows; seg-4 and
    # cab-hot1 cut off only the two hotspots (one uplink by design): a spur, not an alarm
    assert status == {"seg-1": "spof", "seg-2": "spof", "seg-4": "spur", "seg-5": "shared", "seg-6": "full"}
    cables = {c.code: c.status for c in report.cables}
    assert cables == {"cab-backbone": "ok", "cab-bp1-n": "ok", "cab-bp1-s": "ok", "cab-hot1": "spur",
                      "cab-kita1": "spof", "cab-sch1-n": "ok", "cab-sch1-s": "ok"}
    by_design = {f.kind: f.sites for f in report.findings if f.by_design}
    assert by_design and all(set(sites) <= {"HOT-1", "HOT-2"} for sites in by_design.values())
    assert not any(f.by_design for f in report.findings if "KITA-1" in f.sites)
    kita1_cable = next(c for c in report.cables if c.code == "cab-kita1")
    assert [report.trenches[i].code for i in kita1_cable.segments] == ["seg-1", "seg-2"]
    kita1 = next(s for s in report.sites if s.code == "KITA-1")
    assert [report.findings[i].kind for i in kita1.findings] == ["spof"]
    bp1 = next(s for s in report.sites if s.code == "BP-1")
    assert "shared_trench" in {report.findings[i].kind for i in bp1.findings} and bp1.redundant is False
    districts = {d.district: d for d in report.districts}
    assert districts["Buer"].by_kind["kindergarten"].part == 1 and districts["Altstadt"].hotspots == 2


def test_html_is_one_self_contained_file(engine, tmp_path):
    out = tmp_path / "report.html"
    _mini_report(engine, out)
    html = out.read_text("utf-8")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html, re.I)  # nothing fetched
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert not re.search(r"url\(\s*['\"]?images/", html)  # Leaflet's own icons inlined too
    data = json.loads(re.search(r'<script type="application/json" id="netops-data">(.*?)</script>', html, re.S)[1])
    assert {s["code"] for s in data["sites"]} >= {"POP-N", "SCH-1", "HOT-2", "KITA-2"}
    assert "Kita Sonnenschein" in html and "48,250" in html  # plan table rendered server-side
    # the orientation layer: all 18 Stadtteile and 5 Stadtbezirke, the 2 towns and their 8 PLZ
    # areas, said to be approximate
    levels = [a["level"] for a in data["areas"]]
    assert [levels.count(level) for level in ("stadtteil", "stadtbezirk", "plz_area", "town")] == [18, 5, 8, 2]
    assert {a["label"] for a in data["areas"] if a["level"] == "plz_area"} == {
        "45964", "45966", "45968", "46236", "46238", "46240", "46242", "46244"}
    assert all(a["approximate"] for a in data["areas"]) and "approximate" in (ROOT / "report/static/report.js").read_text()


def test_findings_section_is_grouped_ranked_and_shortened(engine):
    report = _mini_report(engine)
    kinds = {s.code: s.kind for s in report.sites}
    hotspots = [f"hot-{n:02d}" for n in range(12)]
    kinds.update({code: "hotspot" for code in hotspots})
    report.sites += [replace(report.sites[0], code=code, kind="hotspot") for code in hotspots]
    report.findings = [
        FindingView("warning", "capacity", "trench full: seg-6", ["BP-1"], ["seg-6"], weight=3),
        FindingView("critical", "spof", "single point of failure: pop-s-ds1", hotspots + ["KITA-1", "SCH-1"], [],
                    weight=29),
        FindingView("warning", "spof", "single point of failure: seg-1", ["KITA-1"], ["seg-1"], weight=4),
        FindingView("warning", "spof", "single point of failure: seg-2", ["SCH-1"], ["seg-2"], weight=5),
        FindingView("info", "spof", "single point of failure: seg-4", ["HOT-1"], ["seg-4"], weight=1, by_design=True),
    ]
    html = render_html(report)
    findings = html[html.index('<section id="findings">'):]
    order = re.findall(r'<details class="(findings-[\w-]+|audit-group audit-\w+)"', findings)
    assert order == ["findings-critical", "audit-group audit-spof", "findings-warning", "audit-group audit-spof",
                     "audit-group audit-capacity", "findings-by-design"]
    warnings = findings[findings.index("findings-warning"):]
    assert warnings.index("seg-2") < warnings.index("seg-1") < warnings.index("seg-6")  # by weight
    # the school and the Kita before the hotspots; 6 shown, the other 8 folded
    critical = findings[:findings.index("findings-warning")]
    shown = re.findall(r'<span class="id">([\w-]+)</span>', critical.split('<details class="more">')[0])
    assert shown[-6:] == ["SCH-1", "KITA-1", "hot-00", "hot-01", "hot-02", "hot-03"]
    assert "<summary>+8 more</summary>" in critical
    # where: the areas of its sites, the one with most of them first
    area = {s.code: s.district for s in report.sites}
    others = sorted({area["KITA-1"], area["SCH-1"]} - {area["hot-00"]})
    assert re.search(r'<td data-label="where">([^<]*)</td>', critical)[1] == ", ".join([area["hot-00"], *others])
    # an audit group shows its ten heaviest findings, the rest folded
    report.findings += [FindingView("warning", "capacity", f"trench full: seg-x{n:02d}", ["BP-1"], [], weight=n / 10)
                        for n in range(12)]
    capacity = render_html(report).split('<details class="audit-group audit-capacity">')[1].split("</details></details>")[0]
    shown, folded = capacity.split('<details class="more-findings">')
    assert shown.count("<tr>") == 10 + 1 and "trench full: <span" in shown  # a header row, then 10
    assert "<summary>+3 more, lighter</summary>" in folded and folded.count("<tr>") == 3 + 1
    assert re.findall(r"seg-x\d+", shown)[-1] == "seg-x03"  # by weight: x11 .. x03 shown, x02 .. x00 folded
    counts = re.search(r"<td data-label=\"audit\">spof</td>(.*?)</tr>", findings)[1]
    assert re.findall(r">(\d*)</td>", counts) == ["1", "2", "", "1"]  # critical, warning, info, by design


def _town_report(engine, out: Path | None = None):
    """The mini city with the customers of tests/support/mini_pon.py (three buildings, three
    companies, a PON with 32 homes passed, 20 connected)."""
    from inventory.store import SourceRow, write
    from tests.inventory.conftest import MINI_EXTRAS

    with session_scope(engine) as session:
        build_mini_city(session)
        write(session, [(kind, [SourceRow(dict(r)) for r in rows]) for kind, rows in MINI_EXTRAS.items()])
    with session_scope(engine) as session:
        return write_report(session, out) if out else build_report(session)


def test_customer_kpis_count_companies_homes_and_take_up_by_district(engine):
    report = _town_report(engine)
    city = report.kpis.customers
    assert (city.companies, city.business_lines, city.units_passed, city.units_connected) == (3, 3, 32, 20)
    assert city.take_up.ratio == 0.625
    assert report.kpis.lines_by_service_class == {"best_effort": 1, "business": 1, "sla_gold": 1}
    served = {d.district: d.customers for d in report.districts}
    # Buer: B-1 (ONT-1 12 connected, ONT-2 12 passed), B-2 (ONT-3 8 connected, the bakery);
    # Altstadt: the Stadtwerke (building B-3) and the logistics firm at the business park BP-1
    assert (served["Buer"].companies, served["Buer"].units_passed, served["Buer"].units_connected) == (1, 32, 20)
    assert (served["Altstadt"].companies, served["Altstadt"].units_passed, served["Altstadt"].take_up.ratio) == \
        (2, 0, None)
    assert sum(d.customers.business_lines for d in report.districts if d.customers) == 3
    # one map marker per Stadtteil, at its customers' mean position; the buildings for zoomed-in views
    areas = {a.district: a for a in report.customer_areas}
    assert set(areas) == {"Buer", "Altstadt"}
    assert areas["Buer"].lat == pytest.approx((51.551 + 51.552) / 2)
    assert areas["Altstadt"].lon == pytest.approx((7.101 + 7.110) / 2)  # building B-3 and site BP-1
    assert [(b.code, b.counts.units_passed, b.counts.companies) for b in report.customer_buildings] == [
        ("B-1", 24, 0), ("B-2", 8, 1), ("B-3", 0, 1)]
    html = render_html(report)
    assert "companies connected" in html and "20 / 32 (62.5 %)" in html


def test_customer_totals_are_the_inventory_stats_and_the_split_by_area_adds_up_to_them(engine):
    from inventory.models import Building, BusinessConnection, ResidentialConnection
    from inventory.stats import customers

    _town_report(engine)
    with session_scope(engine) as session:
        ont = session.exec(select(ResidentialConnection).where(ResidentialConnection.code == "ONT-1")).one()
        ont.status = "decommissioned"
        line = session.exec(select(BusinessConnection).where(BusinessConnection.code == "BC-2")).one()
        line.status = "planned"
        # a building the data gives no Stadtteil counts under its town (as in Gladbeck and Bottrop)
        session.exec(select(Building).where(Building.code == "B-2")).one().district = None
    with session_scope(engine) as session:
        report, stats = build_report(session), customers(session.connection())
    city = report.kpis.customers
    assert (city.companies, city.business_lines, city.units_passed, city.units_connected) == (
        stats["companies"], stats["business_connections"], stats["residential_units_passed"],
        stats["residential_units_connected"]) == (2, 2, 20, 8)
    assert report.kpis.lines_by_service_class == stats["business_connections_by_service_class"]
    split = {d.district: d.customers for d in report.districts if d.customers}
    assert set(split) == {"Buer", "Gelsenkirchen", "Altstadt"}  # B-2's ONT-3 and bakery: the town
    for total, part in ((city.business_lines, "business_lines"), (city.units_passed, "units_passed"),
                        (city.units_connected, "units_connected")):
        assert sum(getattr(c, part) for c in split.values()) == total, part
    assert sum(c.companies for c in split.values()) >= city.companies  # a company may be in two areas
    summary = report.summary()
    assert summary["kpis"]["customers"]["take_up"] == {"part": 8, "total": 20, "ratio": 0.4}
    by_district = {d["district"]: d["customers"] for d in summary["districts"]}
    assert by_district["Altstadt"]["business_lines"] == 1  # the Stadtwerke; the logistics line is planned


def test_a_network_without_customers_reports_none(engine):
    report = _mini_report(engine)
    assert report.kpis.customers.business_lines == 0 and report.kpis.customers.take_up.ratio is None
    assert report.customer_areas == [] and all(d.customers is None for d in report.districts)
    assert "companies connected" in render_html(report)  # 0 companies, shown as such


def test_cli_writes_report_and_prints_the_same_numbers_as_json(engine, tmp_path):
    _mini_report(engine)
    out = tmp_path / "cli" / "report.html"
    am = tmp_path / "cli" / "alertmanager.yml"
    result = CliRunner().invoke(app, ["--db", str(engine.url), "report", "--out", str(out), "--json",
                                      "--alertmanager-config", str(am),
                                      "--alertmanager-base", str(ROOT / "deploy/alertmanager/alertmanager.yml")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["pop_inhibit_rules"] == 2 and 'site=~"KITA-1"' in am.read_text()
    assert summary["kpis"]["connected"]["kindergarten"] == {"part": 1, "total": 2, "ratio": 0.5}
    assert summary["kpis"]["planned_cost_eur"] == 60250.0
    assert Path(summary["html"]) == out.resolve() and out.stat().st_size > 100_000


def test_cli_rejects_a_missing_alertmanager_base(engine, tmp_path):
    result = CliRunner().invoke(app, ["--db", str(engine.url), "report", "--out", str(tmp_path / "r.html"),
                                      "--alertmanager-config", str(tmp_path / "am.yml"),
                                      "--alertmanager-base", str(tmp_path / "nope.yml")])
    assert result.exit_code == 2 and "nope.yml" in result.output


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path):
    if chromium_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium missing in CI: `make test` should have installed it")
        pytest.skip("chromium not installed (run `make test`)")
    from netops import db as dbmod

    engine = dbmod.make_engine(f"sqlite:///{tmp_path / 'netops.db'}")
    dbmod.upgrade(engine)
    out = tmp_path / "report.html"
    report = _mini_report(engine, out)

    with Browser(tmp_path / "profile") as browser:
        browser.open(out.as_uri(), "document.body.dataset.status === 'ready'")
        assert browser.evaluate("document.body.dataset.sitesDrawn") == str(len(report.sites))
        # at city zoom the two hotspots 20 m apart are one cluster marker showing "2"
        assert _hotspot_clusters(browser) == [2]
        assert browser.evaluate("document.querySelectorAll('#map path.site').length") == len(report.sites) - 2
        check_layout(browser, tmp_path / "desktop.png", phone=False)
        # clicking the cluster zooms in until its hotspots stand apart; then Leaflet's SVG
        # renderer draws one <path class="site ..."> per site, one per trench
        browser.evaluate(
            "document.querySelector('#map .hotspot-cluster').dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        # (the clusters are redrawn on "zoomend", an animation frame after the zoom settles)
        _wait_for(browser, "document.querySelectorAll('#map .hotspot-cluster').length === 0")
        assert browser.evaluate("netopsMap.getZoom()") == 17
        assert browser.evaluate("document.querySelectorAll('#map path.site').length") == len(report.sites)
        assert browser.evaluate("document.querySelectorAll('#map path.trench').length") == len(report.trenches)
        # planned connections are an overlay of their own, drawn dashed
        assert browser.evaluate(
            "Array.from(document.querySelectorAll('#map path.trench')).filter(p => p.getAttribute('stroke-dasharray')).length"
        ) == 1
        assert browser.evaluate("document.querySelectorAll('#map path.site-planned').length") == 1
        # cables are an overlay the reader switches on
        assert browser.evaluate("document.querySelectorAll('#map path.cable').length") == 0
        browser.evaluate(
            "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
            ".filter(l => l.textContent.includes('cable: single point of failure'))[0].querySelector('input').click()"
        )
        assert browser.evaluate("document.querySelectorAll('#map path.cable-spof').length") == 1
        # the hotspots' spur is drawn thin and grey, the Kita's single point of failure stands out
        for status, count in (("spof", 2), ("spur", 1), ("shared", 1), ("full", 1)):
            assert browser.evaluate(f"document.querySelectorAll('#map path.trench-{status}').length") == count
        # clicking the school opens its panel with its device and both uplinks
        browser.evaluate(
            "document.querySelector('#map path.site-school').dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        panel = browser.evaluate("document.getElementById('site-panel').innerText")
        assert "gk-sch1-as1" in panel and "trench-disjoint redundancy: yes" in panel
        assert "gk-sch1-as1 (SCH-1) → gk-pops-ds1 (POP-S)" in panel  # a path to the core
        browser.evaluate(
            "document.querySelector('#map path.site-business_park').dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        panel = browser.evaluate("document.getElementById('site-panel').innerText")
        assert "redundant links share a trench" in panel and "seg-5" in panel
        browser.emulate_phone()
        browser.open(out.as_uri(), "document.body.dataset.status === 'ready'")
        check_layout(browser, tmp_path / "phone.png", phone=True)
        problems = browser.problems.all()
    assert problems == []
    _keep(tmp_path, "mini-city")


def _wait_for(browser: Browser, expression: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not browser.evaluate(expression):
        assert time.monotonic() < deadline, f"not true after {timeout}s: {expression}"
        time.sleep(0.05)


def _hotspot_clusters(browser) -> list[int]:
    return browser.evaluate(
        "Array.from(document.querySelectorAll('#map .leaflet-hotspot-clusters-pane .hotspot-cluster'))"
        ".map(c => Number(c.textContent))"
    )


def check_layout(browser: Browser, shot: Path, phone: bool) -> None:
    """What a reader sees: the network fills the map, which is drawn in colour; nothing is
    wider than the screen; the layer list is folded (unfolded it hides the network); on a
    phone the site panel sits below the map and the legend is folded, on a desktop the panel
    is beside the map and the legend open. Leaves a screenshot of the page and of the map."""
    assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # elements inside the map are clipped by it; a .table-wrap scrolls its own table
    overflowing = browser.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter(e => !e.closest('#map, .table-wrap'))"
        ".filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > window.innerWidth + 0.5; })"
        ".map(e => e.tagName + '#' + e.id + '.' + e.className)"
    )
    assert overflowing == []
    # fitted to the network: its bounding box spans (nearly) the map's width or height
    fill = browser.evaluate(
        "(() => { const b = L.latLngBounds(JSON.parse(document.getElementById('netops-data').textContent)"
        ".sites.map(s => [s.lat, s.lon])); const m = netopsMap.getSize();"
        " const nw = netopsMap.latLngToContainerPoint(b.getNorthWest()), se = netopsMap.latLngToContainerPoint(b.getSouthEast());"
        " return Math.max((se.x - nw.x) / m.x, (se.y - nw.y) / m.y); })()"
    )
    assert 0.75 <= fill <= 1.0
    rect = "JSON.parse(JSON.stringify(document.querySelector('{}').getBoundingClientRect()))"
    map_box, panel_box = (browser.evaluate(rect.format(s)) for s in ("#map", "#site-panel"))
    assert browser.evaluate("!document.querySelector('.leaflet-control-layers-expanded')")
    assert browser.evaluate("document.querySelector('.leaflet-control-layers').getBoundingClientRect().width") < 60
    legend_open = browser.evaluate("document.getElementById('legend').open")
    if phone:
        assert browser.evaluate("window.innerWidth") == 390
        assert map_box["width"] >= 380 and map_box["height"] >= 340
        assert panel_box["top"] >= map_box["bottom"]  # below the map, not squeezing it
        assert not legend_open
        # not even a table scrolls sideways: wide ones become one block per row
        assert browser.evaluate(
            "Array.from(document.querySelectorAll('.table-wrap')).filter(w => w.scrollWidth > w.clientWidth + 1).length"
        ) == 0
    else:
        assert panel_box["left"] >= map_box["right"] and map_box["width"] >= 900
        assert legend_open
    browser.screenshot(shot)
    map_shot = browser.element_screenshot(shot.with_name(shot.stem + "-map.png"), "#map")
    colours, drawn = colour_census(map_shot, background=(247, 246, 242))
    assert colours >= 12 and drawn >= 0.05, (colours, drawn)


def check_city_zoom(browser: Browser, report) -> None:
    """The whole network on screen (Gladbeck and Bottrop included) still reads: the ~1,750
    customer buildings are one marker per Stadtteil or town, the towns have outlines and
    names, and lines are drawn thinner, a one-site spur thinner than a cut taking many down."""
    assert browser.evaluate("netopsMap.getZoom()") < 15  # the customer layer's building zoom
    areas = len(report.customer_areas)
    assert 0 < areas < len(report.customer_buildings) / 20
    assert browser.evaluate("document.body.dataset.customerMarkers") == str(areas)
    assert browser.evaluate("document.querySelectorAll('#map path.customer-area').length") == areas
    towns = browser.evaluate("Array.from(document.querySelectorAll('#map .area-label-town')).map(e => e.textContent)")
    assert sorted(towns) == ["Bottrop", "Gladbeck"]
    assert browser.evaluate("document.querySelectorAll('#map path.area-town').length") == 2
    widths = browser.evaluate("Array.from(document.querySelectorAll('#map path.trench-spof'))"
                              ".map(p => Number(p.getAttribute('stroke-width')))")
    full = 5  # report.js TRENCH_STYLES.spof at zoom 14 and closer
    assert widths and max(widths) < full and min(widths) < max(widths)
    cuts = [t.cuts for t in report.trenches if t.status == "spof"]
    assert min(cuts) < max(cuts)  # what the grading draws (report.js trenchWeight)


def _keep(tmp_path: Path, name: str) -> None:
    """Screenshots to look at after a run: out/test-artifacts/report-NAME-*.png."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for shot in tmp_path.glob("*.png"):
        (ARTEFACTS / f"report-{name}-{shot.name}").write_bytes(shot.read_bytes())


@pytest.fixture(scope="module")
def gelsenkirchen(tmp_path_factory):
    """The seeded city in a SQLite file (one per module: seeding takes seconds)."""
    from inventory.seed import generate, seed
    from netops import db as dbmod

    engine = dbmod.make_engine(f"sqlite:///{tmp_path_factory.mktemp('gk') / 'netops.db'}")
    dbmod.upgrade(engine)
    city = generate()
    with session_scope(engine) as session:
        seed(session, city)
    yield engine, city.manifest
    engine.dispose()


@pytest.mark.slow
def test_city_report_finds_the_planted_weaknesses(gelsenkirchen):
    engine, manifest = gelsenkirchen
    with session_scope(engine) as session:
        report = build_report(session)
    sites = {s.code: s for s in report.sites}
    assert all(sites[code].redundant for code in manifest["redundant"])
    assert not any(sites[code].redundant for code in manifest["shared_trench"] + manifest["single_homed"])
    assert report.kpis.hotspots_radio == len(manifest["radio_hotspots"])
    status = {t.code: t.status for t in report.trenches}
    assert {status[code] for code in manifest["spur"]["segments"]} == {"spof"}
    assert "ok" not in {status[code] for code in manifest["full_ducts"]}
    shared_sites = {code for f in report.findings if f.kind == "shared_trench" for code in f.sites}
    assert set(manifest["shared_trench"]) <= shared_sites


@pytest.mark.slow
def test_city_report_renders_every_seeded_site_in_headless_chromium(gelsenkirchen, tmp_path):
    if chromium_binary() is None:
        pytest.skip("chromium not installed (run `make test`)")
    engine, _ = gelsenkirchen
    out = tmp_path / "report.html"
    with session_scope(engine) as session:
        report = write_report(session, out)
        with_coordinates = [s for s in session.exec(select(Site)) if s.lat is not None and s.status != "decommissioned"]
    assert len(report.sites) == len(with_coordinates) > 400
    hotspots = sum(s.kind == "hotspot" and not s.planned for s in report.sites)
    with Browser(tmp_path / "profile") as browser:
        browser.open(out.as_uri(), "document.body.dataset.status === 'ready'")
        # at city zoom the 200+ hotspots are a handful of counted clusters, drawn below the sites
        clusters = _hotspot_clusters(browser)
        singles = browser.evaluate("document.querySelectorAll('#map path.site-hotspot:not(.site-planned)').length")
        assert len(clusters) + singles < hotspots / 4 and sum(clusters) + singles == hotspots
        assert browser.evaluate("document.querySelectorAll('#map path.site').length") + sum(clusters) == len(report.sites)
        assert browser.evaluate("document.querySelectorAll('#map path.trench').length") == len(report.trenches)
        # most single points of failure are hotspot spurs: drawn grey, so the real ones stand out
        statuses = [t.status for t in report.trenches]
        assert statuses.count("spur") > statuses.count("spof") > 0
        assert browser.evaluate("getComputedStyle(document.querySelector('#map path.trench-spur')).stroke") == \
            "rgb(158, 158, 158)"
        check_layout(browser, tmp_path / "desktop.png", phone=False)
        check_city_zoom(browser, report)
        browser.evaluate(
            "document.querySelector('#map path.site-hospital').dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        assert "Paths to the core" in browser.evaluate("document.getElementById('site-panel').innerText")
        # the findings section: worst first, site lists shortened
        assert browser.evaluate("document.querySelector('#findings details').className") == "findings-critical"
        assert browser.evaluate("document.querySelectorAll('#findings details.more').length") > 0
        browser.emulate_phone()
        browser.open(out.as_uri(), "document.body.dataset.status === 'ready'")
        check_layout(browser, tmp_path / "phone.png", phone=True)
        check_city_zoom(browser, report)
        browser.screenshot(tmp_path / "phone-page.png", full_page=True)
        problems = browser.problems.all()
    assert problems == []
    _keep(tmp_path, "gelsenkirchen")


@pytest.mark.slow
def test_customer_layer_aggregates_at_city_zoom_and_shows_buildings_zoomed_in(engine, tmp_path):
    if chromium_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium missing in CI: `make test` should have installed it")
        pytest.skip("chromium not installed (run `make test`)")
    out = tmp_path / "town.html"
    report = _town_report(engine, out)
    with Browser(tmp_path / "profile") as browser:
        browser.open(out.as_uri(), "document.body.dataset.status === 'ready'")
        assert browser.evaluate("document.body.dataset.customerMarkers") == str(len(report.customer_areas)) == "2"
        assert browser.evaluate("document.querySelectorAll('#map path.customer-area').length") == 2
        browser.evaluate("void netopsMap.setView([51.5515, 7.082], 16, {animate: false})")
        _wait_for(browser, "document.body.dataset.customerMarkers === '3'")
        assert browser.evaluate("document.querySelectorAll('#map path.customer-area').length") == 0
        legend = browser.evaluate("document.getElementById('legend').innerText")
        assert "customers of a Stadtteil" in legend
        problems = browser.problems.all()
    assert problems == []
