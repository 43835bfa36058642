"""Hotspot availability over 7 and 30 days, read from a real Prometheus holding 30 days of
backfilled `up` samples (promtool tsdb create-blocks-from openmetrics)."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request

import pytest

from configs.state import WORKSPACE_ENV
from netops import db as dbmod
from netops.db import session_scope
from report import build_report
from report.prometheus import PrometheusError, scalar_query
from tests.support.mini_city import build_mini_city
from tests.support.procs import free_port, stop_pid, wait_for_tcp
from tests.test_deploy import _tool

STEP_S = 300
DAY_S = 86400


def _series(end: int) -> tuple[str, dict[str, float]]:
    """30 days of `up` every 5 minutes: HOT-1 down for one day 3 days ago, HOT-2 down for
    three days 12 days ago, a school switch down all month (not a hotspot: must not count).
    Returns the OpenMetrics text and the availability each window should report."""
    outages = {"HOT-1": (end - 3 * DAY_S, end - 2 * DAY_S), "HOT-2": (end - 12 * DAY_S, end - 9 * DAY_S)}
    lines = ["# TYPE up gauge"]
    per_window = {"7d": [], "30d": []}
    times = [end - i * STEP_S for i in range(30 * DAY_S // STEP_S)][::-1]
    for site, kind in (("HOT-1", "hotspot"), ("HOT-2", "hotspot"), ("SCH-1", "school")):
        values = []
        for t in times:
            start, stop = outages.get(site, (0, 0))
            value = 0 if kind == "school" or start <= t < stop else 1
            values.append((t, value))
            lines.append(f'up{{job="netops-devices",site="{site}",site_kind="{kind}"}} {value} {t}')
        if kind == "hotspot":
            for window, days in (("7d", 7), ("30d", 30)):
                # the query runs shortly after `end`; outages sit far from the window edges
                inside = [v for t, v in values if t > end - days * DAY_S + STEP_S]
                per_window[window].append(sum(inside) / len(inside))
    expected = {w: sum(v) / len(v) for w, v in per_window.items()}
    return "\n".join(lines) + "\n# EOF\n", expected


@pytest.fixture(scope="module")
def prometheus_with_history(tmp_path_factory):
    """Backfilling writes one block per 2 hours (promtool 2.42): about 30 s, once per module."""
    prometheus, promtool = _tool("prometheus"), _tool("promtool")
    tmp_path = tmp_path_factory.mktemp("prometheus")
    end = int(time.time()) // STEP_S * STEP_S - STEP_S
    text, expected = _series(end)
    (tmp_path / "history.om").write_text(text)
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
        yield url, expected
    finally:
        stop_pid(proc)


@pytest.mark.slow
def test_hotspot_availability_over_7_and_30_days(prometheus_with_history, tmp_path, monkeypatch):
    url, expected = prometheus_with_history
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "configs"))
    engine = dbmod.make_engine(f"sqlite:///{tmp_path / 'netops.db'}")  # the query does not depend on the backend
    dbmod.upgrade(engine)
    with session_scope(engine) as session:
        build_mini_city(session)
    with session_scope(engine) as session:
        kpis = build_report(session, prometheus_url=url).kpis
    availability = kpis.hotspot_availability
    assert kpis.hotspots_in_availability == {"7d": 2, "30d": 2}  # what the availability is of
    # HOT-1 lost one day of the last seven; HOT-2's three-day outage is older than a week
    assert expected["7d"] == pytest.approx((6 / 7 + 1) / 2, abs=2e-3)
    assert availability["7d"] == pytest.approx(expected["7d"], abs=1e-3)
    assert availability["30d"] == pytest.approx(expected["30d"], abs=1e-3)
    assert availability["30d"] == pytest.approx((29 / 30 + 27 / 30) / 2, abs=2e-3)


def test_an_unreachable_prometheus_is_a_service_error():
    port = free_port()  # nothing listens there
    with pytest.raises(PrometheusError) as err:
        scalar_query(f"http://127.0.0.1:{port}", "up")
    assert err.value.exit_code == 3 and str(port) in str(err.value)
