"""Hotspot availability over 7 and 30 days, read from a real Prometheus holding 30 days of
backfilled `up` samples (promtool tsdb create-blocks-from openmetrics)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from configs.state import WORKSPACE_ENV
from netops import db as dbmod
from netops.db import session_scope
from report import build_report, render_html
from report.prometheus import PrometheusError, scalar_query
from tests.support.mini_city import build_mini_city
from tests.support.procs import free_port, stop_pid, wait_for_tcp
from tests.test_deploy import _tool

STEP_S = 300
DAY_S = 86400


def _series(end: int, fresh: int) -> tuple[str, dict[str, float]]:
    """30 days of `up` every 5 minutes: HOT-1 down for one day 3 days ago and renumbered 15
    days ago (two series, one AP), HOT-2 down for three days 12 days ago, HOT-3 not polled
    (no SNMP credentials: neither up nor down), a school switch down all month (not a hotspot:
    must not count); every series has one more sample at ``fresh``, so that "now" sees them.
    Returns the OpenMetrics text and the availability each window should report."""
    outages = {"HOT-1": (end - 3 * DAY_S, end - 2 * DAY_S), "HOT-2": (end - 12 * DAY_S, end - 9 * DAY_S)}
    lines = ["# TYPE up gauge"]
    per_window = {"7d": [], "30d": []}
    times = [end - i * STEP_S for i in range(30 * DAY_S // STEP_S)][::-1]
    for site, kind in (("HOT-1", "hotspot"), ("HOT-2", "hotspot"), ("HOT-3", "hotspot"), ("SCH-1", "school")):
        device = f"gk-{site.lower().replace('-', '')}-ap1"
        values = []
        for t in [*times, fresh]:
            start, stop = outages.get(site, (0, 0))
            value = 0 if kind == "school" or site == "HOT-3" or start <= t < stop else 1
            values.append((t, value))
        credentials = ',snmp_credentials="missing"' if site == "HOT-3" else ""
        for instance in ("10.0.0.1", "10.9.0.1") if site == "HOT-1" else ("10.0.0.2",):
            renumbered = end - 15 * DAY_S
            lines += [f'up{{job="netops-devices",instance="{instance}",device="{device}",site="{site}",'
                      f'site_kind="{kind}"{credentials}}} {value} {t}' for t, value in values
                      if site != "HOT-1" or (t < renumbered) == (instance == "10.0.0.1")]
        if kind == "hotspot" and site != "HOT-3":
            for window, days in (("7d", 7), ("30d", 30)):
                # the query runs shortly after `end`; outages sit far from the window edges
                inside = [v for t, v in values if t > end - days * DAY_S + STEP_S]
                per_window[window].append(sum(inside) / len(inside))
    lines.sort(key=lambda line: line.split(" ")[0])  # OpenMetrics: a series' samples together
    expected = {w: sum(v) / len(v) for w, v in per_window.items()}
    return "\n".join(["# TYPE up gauge", *(line for line in lines if not line.startswith("#"))]) + "\n# EOF\n", expected


@contextmanager
def _prometheus(tmp_path: Path, history: str):
    """A real Prometheus holding ``history`` (OpenMetrics), backfilled with promtool."""
    prometheus, promtool = _tool("prometheus"), _tool("promtool")
    (tmp_path / "history.om").write_text(history)
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "-q", str(tmp_path / "history.om"),
                    str(tmp_path / "data")], check=True, timeout=300)
    (tmp_path / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\n")
    port = free_port()
    proc = subprocess.Popen(
        [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
         "--storage.tsdb.retention.time=90d", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_tcp(port, timeout=60, proc=proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:  # ready once the TSDB (with the backfilled blocks) is open
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        stop_pid(proc)


@pytest.fixture(scope="module")
def prometheus_with_history(tmp_path_factory):
    """Backfilling writes one block per 2 hours (promtool 2.42): about 30 s, once per module."""
    now = int(time.time())
    end = now // STEP_S * STEP_S - STEP_S
    text, expected = _series(end, now - 30)
    with _prometheus(tmp_path_factory.mktemp("prometheus"), text) as url:
        yield url, expected


def _kpis(tmp_path, url: str):
    engine = dbmod.make_engine(f"sqlite:///{tmp_path / 'netops.db'}")  # the query does not depend on the backend
    dbmod.upgrade(engine)
    with session_scope(engine) as session:
        build_mini_city(session)
    with session_scope(engine) as session:
        report = build_report(session, prometheus_url=url)
    engine.dispose()
    return report


@pytest.mark.slow
def test_hotspot_availability_over_7_and_30_days(prometheus_with_history, tmp_path, monkeypatch):
    url, expected = prometheus_with_history
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "configs"))
    kpis = _kpis(tmp_path, url).kpis
    availability = kpis.hotspot_availability
    # what the availability is of: two APs polled (HOT-1's two addresses are one AP; HOT-3 is not polled)
    assert kpis.hotspots_in_availability == {"7d": 2, "30d": 2}
    assert kpis.hotspots_not_polled == 1
    # HOT-1 lost one day of the last seven; HOT-2's three-day outage is older than a week
    assert expected["7d"] == pytest.approx((6 / 7 + 1) / 2, abs=2e-3)
    assert availability["7d"] == pytest.approx(expected["7d"], abs=1e-3)
    assert availability["30d"] == pytest.approx(expected["30d"], abs=1e-3)
    assert availability["30d"] == pytest.approx((29 / 30 + 27 / 30) / 2, abs=2e-3)


@pytest.mark.slow
def test_no_hotspot_polled_reads_as_no_data_not_as_of_0_aps(tmp_path, monkeypatch):
    """A bad day: every hotspot AP not polled (the exporter lost its SNMP secrets). The
    availability has no data and is of no known number of APs (it read "of 0 hotspot APs");
    the not-polled count says why."""
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "configs"))
    now = int(time.time())
    lines = [f'up{{job="netops-devices",device="gk-hot{i}-ap1",site="HOT-{i}",site_kind="hotspot",'
             f'snmp_credentials="missing"}} 0 {t}' for i in (1, 2) for t in range(now - 1800, now, 60)]
    with _prometheus(tmp_path, "# TYPE up gauge\n" + "\n".join(lines) + "\n# EOF\n") as url:
        report = _kpis(tmp_path, url)
    kpis = report.kpis
    assert kpis.hotspot_availability == {"7d": None, "30d": None}
    assert kpis.hotspots_in_availability == {"7d": None, "30d": None}
    assert kpis.hotspots_not_polled == 2
    page = render_html(report)
    assert "of 0 hotspot" not in page and "hotspot availability, last 7d" in page and "no data" in page
    assert "hotspots not polled" in page


@pytest.mark.slow
def test_hotspots_gone_from_prometheus_now_read_not_polled_unknown_not_none(tmp_path, monkeypatch):
    """A bad day: the hotspots' series ended an hour ago (/sd lists none: the exporter's
    inventory emptied). The week's availability has data; how many APs are not polled now is
    unknown, and the KPI table says so (it left the row out, which reads as none)."""
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "configs"))
    end = int(time.time()) - 3600
    lines = [f'up{{job="netops-devices",device="gk-hot1-ap1",site="HOT-1",site_kind="hotspot"}} 1 {t}'
             for t in range(end - DAY_S, end, STEP_S)]
    with _prometheus(tmp_path, "# TYPE up gauge\n" + "\n".join(lines) + "\n# EOF\n") as url:
        report = _kpis(tmp_path, url)
    kpis = report.kpis
    assert kpis.hotspot_availability == {"7d": 1.0, "30d": 1.0} and kpis.hotspots_in_availability == {"7d": 1, "30d": 1}
    assert kpis.hotspots_not_polled is None
    row = render_html(report).split("hotspots not polled")[1].split("</tr>")[0]
    assert "no data" in row


def test_an_unreachable_prometheus_is_a_service_error():
    port = free_port()  # nothing listens there
    with pytest.raises(PrometheusError) as err:
        scalar_query(f"http://127.0.0.1:{port}", "up")
    assert err.value.exit_code == 3 and str(port) in str(err.value)
