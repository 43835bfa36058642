"""The cyclic garbage collector paused while the audits build and search the network.

Loading the inventory and auditing it create millions of objects that stay alive (rows,
graph dicts, cut trees, answers) and almost no cycles. Each time enough of them have
accumulated, Python's collector walks all of them again: a quarter of the audit's CPU at 10x,
a third at 100x (``benchmarks/topology_bench.py``). Reference counting still frees
everything that is not in a cycle; the collector runs again as soon as the work is done.

What a paused stretch leaves alive would otherwise be walked by the collector twice more
right after it (its young generation at the next allocation, then the middle one), about a
tenth of the audit's CPU at 10x, once per step (load, graphs, cut trees). So the survivors go
straight to the oldest generation (``gc.freeze`` then ``gc.unfreeze``: two list splices,
no walk), which a full collection still walks: a cycle among them is still collected.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside (usable as a decorator; nests; restores the state); on
    leaving the outermost pause, what survived it is in the collector's oldest generation."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
