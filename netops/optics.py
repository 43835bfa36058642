"""Planning figures of the fibre plant, one definition for the planner's loss budget of a
new path (``planning.loss_budget``) and the PON audit's budget per ONT (``topology.pon``).

Worst-case planning values, not datasheet typicals: α is the cabled ITU-T G.652.D limit
(0.35 dB/km at 1310 nm, 0.25 dB/km at 1550 nm; datasheets promise less, aged cables with
repairs deliver more), 0.1 dB per fusion splice and 0.5 dB per mated connector pair (the
usual planning maxima in ITU-T G.671 / IEC 61753 practice). A margin below 3 dB leaves
nothing for repairs and ageing over the plant's life.

Standard library only (``netops`` is the bottom layer every package may import).
"""

from __future__ import annotations

import math

ATTENUATION_DB_PER_KM = {1310: 0.35, 1550: 0.25}
SPLICE_DB = 0.1
CONNECTOR_DB = 0.5
CONNECTORS_PER_PATH = 2  # one patch-panel connector at each end
DRUM_LENGTH_M = 4000.0  # cable comes on drums; longer runs need a joint (closure + splices)
DEFAULT_MIN_MARGIN_DB = 3.0


def joints_for(length_m: float) -> int:
    """Drum joints a continuous run of ``length_m`` needs (each a closure with splices)."""
    return max(0, math.ceil(length_m / DRUM_LENGTH_M) - 1)
