"""Dead targets never starve live ones (issue 11, item 2).

Ten live targets (ten real snmpd agents on loopback ports) scraped at the same time
as ten dead ones: five closed loopback ports (the kernel answers ICMP port-unreachable)
and five black holes (loopback ports bound by a socket that never answers). Two polling
slots only, and the dead targets are scraped first, so a slot held while waiting for a
retransmission (2.5 s x 3 tries) would leave the live targets without one for longer than
the 10 s scrape. The exporter's /-/healthy is asked throughout.
"""

from __future__ import annotations

import asyncio
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiohttp import ClientSession, ClientTimeout, web
from hypothesis import given, settings
from hypothesis import strategies as st

from exporters.server import make_app
from exporters.snmp import ber
from exporters.snmp.client import _increasing
from exporters.snmp.poller import Poller
from tests.exporter.conftest import module_status, test_profiles
from tests.support import snmpd
from tests.support.procs import free_port
from tests.support.udp_fault_proxy import FaultProxy

LIVE, CLOSED, BLACK_HOLES = 10, 5, 5
PATIENT = dict(timeout_s=2.5, retries=2)  # a black hole's probe waits 7.5 s before it gives up
SCRAPE_TIMEOUT_S = 10.0
MODULES = ["system", "interfaces"]


@pytest.fixture(scope="module")
def live_agent(tmp_path_factory):
    if not snmpd.available():
        pytest.skip("snmpd not installed (run `make test`)")
    base = tmp_path_factory.mktemp("snmpd-live")
    with ThreadPoolExecutor(LIVE) as pool:
        agents = list(pool.map(lambda i: snmpd.start(base / str(i)), range(LIVE)))
    yield [agent.target for agent in agents]
    for agent in agents:
        agent.stop()


@pytest.fixture
def black_holes():
    """Loopback UDP ports with a socket that reads nothing: requests vanish, no ICMP comes back."""
    socks = []
    for _ in range(BLACK_HOLES):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        socks.append(sock)
    yield socks
    for sock in socks:
        sock.close()


def drain(sock: socket.socket) -> int:
    """Datagrams the black hole swallowed since the last call."""
    count = 0
    while True:
        try:
            sock.recv(65535)
        except BlockingIOError:
            return count
        count += 1


def closed_ports() -> list[str]:
    return [f"127.0.0.1:{snmpd.free_udp_port()}" for _ in range(CLOSED)]


async def scrape_all(poller: Poller, targets: list[str]) -> tuple[dict[str, str], dict[str, float], list]:
    """Every target at once (dead ones first), /-/healthy asked every 50 ms meanwhile."""
    runner = web.AppRunner(make_app(poller))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    health: list = []
    done = asyncio.Event()

    async def ask_health():
        async with ClientSession(timeout=ClientTimeout(total=5)) as session:
            while not done.is_set():
                async with session.get(f"http://127.0.0.1:{port}/-/healthy") as response:
                    health.append(response.status)
                await asyncio.sleep(0.05)

    async def one(target):
        started = time.monotonic()
        text = await poller.scrape(target, MODULES, "city_v2", SCRAPE_TIMEOUT_S)
        return text, time.monotonic() - started

    try:
        checker = asyncio.create_task(ask_health())
        answers = await asyncio.gather(*(one(t) for t in targets))
        done.set()
        await checker
    finally:
        await runner.cleanup()
    return ({t: text for t, (text, _) in zip(targets, answers)},
            {t: seconds for t, (_, seconds) in zip(targets, answers)}, health)


def test_half_dead_targets_never_starve_live_ones(live_agent, black_holes):
    holes = [f"127.0.0.1:{s.getsockname()[1]}" for s in black_holes]
    closed = closed_ports()
    poller = Poller(test_profiles(**PATIENT), max_targets_in_flight=2, budget_offset_s=0.5)

    texts, seconds, health = asyncio.run(scrape_all(poller, holes + closed + live_agent))

    for target in live_agent:
        assert module_status(texts[target]) == {"system": (1, ""), "interfaces": (1, "")}, target
    for target in closed:
        assert module_status(texts[target]) == {m: (0, "unreachable") for m in MODULES}
        assert seconds[target] < PATIENT["timeout_s"]  # ICMP, not a timeout, ended it
    for target in holes:
        assert module_status(texts[target]) == {m: (0, "timeout") for m in MODULES}
    assert [drain(s) for s in black_holes] == [3] * BLACK_HOLES  # the full probe: 1 try + 2 retries
    assert health and set(health) == {200}  # answered every time, while 20 scrapes were in flight
    assert poller.limiter.active == 0 and poller.limiter.waiting == 0
    assert poller.client._channels == {} and poller.client._pending == {}  # every socket closed


def test_known_dead_targets_get_a_short_probe(live_agent, black_holes):
    holes = [f"127.0.0.1:{s.getsockname()[1]}" for s in black_holes]
    poller = Poller(test_profiles(**PATIENT), max_targets_in_flight=2)

    async def twice():
        await poller.start()
        try:
            first = await asyncio.gather(*(poller.scrape(t, ["system"], "city_v2", SCRAPE_TIMEOUT_S) for t in holes))
            swallowed = [drain(s) for s in black_holes]
            started = time.monotonic()
            again = await asyncio.gather(*(poller.scrape(t, ["system"], "city_v2", SCRAPE_TIMEOUT_S)
                                           for t in holes + live_agent[:1]))
            return first, swallowed, again, time.monotonic() - started
        finally:
            poller.close()

    first, swallowed, again, elapsed = asyncio.run(twice())
    assert all(module_status(t) == {"system": (0, "timeout")} for t in first + again[:-1])
    assert swallowed == [3] * BLACK_HOLES
    assert [drain(s) for s in black_holes] == [1] * BLACK_HOLES  # known dead: one small GET
    assert elapsed < 2 * PATIENT["timeout_s"]  # one try of the profile's 2.5 s, not 2.5 s x 3
    assert module_status(again[-1]) == {"system": (1, "")}
    assert set(poller.known_dead) == {("127.0.0.1", s.getsockname()[1]) for s in black_holes}


def test_a_known_dead_target_that_comes_back_is_walked_again(agent):
    poller = Poller(test_profiles(timeout_s=0.5, retries=0))
    address = ("127.0.0.1", agent.port)
    poller.known_dead[address] = time.monotonic()  # as if its last probe had gone unanswered

    async def scrape():
        await poller.start()
        try:
            return await poller.scrape(agent.target, MODULES, "city_v2", SCRAPE_TIMEOUT_S)
        finally:
            poller.close()

    assert module_status(asyncio.run(scrape())) == {"system": (1, ""), "interfaces": (1, "")}
    assert address not in poller.known_dead


def test_a_target_silent_mid_walk_lets_its_slot_go(agent):
    """One slot: the first target answers its probe and first GETBULK (one row: max-repetitions
    1), then goes silent; the second (4 s scrape) must not wait out the first one's
    retransmissions (2 s x 3) to walk."""
    poller = Poller(test_profiles(timeout_s=2.0, retries=2, max_repetitions=1), max_targets_in_flight=1,
                    budget_offset_s=0.5)

    async def both():
        await poller.start()
        try:
            silent = asyncio.create_task(poller.scrape(proxy.target, MODULES, "city_v2", 10.0))
            await asyncio.sleep(0.3)  # the silent one holds the only slot by now
            live = await poller.scrape(agent.target, MODULES, "city_v2", 4.0)
            return await silent, live
        finally:
            poller.close()

    with FaultProxy(agent.port, "stop_after", answer_first=2) as proxy:
        silent, live = asyncio.run(both())
    assert module_status(live) == {"system": (1, ""), "interfaces": (1, "")}
    assert module_status(silent)["system"] == (1, "")
    assert module_status(silent)["interfaces"] == (0, "timeout")  # 3 tries, then given up
    assert poller.limiter.active == 0


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.one_of(st.integers(0, 127), st.integers(128, 2**32 - 1)), min_size=1, max_size=6),
                min_size=3, max_size=3))
def test_walk_order_check_agrees_with_numeric_order(tails):
    """The walk compares encoded OIDs directly when every arc is one octet: same verdict as
    comparing the arcs as numbers (each row after the one before), whatever mix of one- and
    multi-octet arcs comes."""
    previous, first, last = ((1, 3, 6, 1, 2, 1, *tail) for tail in tails)
    encoded = [(ber.encode_subids(first), ber.COUNTER64, b"\x01"), (ber.encode_subids(last), ber.COUNTER64, b"\x01")]
    assert _increasing(ber.encode_subids(previous), encoded) == (previous < first < last)


def test_a_silent_target_is_a_timeout_even_when_the_scrape_ends_first(black_holes):
    """Prometheus' 2 s run out before the profile's 3 tries of 2.5 s: the target still reads
    `timeout` (it never answered), not `budget` (which says what arrived was cut short)."""
    hole = f"127.0.0.1:{black_holes[0].getsockname()[1]}"
    poller = Poller(test_profiles(**PATIENT), budget_offset_s=0.5)

    async def scrape():
        await poller.start()
        try:
            return await poller.scrape(hole, MODULES, "city_v2", 2.0)
        finally:
            poller.close()

    assert module_status(asyncio.run(scrape())) == {m: (0, "timeout") for m in MODULES}
    assert drain(black_holes[0]) == 1
