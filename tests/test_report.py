"""The city report: KPIs from the inventory, and one offline HTML page that Chromium renders."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from netops.db import session_scope
from report import build_report, write_report
from tests.support.chromium import Browser, chromium_binary
from tests.support.mini_city import build_mini_city

ARTEFACTS = Path(__file__).resolve().parent.parent / "out" / "test-artifacts"


def _mini_report(engine, out: Path | None = None):
    with session_scope(engine) as session:
        build_mini_city(session)
    with session_scope(engine) as session:
        return write_report(session, out) if out else build_report(session)


def test_kpis_count_connected_sites_hotspot_feeds_and_plans(engine):
    kpis = _mini_report(engine).kpis
    shares = {kind: (s.part, s.total) for kind, s in kpis.connected.items()}
    # Kita-2 is planned (no link) and the clinic has a switch but no link: neither is connected
    assert shares == {"school": (1, 1), "kindergarten": (1, 2), "hospital": (0, 1), "business_park": (0, 0)}
    assert kpis.connected["business_park"].ratio is None  # no business parks is not "0 % connected"
    assert (kpis.hotspots_fibre, kpis.hotspots_radio) == (1, 1)  # HOT-2 hangs on radio behind HOT-1
    assert [(p.plan, p.sites, p.cost_eur) for p in kpis.planned_connections] == [
        ("kita-2", ["Kita Sonnenschein"], 48250.0)
    ]
    assert kpis.hotspot_availability is None and any("--prometheus-url" in n for n in kpis.notes)


def test_sites_carry_devices_and_links_for_the_click_panel(engine):
    report = _mini_report(engine)
    school = next(s for s in report.sites if s.code == "SCH-1")
    assert [d.name for d in school.devices] == ["gk-sch1-as1"]
    assert sorted((u.peer_site, tuple(u.cables)) for u in school.uplinks) == [
        ("POP-N", ("cab-sch1-n",)), ("POP-S", ("cab-sch1-s",)),
    ]
    kita2 = next(s for s in report.sites if s.code == "KITA-2")
    assert kita2.planned and not kita2.connected
    full = {t.code for t in report.trenches if t.status == "full"}
    assert full == {"seg-1"}  # 2 of 2 ducts used
    districts = {d.district: d for d in report.districts}
    assert districts["Buer"].by_kind["kindergarten"].part == 1 and districts["Altstadt"].hotspots == 2


def test_html_is_one_self_contained_file(engine, tmp_path):
    out = tmp_path / "report.html"
    _mini_report(engine, out)
    html = out.read_text("utf-8")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html, re.I)  # nothing fetched
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    data = json.loads(re.search(r'<script type="application/json" id="netops-data">(.*?)</script>', html, re.S)[1])
    assert {s["code"] for s in data["sites"]} >= {"POP-N", "SCH-1", "HOT-2", "KITA-2"}
    assert "Kita Sonnenschein" in html and "48,250" in html  # plan table rendered server-side


def test_cli_writes_report_and_prints_the_same_numbers_as_json(engine, tmp_path):
    _mini_report(engine)
    out = tmp_path / "cli" / "report.html"
    result = CliRunner().invoke(app, ["--db", str(engine.url), "report", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["kpis"]["connected"]["kindergarten"] == {"part": 1, "total": 2, "ratio": 0.5}
    assert summary["kpis"]["planned_cost_eur"] == 48250.0
    assert Path(summary["html"]) == out.resolve() and out.stat().st_size > 100_000


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
        # Leaflet's SVG renderer draws one <path class="site ..."> per site, one per trench
        assert browser.evaluate("document.querySelectorAll('#map path.site').length") == len(report.sites)
        assert browser.evaluate("document.querySelectorAll('#map path.trench').length") == len(report.trenches)
        assert browser.evaluate("document.querySelectorAll('#map path.trench-full').length") == 1
        # clicking the school opens its panel with its device and both uplinks
        browser.evaluate(
            "document.querySelector('#map path.site-school').dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        panel = browser.evaluate("document.getElementById('site-panel').innerText")
        assert "gk-sch1-as1" in panel and "POP-N" in panel and "POP-S" in panel
        shot = browser.screenshot(tmp_path / "report.png")
        problems = browser.problems.all()
    assert problems == []
    assert shot.stat().st_size > 20_000
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "report-mini-city.png").write_bytes(shot.read_bytes())
