"""`netops report` on a bad day: each case gives a readable report or one line and the
documented exit code (README "Exit codes"), never a traceback. (Every hotspot not polled:
tests/test_report_prometheus.py, with a real Prometheus.)"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from typer.testing import CliRunner

from cli import app
from configs.state import WORKSPACE_ENV
from netops import db as dbmod
from netops.db import session_scope
from report import build_report
from tests.support.mini_city import build_mini_city


@pytest.fixture(autouse=True)
def config_workspace(tmp_path, monkeypatch):
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "configs"))
    return tmp_path / "configs"


def _database(path, city: bool = True) -> str:
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    if city:
        with session_scope(engine) as session:
            build_mini_city(session)
    engine.dispose()
    return str(path)


def _report(db: str, tmp_path, *args):
    return CliRunner().invoke(app, ["--db", db, "report", "--out", str(tmp_path / "report.html"), *args])


def _one_line(result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_an_empty_database_is_a_report_of_nothing_not_of_zero_percent(tmp_path):
    db = _database(tmp_path / "empty.db", city=False)
    result = _report(db, tmp_path, "--json")
    assert result.exit_code == 0, result.output
    kpis = json.loads(result.stdout)["kpis"]
    # no school at all is unknown, not "0 % of schools connected"
    assert kpis["connected"]["school"] == {"part": 0, "total": 0, "ratio": None}
    page = (tmp_path / "report.html").read_text()
    assert "</html>" in page and "Traceback" not in page


def test_no_database_is_one_line_and_exit_4(tmp_path):
    line = _one_line(_report(str(tmp_path / "none.db"), tmp_path), 4)
    assert "netops db upgrade" in line and not (tmp_path / "report.html").exists()


def test_a_device_at_a_site_no_row_holds_and_sites_without_coordinates(tmp_path):
    """Rows written around the schema (SQLite enforces foreign keys only when asked): the
    report is written, the findings name what is wrong, the map leaves out what has no place."""
    db = _database(tmp_path / "city.db")
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE device SET site_id = 99 WHERE name = 'gk-sch1-as1'")
        raw.execute("UPDATE site SET lat = NULL, lon = NULL WHERE code IN ('POP-N', 'HOT-1')")
    result = _report(db, tmp_path)
    assert result.exit_code == 0, result.output
    engine = dbmod.make_engine(f"sqlite:///{db}")
    with session_scope(engine) as session:
        report = build_report(session)
    engine.dispose()
    findings = [f.message for f in report.findings]
    assert {s.code for s in report.sites}.isdisjoint({"POP-N", "HOT-1"})  # on the map: only what has a place
    assert "device is in service at a site the inventory does not hold (site id 99): gk-sch1-as1" in findings
    assert {"site has no coordinates: POP-N", "site has no coordinates: HOT-1"} <= set(findings)


@pytest.mark.parametrize("state, field", [
    ("{\"backup\": {\"devices\": ", "(file)"),
    ("[]", "(file)"),
    ("{\"backup\": {\"devices\": {\"sw1\": {\"last_success\": \"yesterday\"}}}}", "backup.devices.sw1.last_success"),
    ("{\"audit\": {\"rules\": {\"r\": {\"compliant\": 7, \"noncompliant\": 1}}}}", "audit.rules.r.severity"),
])
def test_a_damaged_state_file_is_one_line_naming_it_and_exit_2(tmp_path, config_workspace, state, field):
    db = _database(tmp_path / "city.db")
    config_workspace.mkdir(parents=True)
    (config_workspace / "state.json").write_text(state)
    line = _one_line(_report(db, tmp_path), 2)
    assert str(config_workspace / "state.json") in line and f"field '{field}'" in line


def test_prometheus_away_writes_the_report_without_its_figures_and_exit_3(tmp_path):
    """README: exit 3 for `report --prometheus-url`, "the report is written without those
    figures"; it was not written at all."""
    from tests.support.procs import free_port

    db = _database(tmp_path / "city.db")
    result = _report(db, tmp_path, "--json", "--prometheus-url", f"http://127.0.0.1:{free_port()}")
    line = _one_line(result, 3)
    assert line.startswith("error: Prometheus at http://127.0.0.1:")
    kpis = json.loads(result.stdout)["kpis"]
    assert kpis["hotspot_availability"] is None and any(n.startswith("hotspot availability unknown: ")
                                                        for n in kpis["notes"])
    assert "hotspot availability unknown" in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize("url", ["prometheus:9090", "ftp://prometheus", "http://[::1", "http://prometheus:99999",
                                 "http://127.0.0.1:9/?db=1", "http://127.0.0.1:9/prometheus#graph"])
def test_a_prometheus_url_that_is_no_http_url_is_usage_exit_2(tmp_path, url):
    line = _one_line(_report(_database(tmp_path / "city.db"), tmp_path, "--prometheus-url", url), 2)
    assert "--prometheus-url" in line and not (tmp_path / "report.html").exists()


@pytest.fixture
def answering(request):
    """A real HTTP server on loopback that answers every query with ``request.param`` (JSON):
    a service at --prometheus-url that is no Prometheus, or a proxy in front of one."""
    import http.server
    import threading

    body = request.param.encode()

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("answering", [
    "[]",
    '{"status": "success"}',
    '{"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "1"]]}]}}',
    '{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}}]}}',
    '{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "up"]}]}}',
], indirect=True)
def test_a_service_answering_json_that_is_no_prometheus_answer_is_exit_3_not_a_traceback(tmp_path, answering):
    """JSON of another shape (a wrong port, a proxy) was a KeyError or AttributeError traceback and
    no report; it is a failed service like an unreachable Prometheus: report written, exit 3."""
    db = _database(tmp_path / "city.db")
    result = _report(db, tmp_path, "--json", "--prometheus-url", answering)
    line = _one_line(result, 3)
    assert line.startswith(f"error: Prometheus at {answering}: query ")
    assert json.loads(result.stdout)["kpis"]["hotspot_availability"] is None
    assert "hotspot availability unknown" in (tmp_path / "report.html").read_text()


@pytest.fixture
def raw_answering():
    """A real TCP server on loopback that answers every connection with bytes that are no HTTP
    (an SSH banner: --prometheus-url pointing at the wrong port)."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
                connection.recv(4096)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()
    thread.join(timeout=5)


def test_a_service_answering_no_http_is_exit_3_not_a_traceback(tmp_path, raw_answering):
    """http.client's BadStatusLine is no OSError: a wrong port answering SSH was a traceback."""
    result = _report(_database(tmp_path / "city.db"), tmp_path, "--json", "--prometheus-url", raw_answering)
    assert _one_line(result, 3).startswith(f"error: Prometheus at {raw_answering}: query ")
    assert json.loads(result.stdout)["kpis"]["hotspot_availability"] is None


@pytest.mark.parametrize("answering", [
    '{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "NaN"]}]}}',
    '{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "+Inf"]}]}}',
], indirect=True)
def test_a_nan_or_infinite_sample_reads_as_no_data(tmp_path, answering):
    """A ratio over no samples is NaN in Prometheus: int(nan) was a traceback, and an availability
    of NaN would have printed as "nan %". No data instead, and the report is written (exit 0)."""
    result = _report(_database(tmp_path / "city.db"), tmp_path, "--json", "--prometheus-url", answering)
    assert result.exit_code == 0, result.output
    kpis = json.loads(result.stdout)["kpis"]
    assert set(kpis["hotspot_availability"].values()) == {None}
    html = (tmp_path / "report.html").read_text()
    assert not re.search(r"(nan|inf)\s*%", html, re.IGNORECASE)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/?token=s3cr3t-t0ken", "http://127.0.0.1:9/#s3cr3t-t0ken"])
def test_a_query_or_fragment_in_the_prometheus_url_is_refused_without_echoing_it(tmp_path, url):
    """A token in the query reached the error line (and so a CI log) in full (final review)."""
    line = _one_line(_report(_database(tmp_path / "city.db"), tmp_path, "--prometheus-url", url), 2)
    assert "--prometheus-url" in line and "s3cr3t" not in line and "'http://127.0.0.1...'" in line


@pytest.mark.parametrize("url", [
    "ftp://prometheus/?token=s3cr3t-t0ken",  # a wrong scheme
    "http://prometheus:99999/?token=s3cr3t-t0ken",  # a port out of range
    "http://admin:s3cr3t-t0ken",  # user:password without @ and host: read as host admin, port s3cr3t-t0ken
    "http://prometheus:s3cr3t-t0ken/",
    "http://[::1/?token=s3cr3t-t0ken",  # a [ left open
    "http://::1:9090/?token=s3cr3t-t0ken",  # an IPv6 address without brackets
    "http:///?token=s3cr3t-t0ken",  # no host
    "admin:s3cr3t-t0ken",  # no scheme
])
def test_a_refused_prometheus_url_shows_no_more_than_its_scheme_and_host(tmp_path, url):
    """Every refusal quoted the whole value (session 12 hid it only for ?query, #fragment and
    user@): a token or password in a URL refused for another reason reached the line."""
    result = _report(_database(tmp_path / "city.db"), tmp_path, "--prometheus-url", url)
    line = _one_line(result, 2)
    assert "--prometheus-url" in line and "s3cr3t" not in result.stdout + result.stderr
    assert not (tmp_path / "report.html").exists()


def test_a_full_width_at_in_the_prometheus_url_is_refused_as_a_user_or_password(tmp_path):
    """urlsplit reads U+FF20 as @ and its own message quoted the netloc (the case once went through
    unicode_escape, which made mojibake of it: U+FF20 was never fed)."""
    result = _report(_database(tmp_path / "city.db"), tmp_path, "--prometheus-url",
                     "http://user:s3cr3t-t0ken\uff20prometheus:9090")
    line = _one_line(result, 2)
    assert "user or password" in line and "s3cr3t" not in result.stdout + result.stderr
    assert not (tmp_path / "report.html").exists()


def test_a_line_break_in_the_prometheus_url_is_dropped_as_urllib_drops_it(tmp_path):
    """urlsplit drops tabs and line breaks, urllib too: the URL is queried, and shown, as urlsplit
    reads it."""
    result = _report(_database(tmp_path / "city.db"), tmp_path, "--prometheus-url", "http://127.0.0.1:9\n/")
    assert _one_line(result, 3).startswith("error: Prometheus at http://127.0.0.1:9: ")


@pytest.mark.parametrize("answering", ['{"status": "success"}'], indirect=True)
@pytest.mark.parametrize("down", [False, True])
def test_a_token_in_the_prometheus_url_s_path_is_in_no_line_note_or_json(tmp_path, answering, down):
    """Some reverse proxies guard Prometheus with a token in the path: the failed query's line,
    the report's note and the JSON showed the whole URL (final review)."""
    from tests.support.procs import free_port

    base = f"http://127.0.0.1:{free_port()}" if down else answering
    result = _report(_database(tmp_path / "city.db"), tmp_path, "--json", "--prometheus-url", f"{base}/s3cr3t-t0ken/")
    assert _one_line(result, 3).startswith(f"error: Prometheus at {base}/…: query ")
    assert "s3cr3t" not in result.output + (tmp_path / "report.html").read_text()
    assert "hotspot availability unknown" in result.stdout


@pytest.mark.parametrize("path", ["/s3cr3t t0ken/", "/s3cr3t\x00t0ken/", "/s3cr3t\x1bt0ken/", "/s3cr3t\u3000t0ken/"])
def test_a_space_or_control_character_in_the_prometheus_url_s_path_is_refused_without_echoing_it(tmp_path, path):
    """http.client refused them at the query, and its message quoted the path (exit 3, token and all)."""
    result = _report(_database(tmp_path / "city.db"), tmp_path, "--prometheus-url", f"http://127.0.0.1:9{path}")
    line = _one_line(result, 2)
    assert "percent-encode" in line and "s3cr3t" not in result.output
    assert not (tmp_path / "report.html").exists()


def test_a_password_in_the_prometheus_url_is_refused_and_echoed_nowhere(tmp_path):
    """urllib sends no credentials from a URL (the query fails), and the URL went into the
    report's note and the error line: the password was published in the report."""
    result = _report(_database(tmp_path / "city.db"), tmp_path, "--prometheus-url",
                     "http://admin:s3cret-pw@127.0.0.1:9/")
    line = _one_line(result, 2)
    assert "user or password" in line and "s3cret-pw" not in result.stdout + result.stderr
    assert not (tmp_path / "report.html").exists()
