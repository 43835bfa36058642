#!/usr/bin/env python3
"""netops exporter vs Debian's prometheus-snmp-exporter, side by side in one run.

Starts N real net-snmp agents (K snmpd processes, N UDP ports) in a throw-away network
namespace (`unshare -n`) holding a 53-interface fake switch (24 veth pairs + 4 ifb + lo),
then scrapes every target through both exporters with the SAME interface metric set:
15 IF-MIB columns (HC octet/packet counters, errors, discards, oper/admin status,
ifHighSpeed) labelled with ifIndex and ifName. snmp_exporter gets a generated module
`netops_if` (those 15 columns + ifName for the lookup, max-repetitions 25, like its
default); netops gets `module=interfaces` with its default profile (max-repetitions 25).

Both exporters run at once (idle when not scraped) and take turns round by round, in
the order A B, B A, A B... so a change of the shared machine's load falls on both alike.
CPU is each process's utime+stime from /proc. Prints per exporter the medians over the
timed rounds: targets ok, wall s, varbinds, exporter CPU s, µs per varbind and per
exported sample, agent CPU, scrape latency p50/p95, samples, peak RSS; then the ratio
netops / snmp_exporter of CPU per sample in each round (each from two neighbouring runs),
its median and spread, and the other ratios of the medians. netops serves v2c with --no-inventory --allow-any-target;
with --v3 it serves a throw-away inventory whose one device (127.0.0.1, every agent port)
is bound to the secret-bearing profile bench_v3, as the exporter's policy requires. Every
process is stopped by PID; the namespace dies with the run; nothing leaves 127.0.0.0/8.

    sudo .venv/bin/python benchmarks/snmp_bench.py -n 250 -c 32
    sudo .venv/bin/python benchmarks/snmp_bench.py -n 1000 -c 0        # all scrapes in flight
    sudo .venv/bin/python benchmarks/snmp_bench.py -n 250 --v3         # SNMPv3 authPriv SHA/AES on both
    sudo .venv/bin/python benchmarks/snmp_bench.py -n 500 --skip-anchor --rounds 3   # the city, 60 s?

``--py-spy FILE`` profiles netops (collapsed stacks) over the timed rounds, warm-up excluded.
``--callgrind FILE`` runs netops under valgrind's callgrind, counting instructions only over
the timed rounds (switched on and off with callgrind_control), and prints instructions per
scrape: the load-independent measure of a change. netops alone and slow (~50x): use few
targets, e.g. ``-n 16 -c 4 --rounds 1 --cold-cache --callgrind /tmp/cold.out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLK = os.sysconf("SC_CLK_TCK")

COLUMNS = {  # name in snmp_exporter, OID, type
    "ifHCInOctets": ("1.3.6.1.2.1.31.1.1.1.6", "counter"),
    "ifHCOutOctets": ("1.3.6.1.2.1.31.1.1.1.10", "counter"),
    "ifHCInUcastPkts": ("1.3.6.1.2.1.31.1.1.1.7", "counter"),
    "ifHCOutUcastPkts": ("1.3.6.1.2.1.31.1.1.1.11", "counter"),
    "ifHCInMulticastPkts": ("1.3.6.1.2.1.31.1.1.1.8", "counter"),
    "ifHCOutMulticastPkts": ("1.3.6.1.2.1.31.1.1.1.12", "counter"),
    "ifHCInBroadcastPkts": ("1.3.6.1.2.1.31.1.1.1.9", "counter"),
    "ifHCOutBroadcastPkts": ("1.3.6.1.2.1.31.1.1.1.13", "counter"),
    "ifInErrors": ("1.3.6.1.2.1.2.2.1.14", "counter"),
    "ifOutErrors": ("1.3.6.1.2.1.2.2.1.20", "counter"),
    "ifInDiscards": ("1.3.6.1.2.1.2.2.1.13", "counter"),
    "ifOutDiscards": ("1.3.6.1.2.1.2.2.1.19", "counter"),
    "ifOperStatus": ("1.3.6.1.2.1.2.2.1.8", "gauge"),
    "ifAdminStatus": ("1.3.6.1.2.1.2.2.1.7", "gauge"),
    "ifHighSpeed": ("1.3.6.1.2.1.31.1.1.1.15", "gauge"),
}
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
V3_USER, V3_AUTH, V3_PRIV = "benchv3", "bench-auth-key", "bench-priv-key"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- processes
def cpu_seconds(pid: int) -> float:
    """utime+stime (+ reaped children) of a process from /proc; 0 once it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = data[data.rindex(")") + 2 :].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK


def system_seconds(pid: int) -> float:
    """stime of a process (kernel work on its behalf: sockets, the loopback's delivery)."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    return int(data[data.rindex(")") + 2 :].split()[12]) / CLK


def peak_rss_mib(pid: int, field: str = "VmHWM") -> float | None:
    """Peak resident memory of a process (``field="VmRSS"``: now)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


class Children:
    """Processes this run started; stopped by PID, killed if they linger."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, argv, log_path: Path, **kw) -> subprocess.Popen:
        proc = subprocess.Popen(argv, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
                                start_new_session=True, **kw)
        self.procs.append(proc)
        return proc

    def stop(self, procs: list[subprocess.Popen]) -> None:
        for proc in procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self) -> None:
        self.stop(list(reversed(self.procs)))


def py_spy(children: Children, pid: int, out: str | None, workdir: Path):
    """Profile a process with py-spy (collapsed stacks) until :func:`py_spy_stop`; None without ``out``."""
    if not out:
        return None
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))  # `pip install py-spy` in the venv
    return children.start([binary, "record", "--nonblocking", "--rate", "250", "--format", "raw", "-p", str(pid),
                           "-o", out], workdir / "py-spy.log")


def py_spy_stop(spy) -> None:
    if spy is not None:
        os.kill(spy.pid, signal.SIGINT)  # py-spy writes its profile on SIGINT
        spy.wait(30)


def callgrind(out: str | None) -> list[str]:
    """argv prefix running netops under callgrind with counting off until the timed rounds."""
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"] if out else []


def callgrind_switch(pid: int, on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(pid)], check=True, capture_output=True)


def callgrind_total(out: str) -> int:
    """Instructions counted in a callgrind output file (its ``totals:`` line; ``summary:``
    reads 0 when counting was switched on and off)."""
    for line in Path(out).read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"{out}: no instruction total")


def isolate(max_seconds: float) -> None:
    """Re-run this script in a throw-away network namespace (unshare -n), bounded in time."""
    if os.environ.get("NETOPS_BENCH_NETNS") != "1":
        os.execvpe("unshare", ["unshare", "-n", "--", sys.executable, *sys.argv],
                   dict(os.environ, NETOPS_BENCH_NETNS="1"))
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(SystemExit("--max-seconds reached")))
    signal.alarm(int(max_seconds))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit("terminated")))


def publish(summary: dict, report, json_out: str | None) -> None:
    """The table for people on stderr, the JSON on stdout (and in ``json_out``)."""
    report(summary)
    if json_out:
        Path(json_out).write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))


def netops_serve(db_url: str, *options: str, any_target: bool = True) -> list[str]:
    """argv of `netops exporter serve` on 127.0.0.1:9200; with ``any_target`` also
    --allow-any-target where the exporter has it (the agents are not inventory devices)."""
    argv = [sys.executable, "-m", "cli", "--db", db_url, "exporter", "serve", "--listen", "127.0.0.1:9200", *options]
    if not any_target:
        return argv
    usage = subprocess.run([*argv[:7], "--help"], capture_output=True, text=True, cwd=ROOT).stdout
    return argv + (["--allow-any-target"] if "--allow-any-target" in usage else [])


def v3_inventory(db_url: str) -> dict[str, str]:
    """A throw-away inventory set up the way an operator would for SNMPv3: the SNMP profile
    ``bench_v3`` (its keys from the environment, like in production) and the agents as one
    device at 127.0.0.1 bound to it. The exporter's policy matches a target's address (its
    port is the request's), so every agent port is that device, and bench_v3's keys go to it
    without --allow-any-target. Returns the environment holding the keys."""
    sys.path.insert(0, str(ROOT))
    from inventory.models.devices import Device
    from inventory.models.profiles import SnmpProfile
    from inventory.models.sites import Site
    from netops import db as dbmod

    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    with dbmod.session_scope(engine) as session:
        session.add(SnmpProfile(name="bench_v3", version="v3", user=V3_USER, auth_protocol="sha",
                                priv_protocol="aes"))
        site = Site(code="bench", name="benchmark agents", kind="core", source="benchmark")
        session.add(site)
        session.flush()
        session.add(Device(name="bench-switch", site_id=site.id, role="access_switch", platform="cisco_ios",
                           mgmt_ip="127.0.0.1", snmp_profile="bench_v3", source="benchmark"))
    engine.dispose()
    return dict(os.environ, NETOPS_SNMP_BENCH_V3_AUTH_KEY=V3_AUTH, NETOPS_SNMP_BENCH_V3_PRIV_KEY=V3_PRIV)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


# ----------------------------------------------------------------------------- agents
def fake_switch() -> None:
    """Inside the fresh namespace: lo up plus 48 access ports (24 veth pairs) and 4 uplinks."""
    def ip(*args):
        subprocess.run(["ip", *args], check=True)

    ip("link", "set", "lo", "up")
    for i in range(1, 25):
        ip("link", "add", f"Gi1-0-{i}", "type", "veth", "peer", "name", f"Gi1-0-{i + 24}")
        if i % 3:
            ip("link", "set", f"Gi1-0-{i}", "up")
            ip("link", "set", f"Gi1-0-{i + 24}", "up")
    for i in range(1, 5):
        ip("link", "add", f"Te1-1-{i}", "type", "ifb")
        ip("link", "set", f"Te1-1-{i}", "up")


def start_agents(args, children: Children, workdir: Path) -> list[int]:
    ports = list(range(args.base_port, args.base_port + args.targets))
    per_agent = -(-len(ports) // args.agent_procs)
    pids = []
    for k in range(0, len(ports), per_agent):
        conf = workdir / f"snmpd-{k}.conf"
        conf.write_text("rocommunity public 127.0.0.1\ndontLogTCPWrappersConnects yes\nsysName bench-switch\n"
                        f"createUser {V3_USER} SHA {V3_AUTH} AES {V3_PRIV}\nrouser {V3_USER} priv\n")
        persist = workdir / f"persist-{k}"
        persist.mkdir()
        # ports on argv: snmpd silently cuts a long agentaddress line
        proc = children.start(["/usr/sbin/snmpd", "-f", "-C", "-c", str(conf), "-Lf", str(workdir / f"snmpd-{k}.log"),
                               "-I", "-smux,mteTrigger,mteTriggerConf"]
                              + [f"udp:127.0.0.1:{p}" for p in ports[k : k + per_agent]],
                              workdir / f"snmpd-{k}.out", env=dict(os.environ, SNMP_PERSISTENT_DIR=str(persist)))
        pids.append(proc.pid)
    deadline = time.monotonic() + 60 + 0.2 * args.targets
    for port in (ports[0], ports[-1]):
        while subprocess.run(["snmpget", "-v2c", "-c", "public", "-t", "1", "-r", "0", "-Oqv", f"127.0.0.1:{port}",
                              "1.3.6.1.2.1.1.5.0"], capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise SystemExit("agents did not come up")
            time.sleep(0.5)
    return pids


def snmp_exporter_config(path: Path, v3: bool) -> None:
    """A 0.21-format module with the same 15 columns, labelled ifIndex + ifName."""
    lines = ["netops_if:", f"  version: {3 if v3 else 2}", "  max_repetitions: 25"]
    if v3:
        lines += ["  auth:", "    security_level: authPriv", f"    username: {V3_USER}", f"    password: {V3_AUTH}",
                  "    auth_protocol: SHA", "    priv_protocol: AES", f"    priv_password: {V3_PRIV}"]
    lines += ["  walk:"]
    lines += [f"  - {oid}" for oid, _ in COLUMNS.values()] + [f"  - {IF_NAME}", "  metrics:"]
    for name, (oid, kind) in COLUMNS.items():
        lines += [f"  - name: {name}", f"    oid: {oid}", f"    type: {kind}", f"    help: {name} - {oid}",
                  "    indexes:", "    - labelname: ifIndex", "      type: gauge", "    lookups:",
                  "    - labels: [ifIndex]", "      labelname: ifName", f"      oid: {IF_NAME}",
                  "      type: DisplayString"]
    path.write_text("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- scraping
def count_line(body: bytes, names: tuple[bytes, ...]) -> int:
    for line in body.split(b"\n"):
        for name in names:
            if line.startswith(name + b" "):
                return int(float(line.split()[1]))
    return 0


async def fetch(session, url: str) -> tuple[int | str, bytes, float]:
    """(HTTP status or the exception's name, body, seconds): a failed request is a figure here."""
    t0 = time.perf_counter()
    try:
        async with session.get(url) as response:
            body, code = await response.read(), response.status
    except Exception as exc:  # noqa: BLE001
        body, code = b"", type(exc).__name__
    return code, body, time.perf_counter() - t0


async def scrape_round(base: str, path: str, targets: list[str], concurrency: int, timeout_s: float):
    import aiohttp

    latencies, fails = [], {}
    varbinds = samples = text_bytes = 0
    gate = asyncio.Semaphore(concurrency)
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": str(timeout_s)}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=timeout_s + 5)) as session:
        async def one(target):
            nonlocal varbinds, samples, text_bytes
            async with gate:
                code, body, seconds = await fetch(session, f"{base}{path.format(target=target)}")
                latencies.append(seconds)
                up_bad = b'netops_snmp_module_up{module="interfaces"} 0' in body
                if code != 200 or up_bad:
                    reason = str(code) if code != 200 else "module_down"
                    fails[reason] = fails.get(reason, 0) + 1
                    return
                varbinds += count_line(body, (b"snmp_scrape_pdus_returned", b"netops_snmp_scrape_varbinds_returned"))
                samples += sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))
                text_bytes += len(body)

        await asyncio.gather(*(one(t) for t in targets))
    return latencies, varbinds, samples, fails, text_bytes


def measure_round(name, base, path, pid, agent_pids, targets, args, round_no: int, start_rss) -> dict:
    """One round of every target through one exporter: its CPU from /proc, the scrapes' figures."""
    e0, s0, a0, w0 = cpu_seconds(pid), system_seconds(pid), sum(map(cpu_seconds, agent_pids)), time.perf_counter()
    lat, varbinds, samples, fails, text_bytes = asyncio.run(
        scrape_round(base, path, targets, args.concurrency, args.scrape_timeout))
    wall = time.perf_counter() - w0
    cpu = cpu_seconds(pid) - e0
    ok = len(targets) - sum(fails.values())
    row = dict(exporter=name, round=round_no, targets=len(targets), ok=ok, fails=fails, wall_s=round(wall, 3),
               exporter_cpu_s=round(cpu, 3), exporter_sys_s=round(system_seconds(pid) - s0, 3),
               agent_cpu_s=round(sum(map(cpu_seconds, agent_pids)) - a0, 3), varbinds=varbinds, samples=samples,
               us_per_varbind=round(1e6 * cpu / varbinds, 2) if varbinds else None,
               us_per_sample=round(1e6 * cpu / samples, 2) if samples else None,
               kib_per_scrape=round(text_bytes / 1024 / max(1, ok), 1),
               lat_p50_s=round(statistics.median(lat), 3),
               lat_p95_s=round(sorted(lat)[int(0.95 * (len(lat) - 1))], 3),
               peak_rss_mib=peak_rss_mib(pid), start_rss_mib=start_rss, load_avg=os.getloadavg()[0])
    log(("warmup " if round_no < 0 else "") + json.dumps(row))
    return row


def take_turns(exporters: list[dict], agent_pids, targets, args, on_timed=None) -> dict[str, list[dict]]:
    """Every exporter scrapes every target once a round, in the order A B, B A, A B...:
    a drift of the shared machine's load meets both. ``on_timed(exporter)`` is called before
    its first timed round (the profiler starts there). Returns the timed rows by exporter."""
    start_rss = {e["name"]: peak_rss_mib(e["pid"], "VmRSS") for e in exporters}  # up, nothing scraped yet
    rows: dict[str, list[dict]] = {e["name"]: [] for e in exporters}
    for r in range(args.warmup + args.rounds):
        for e in (exporters if r % 2 == 0 else exporters[::-1]):
            if r == args.warmup and on_timed is not None:
                on_timed(e)
            row = measure_round(e["name"], e["base"], e["path"], e["pid"], agent_pids, targets, args,
                                r - args.warmup, start_rss[e["name"]])
            if r >= args.warmup:
                rows[e["name"]].append(row)
    return rows


def median_row(rows: list[dict]) -> dict:
    out = dict(rows[-1])
    for key, value in rows[-1].items():
        if isinstance(value, (int, float)) and key != "round":
            middle = statistics.median(r[key] for r in rows if isinstance(r.get(key), (int, float)))
            out[key] = round(middle, 3) if isinstance(middle, float) else middle
    return out


def spread(values: list[float]) -> dict:
    """Median and range of a figure over the rounds."""
    return dict(median=round(statistics.median(values), 3), min=min(values), max=max(values), n=len(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", "-n", type=int, default=250)
    parser.add_argument("--concurrency", "-c", type=int, default=32, help="scrapes in flight (0 = all at once)")
    parser.add_argument("--agent-procs", "-k", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (fills netops' label cache)")
    parser.add_argument("--scrape-timeout", type=float, default=30.0)
    parser.add_argument("--base-port", type=int, default=20000)
    parser.add_argument("--max-targets-in-flight", type=int, default=64, help="netops' polling bound")
    parser.add_argument("--skip-anchor", action="store_true", help="netops only (e.g. the city figure)")
    parser.add_argument("--v3", action="store_true", help="SNMPv3 authPriv (SHA, AES-128) for both exporters")
    parser.add_argument("--cold-cache", action="store_true",
                        help="netops with --cache-ttl 0: every scrape walks the static labels too (after the "
                             "process's own warm-up round)")
    parser.add_argument("--py-spy", metavar="FILE", help="profile netops with py-spy (collapsed stacks) into FILE")
    parser.add_argument("--callgrind", metavar="FILE",
                        help="count netops' instructions over the timed rounds with callgrind into FILE "
                             "(netops only, about 50x slower)")
    parser.add_argument("--json-out")
    parser.add_argument("--max-seconds", type=float, default=1800)
    args = parser.parse_args()
    if args.concurrency <= 0:
        args.concurrency = args.targets
    if args.callgrind:
        args.skip_anchor = True
        args.callgrind = str(Path(args.callgrind).resolve())
    isolate(args.max_seconds)

    workdir = Path(tempfile.mkdtemp(prefix="netops-snmp-bench-"))
    children = Children()
    summary = dict(targets=args.targets, concurrency=args.concurrency, agent_procs=args.agent_procs, v3=args.v3,
                   cold_cache=args.cold_cache, rounds=args.rounds, workdir=str(workdir),
                   load_avg_start=os.getloadavg()[0], results={})
    spies = []
    try:
        fake_switch()
        agent_pids = start_agents(args, children, workdir)
        ports = range(args.base_port, args.base_port + args.targets)
        targets = [f"127.0.0.1:{p}" for p in ports]
        log(f"{args.targets} agents up ({len(agent_pids)} snmpd processes)")
        exporters = []
        if not args.skip_anchor:
            config = workdir / "snmp.yml"
            snmp_exporter_config(config, args.v3)
            anchor = children.start([shutil.which("prometheus-snmp-exporter") or "/usr/bin/prometheus-snmp-exporter",
                                     f"--config.file={config}", "--web.listen-address=127.0.0.1:9116",
                                     "--log.level=warn"], workdir / "snmp_exporter.log")
            wait_http("http://127.0.0.1:9116/metrics")
            exporters.append(dict(name="snmp_exporter", base="http://127.0.0.1:9116",
                                  path="/snmp?target={target}&module=netops_if", pid=anchor.pid))
        db_url = f"sqlite:///{workdir / 'netops.db'}"
        # v2c: no inventory, any target (public_v2 has no secrets); v3: the inventory's binding
        env = v3_inventory(db_url) if args.v3 else None
        netops = children.start(callgrind(args.callgrind) + netops_serve(db_url, "--max-targets-in-flight", str(args.max_targets_in_flight),
                                             *([] if args.v3 else ["--no-inventory"]),
                                             *(["--cache-ttl", "0"] if args.cold_cache else []),
                                             any_target=not args.v3),
                                workdir / "netops.log", cwd=ROOT, env=env)
        wait_http("http://127.0.0.1:9200/metrics", timeout=600 if args.callgrind else 60)
        auth = "bench_v3" if args.v3 else "public_v2"
        exporters.append(dict(name="netops", base="http://127.0.0.1:9200",
                              path="/snmp?target={target}&module=interfaces&auth=" + auth, pid=netops.pid))

        def profile(exporter):
            if exporter["name"] == "netops":
                spies.append(py_spy(children, netops.pid, args.py_spy, workdir))
                if args.callgrind:
                    callgrind_switch(netops.pid, True)

        rows = take_turns(exporters, agent_pids, targets, args, profile)
        for spy in spies:
            py_spy_stop(spy)
        if args.callgrind:
            callgrind_switch(netops.pid, False)
            os.kill(netops.pid, signal.SIGTERM)  # callgrind writes its counts as the process ends
            netops.wait(300)
            scrapes = sum(r["ok"] for r in rows["netops"])
            summary["callgrind"] = dict(file=args.callgrind, instructions=callgrind_total(args.callgrind),
                                        scrapes=scrapes)
            summary["callgrind"]["per_scrape"] = summary["callgrind"]["instructions"] // max(1, scrapes)
        for name, timed in rows.items():
            summary["results"][name] = median_row(timed)
            summary["results"][name]["us_per_sample_rounds"] = spread([r["us_per_sample"] or 0 for r in timed])
        if len(rows) == 2:
            ratios = [round(x["us_per_sample"] / y["us_per_sample"], 3)
                      for x, y in zip(rows["netops"], rows["snmp_exporter"]) if x["us_per_sample"] and y["us_per_sample"]]
            summary["cpu_per_sample_ratio_rounds"] = dict(spread(ratios), each=ratios) if ratios else None
        summary["load_avg_end"] = os.getloadavg()[0]
    finally:
        children.stop_all()
    publish(summary, report, args.json_out)


def report(summary: dict) -> None:
    print(f"\ntargets={summary['targets']} concurrency={summary['concurrency']} v3={summary['v3']} "
          f"cold label cache={summary['cold_cache']} "
          f"snmpd processes={summary['agent_procs']} (medians of {summary['rounds']} rounds, exporters taking "
          f"turns; load average {summary['load_avg_start']:.1f} -> {summary['load_avg_end']:.1f})", file=sys.stderr)
    print(f"{'exporter':<14}{'ok':>6}{'wall s':>8}{'varbinds':>10}{'CPU s':>8}{'µs/vb':>7}{'µs/sample':>10}"
          f"{'agent s':>8}{'p50 s':>7}{'p95 s':>7}{'samples':>9}{'KiB/scrape':>11}{'RSS MiB start/peak':>19}",
          file=sys.stderr)
    results = summary["results"]
    for name, r in results.items():
        print(f"{name:<14}{r['ok']:>6}{r['wall_s']:>8.2f}{r['varbinds']:>10}{r['exporter_cpu_s']:>8.2f}"
              f"{r['us_per_varbind'] or 0:>7.1f}{r['us_per_sample'] or 0:>10.2f}{r['agent_cpu_s']:>8.2f}"
              f"{r['lat_p50_s']:>7.2f}{r['lat_p95_s']:>7.2f}{r['samples']:>9}{r['kib_per_scrape']:>11}"
              f"{r['start_rss_mib'] or 0:>12}/{r['peak_rss_mib'] or 0}",
              file=sys.stderr)
    if {"netops", "snmp_exporter"} <= set(results):
        x, y = results["netops"], results["snmp_exporter"]
        ratio = dict(wall=round(x["wall_s"] / y["wall_s"], 2),
                     cpu=round(x["exporter_cpu_s"] / y["exporter_cpu_s"], 2),
                     cpu_per_sample=round(x["us_per_sample"] / y["us_per_sample"], 2),
                     samples=round(x["samples"] / y["samples"], 3),
                     bytes_per_scrape=round(x["kib_per_scrape"] / y["kib_per_scrape"], 2),
                     peak_rss=round(x["peak_rss_mib"] / y["peak_rss_mib"], 2))
        summary["ratio_netops_over_snmp_exporter"] = ratio
        print(f"ratio netops/snmp_exporter of the medians: {ratio}", file=sys.stderr)
    for name, r in results.items():
        s = r["us_per_sample_rounds"]
        print(f"{name} µs/sample over the rounds: median {s['median']}, {s['min']}..{s['max']}", file=sys.stderr)
    counted = summary.get("callgrind")
    if counted:
        print(f"callgrind: {counted['instructions']:,} instructions over {counted['scrapes']} scrapes: "
              f"{counted['per_scrape'] / 1e6:.2f} M per scrape ({counted['file']})", file=sys.stderr)
    per_round = summary.get("cpu_per_sample_ratio_rounds")
    if per_round:
        print(f"CPU per sample netops/snmp_exporter, round by round: {per_round['each']} -> median "
              f"{per_round['median']}, range {per_round['min']}..{per_round['max']}", file=sys.stderr)


if __name__ == "__main__":
    main()
