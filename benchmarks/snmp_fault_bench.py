#!/usr/bin/env python3
"""Fault benchmark: half the targets dead, netops vs prometheus-snmp-exporter in one run.

The same throw-away namespace and agents as ``snmp_bench.py`` (53-interface fake switch,
real snmpd on loopback ports). Of the targets scraped at once, half are live agents and
half are dead: closed UDP ports (the kernel answers ICMP port-unreachable) and black
holes (loopback ports bound by a socket of this script that never reads: requests
vanish, nothing comes back). Every scrape carries a 10 s Prometheus timeout.

Per exporter and round: live targets answered completely (HTTP 200, every interface's
ifHCInOctets sample), what the dead ones got, and the latency of ``/-/healthy`` asked
every 20 ms throughout (max, p99), and for a second before the scrapes start ("idle": what
the shared machine's load alone costs a health check). Round 1 meets the dead targets for the first time;
round 2 repeats the scrapes (netops then knows them dead). One live-only round comes
first, untimed (netops' label cache is then warm, as in a Prometheus scrape loop).

    .venv/bin/python benchmarks/snmp_fault_bench.py -n 100 --closed 50 --black-holes 50
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import snmp_bench as sb  # noqa: E402 - the agents, namespace and process helpers

NETOPS_FULL = b"if_in_bytes_total{"
ANCHOR_FULL = b"ifHCInOctets{"


#: asks /-/healthy every 20 ms over one keep-alive connection until SIGINT, then prints the
#: latencies: a process of its own, so the benchmark's busy client loop does not add to them
HEALTH_PROBE = """
import http.client, json, signal, sys, time
stop = []
signal.signal(signal.SIGINT, lambda *_: stop.append(1))
conn = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=30)
latencies, codes, at = [], {}, []
while not stop:
    at.append(time.time())
    t0 = time.perf_counter()
    try:
        conn.request("GET", "/-/healthy")
        response = conn.getresponse()
        response.read()
        code = str(response.status)
    except Exception as exc:
        code = type(exc).__name__
        conn.close()
    latencies.append(time.perf_counter() - t0)
    codes[code] = codes.get(code, 0) + 1
    time.sleep(0.02)
print(json.dumps(dict(latencies=latencies, codes=codes, at=at)))
"""


async def fault_round(base: str, path: str, live: list[str], dead: list[str], timeout_s: float,
                      marker: bytes, full: int) -> dict:
    """Every target at once (dead ones first), /-/healthy asked every 20 ms meanwhile."""
    import aiohttp

    headers = {"X-Prometheus-Scrape-Timeout-Seconds": str(timeout_s)}
    targets = dead + live
    connector = aiohttp.TCPConnector(limit=0)
    answers: dict[str, tuple] = {}
    host, port = base.removeprefix("http://").split(":")
    prober = subprocess.Popen([sys.executable, "-c", HEALTH_PROBE, host, port], stdout=subprocess.PIPE)
    await asyncio.sleep(1.2)  # the prober's interpreter is up, then a second of checks of the idle exporter
    scrapes_from = time.time()
    async with aiohttp.ClientSession(connector=connector, headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=timeout_s + 5)) as session:
        async def one(target):
            answers[target] = await sb.fetch(session, f"{base}{path.format(target=target)}")

        w0 = time.perf_counter()
        await asyncio.gather(*(one(t) for t in targets))
        wall = time.perf_counter() - w0
    prober.send_signal(signal.SIGINT)
    probed = json.loads(prober.communicate(timeout=30)[0])
    health_codes = probed["codes"]
    # the first 0.2 s are the prober's start; then the idle exporter: what the machine's load alone costs
    idle = sorted(x for x, t in zip(probed["latencies"], probed["at"]) if probed["at"][0] + 0.2 <= t < scrapes_from)
    health = sorted(x for x, t in zip(probed["latencies"], probed["at"]) if t >= scrapes_from)
    complete = sum(1 for t in live if answers[t][0] == 200 and answers[t][1].count(marker) == full)
    dead_outcomes: dict[str, int] = {}
    for t in dead:
        code, body, _ = answers[t]
        reason = re.search(rb'reason="?([a-z_]+)', body)  # netops: a module's reason, or the 503 line's
        outcome = f"{code} {reason[1].decode()}" if reason else str(code)
        dead_outcomes[outcome] = dead_outcomes.get(outcome, 0) + 1
    return dict(live=len(live), live_complete=complete, live_complete_pct=round(100 * complete / len(live), 1),
                dead=len(dead), dead_outcomes=dead_outcomes, wall_s=round(wall, 2),
                dead_p50_s=round(statistics.median(answers[t][2] for t in dead), 2) if dead else None,
                live_p95_s=round(sorted(answers[t][2] for t in live)[int(0.95 * (len(live) - 1))], 2),
                health_n=len(health), health_codes=health_codes,
                health_max_ms=round(1000 * health[-1], 1) if health else None,
                health_p99_ms=round(1000 * health[int(0.99 * (len(health) - 1))], 1) if health else None,
                idle_health_max_ms=round(1000 * idle[-1], 1) if idle else None,
                idle_health_p50_ms=round(1000 * statistics.median(idle), 1) if idle else None)


def full_count(base: str, path: str, target: str, marker: bytes) -> int:
    import urllib.request

    with urllib.request.urlopen(f"{base}{path.format(target=target)}", timeout=30) as response:
        return response.read().count(marker)


def measure(name, base, path, pid, live, dead, marker, args) -> list[dict]:
    full = full_count(base, path, live[0], marker)
    asyncio.run(fault_round(base, path, live, [], args.scrape_timeout, marker, full))  # warm-up, live only
    rows = []
    for r in range(1, args.rounds + 1):
        cpu = sb.cpu_seconds(pid)
        row = dict(exporter=name, round=r, full_samples=full,
                   **asyncio.run(fault_round(base, path, live, dead, args.scrape_timeout, marker, full)),
                   exporter_cpu_s=round(sb.cpu_seconds(pid) - cpu, 2), load_avg=os.getloadavg()[0])
        sb.log(json.dumps(row))
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", "-n", type=int, default=100, help="live agents")
    parser.add_argument("--closed", type=int, default=50, help="dead targets: closed UDP ports")
    parser.add_argument("--black-holes", type=int, default=50, help="dead targets: ports that never answer")
    parser.add_argument("--agent-procs", "-k", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scrape-timeout", type=float, default=10.0)
    parser.add_argument("--base-port", type=int, default=20000)
    parser.add_argument("--skip-anchor", action="store_true", help="netops only")
    parser.add_argument("--py-spy", metavar="FILE", help="profile netops with py-spy (collapsed stacks) into this file")
    parser.add_argument("--json-out")
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    sb.isolate(args.max_seconds)

    workdir = Path(tempfile.mkdtemp(prefix="netops-snmp-fault-bench-"))
    children = sb.Children()
    holes = []
    summary = dict(live=args.targets, closed=args.closed, black_holes=args.black_holes,
                   scrape_timeout_s=args.scrape_timeout, rounds=args.rounds, results={})
    try:
        sb.fake_switch()
        agent_pids = sb.start_agents(args, children, workdir)
        live = [f"127.0.0.1:{p}" for p in range(args.base_port, args.base_port + args.targets)]
        closed_base = args.base_port + args.targets + 1000  # nothing listens there in this namespace
        closed = [f"127.0.0.1:{p}" for p in range(closed_base, closed_base + args.closed)]
        black = []
        for _ in range(args.black_holes):
            hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            hole.bind(("127.0.0.1", 0))
            holes.append(hole)
            black.append(f"127.0.0.1:{hole.getsockname()[1]}")
        dead = [t for pair in itertools.zip_longest(black, closed) for t in pair if t]
        sb.log(f"{len(live)} live agents ({len(agent_pids)} snmpd processes), {args.closed} closed ports, "
               f"{args.black_holes} black holes")
        if not args.skip_anchor:
            config = workdir / "snmp.yml"
            sb.snmp_exporter_config(config, v3=False)
            anchor = children.start([shutil.which("prometheus-snmp-exporter") or "/usr/bin/prometheus-snmp-exporter",
                                     f"--config.file={config}", "--web.listen-address=127.0.0.1:9116",
                                     "--log.level=error"], workdir / "snmp_exporter.log")
            sb.wait_http("http://127.0.0.1:9116/metrics")
            summary["results"]["snmp_exporter"] = measure(
                "snmp_exporter", "http://127.0.0.1:9116", "/snmp?target={target}&module=netops_if", anchor.pid,
                live, dead, ANCHOR_FULL, args)
            summary["results"]["snmp_exporter_peak_rss_mib"] = sb.peak_rss_mib(anchor.pid)
            children.stop([anchor])
        netops = children.start(sb.netops_serve(f"sqlite:///{workdir / 'netops.db'}", "--no-inventory",
                                                "--log-level", "error"), workdir / "netops.log", cwd=sb.ROOT)
        sb.wait_http("http://127.0.0.1:9200/-/healthy")
        spy = sb.py_spy(children, netops.pid, args.py_spy, workdir)
        summary["results"]["netops"] = measure(
            "netops", "http://127.0.0.1:9200", "/snmp?target={target}&module=interfaces", netops.pid,
            live, dead, NETOPS_FULL, args)
        sb.py_spy_stop(spy)
        summary["results"]["netops_peak_rss_mib"] = sb.peak_rss_mib(netops.pid)
    finally:
        children.stop_all()
        for hole in holes:
            hole.close()
    sb.publish(summary, report, args.json_out)


def report(summary: dict) -> None:
    print(f"\n{summary['live']} live + {summary['closed']} closed + {summary['black_holes']} black-holed targets, "
          f"all scraped at once, {summary['scrape_timeout_s']} s scrape timeout", file=sys.stderr)
    print(f"{'exporter':<14}{'round':>6}{'live complete':>15}{'%':>7}{'wall s':>8}{'live p95 s':>11}"
          f"{'dead p50 s':>11}{'healthy max ms':>16}{'p99 ms':>8}{'idle max ms':>13}  dead targets got",
          file=sys.stderr)
    results = summary["results"]
    for name in ("snmp_exporter", "netops"):
        for r in results.get(name, []):
            print(f"{name:<14}{r['round']:>6}{r['live_complete']:>9}/{r['live']:<5}{r['live_complete_pct']:>7}"
                  f"{r['wall_s']:>8}{r['live_p95_s']:>11}{r['dead_p50_s']:>11}{r['health_max_ms']!s:>16}"
                  f"{r['health_p99_ms']!s:>8}{r['idle_health_max_ms']!s:>13}  {r['dead_outcomes']} (healthy: {r['health_codes']}, "
                  f"CPU {r['exporter_cpu_s']} s, load {r['load_avg']})", file=sys.stderr)


if __name__ == "__main__":
    main()
