"""The exporter's event loop stays responsive: paced work is spread over turns of the loop.

A health check that arrives while a hundred walks decode their answers must not wait
for all of them (exporters.snmp.client.Pacer). The asyncio loop runs its ready callbacks
in order, so what runs before what is deterministic here; no timing is asserted.
"""

from __future__ import annotations

import asyncio

from exporters.snmp.client import Pacer


def run_pieces(pacer: Pacer, pieces: int) -> list[str]:
    """``pieces`` tasks each await the pacer and then do their work; a health check is
    asked once they have all started. Returns the order in which work and check ran."""
    order: list[str] = []

    async def piece(i: int) -> None:
        await pacer.turn()
        order.append(f"piece {i}")

    async def health() -> None:
        order.append("health")

    async def main() -> None:
        tasks = [asyncio.create_task(piece(i)) for i in range(pieces)]
        await asyncio.sleep(0)  # every piece has asked the pacer
        tasks.append(asyncio.create_task(health()))
        await asyncio.gather(*tasks)

    asyncio.run(main())
    return order


def test_a_full_turn_sends_the_remaining_work_behind_a_health_check():
    pacer = Pacer(slice_s=0.0)  # every turn is full after its first piece
    order = run_pieces(pacer, 5)
    assert order.index("health") < order.index("piece 4")
    assert order.index("health") <= 2  # waited for at most the pieces of two turns
    assert [step for step in order if step != "health"] == [f"piece {i}" for i in range(5)]  # in order, none lost
    assert pacer.deferred == 4


def test_a_turn_with_time_left_runs_its_work_at_once():
    pacer = Pacer(slice_s=3600.0)
    order = run_pieces(pacer, 5)
    assert order == [f"piece {i}" for i in range(5)] + ["health"]
    assert pacer.deferred == 0


def test_the_next_turn_starts_fresh():
    """The turn's marker runs before the work deferred to the next turn, so that work goes on."""

    async def main() -> int:
        pacer = Pacer(slice_s=0.0)
        await pacer.turn()  # the first piece of this turn
        await asyncio.sleep(0)  # a later turn
        await pacer.turn()  # the first piece of that turn: not deferred
        return pacer.deferred

    assert asyncio.run(main()) == 0


def test_a_scrape_cancelled_while_it_waits_does_not_hold_up_the_others():
    """A client that leaves cancels its scrape; the pieces queued behind it still run."""

    async def main() -> list[int]:
        pacer = Pacer(slice_s=0.0)
        done: list[int] = []

        async def piece(i: int) -> None:
            await pacer.turn()
            done.append(i)

        tasks = [asyncio.create_task(piece(i)) for i in range(4)]
        await asyncio.sleep(0)  # piece 0 runs, 1 to 3 queue
        tasks[1].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return done

    assert asyncio.run(main()) == [0, 2, 3]
