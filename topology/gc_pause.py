"""The cyclic garbage collector paused while the audits build and search the network.

Loading the inventory and auditing it create millions of objects that stay alive (rows,
graph dicts, cut trees, answers) and almost no cycles. Each time enough of them have
accumulated, Python's collector walks all of them again: a quarter of the audit's CPU at 10x,
a third at 100x (``benchmarks/topology_bench.py``). Reference counting still frees
everything that is not in a cycle; the collector runs again as soon as the work is done.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside (usable as a decorator; nests; restores the state)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
