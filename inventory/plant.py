"""Fusion splices the fibre plant holds in its closures: one count for the seed generator
(sizing the closures it lays), the inventory's checks and the planner (which adds what
plans recorded on top, ``planning.strands.used_splices``).

Every strand end in use at a closure is spliced there::

    link hop (strand_a, strand_b)    half a splice per strand end: joined to the next
                                     cable's strand, the other half counted there
    PON feeder or drop strand        a whole splice at the closure holding its splitter,
                                     half at a closure it is spliced through

Counts are kept in half splices until the end, so halves from both cables of a joint add
up before rounding.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Hashable, Iterable, Mapping, Sequence

from sqlmodel import Session, select

from inventory.models import Cable, Link, LinkHop, ResidentialConnection, SpliceClosure, Splitter

#: fusion splices of a closure's trays: plausible steps of dome closures as sold (not
#: from one datasheet); a closure holds its splices + 25 % headroom, like a cable's strands
CLOSURE_SIZES = (96, 144, 288, 576)


def closure_size(splices: int) -> int:
    """The smallest of ``CLOSURE_SIZES`` holding ``splices`` with 25 % headroom; beyond
    the largest, what it needs."""
    wanted = int(splices * 1.25) + 1
    return next((s for s in CLOSURE_SIZES if s >= wanted), wanted)


def splice_halves(cable_closures: Mapping[Hashable, Sequence[Hashable]], closure_node: Mapping[Hashable, Hashable],
                  link_hop_cables: Iterable[Hashable], pon_strands: Iterable[tuple[Hashable, Hashable]]
                  ) -> dict[Hashable, int]:
    """Closure -> half splices in its trays, from plain keys (ids or codes alike):
    the closures at each cable's ends, each closure's route node, the cable of every link
    hop (a strand pair) and (cable, splitter's node) of every PON strand."""
    halves: dict[Hashable, int] = defaultdict(int)
    for cable in link_hop_cables:
        for closure in cable_closures.get(cable, ()):
            halves[closure] += 2  # strand_a and strand_b
    for cable, splitter_node in pon_strands:
        for closure in cable_closures.get(cable, ()):
            halves[closure] += 2 if closure_node.get(closure) == splitter_node else 1
    return dict(halves)


def halves_to_splices(halves: Mapping[Hashable, int]) -> dict[Hashable, int]:
    """Half splices -> whole splice positions (a lone half still takes a position)."""
    return {closure: math.ceil(h / 2) for closure, h in halves.items()}


def cable_closures(session: Session) -> dict[int, list[int]]:
    """Cable id -> the closures (ids) at its ends."""
    closures_of: dict[int, list[int]] = defaultdict(list)
    for cable, a, b in session.exec(select(Cable.id, Cable.a_closure_id, Cable.b_closure_id)).all():
        closures_of[cable] += [c for c in (a, b) if c is not None]
    return dict(closures_of)


def held_splice_halves(session: Session, except_link_source: str | None = None) -> dict[int, int]:
    """Closure id -> half splices the stored plant holds: links' hops (but those of links
    whose source is ``except_link_source``), PON feeders and drops."""
    hops = select(LinkHop.cable_id)
    if except_link_source is not None:
        hops = (hops.join(Link, Link.id == LinkHop.link_id)
                .where((Link.source != except_link_source) | Link.source.is_(None)))
    feeders = select(Splitter.feeder_cable_id, Splitter.node_id).where(Splitter.feeder_cable_id.is_not(None))
    drops = (select(ResidentialConnection.drop_cable_id, Splitter.node_id)
             .join(Splitter, Splitter.id == ResidentialConnection.splitter_id)
             .where(ResidentialConnection.drop_cable_id.is_not(None)))
    return splice_halves(
        cable_closures(session),
        dict(session.exec(select(SpliceClosure.id, SpliceClosure.node_id)).all()),
        session.exec(hops).all(),
        [*session.exec(feeders).all(), *session.exec(drops).all()],
    )


def held_splices(session: Session) -> dict[int, int]:
    """Closure id -> fusion splices the stored plant holds in it (plans' records aside)."""
    return halves_to_splices(held_splice_halves(session))
