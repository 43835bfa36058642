"""Shared risk: what makes two "redundant" routes fail together. One definition for the
audits (shared-risk findings on the plant) and the planner (redundant pairs).

Two routes of a site share a risk when they have in common

* a **trench** segment (one excavator cuts both cables);
* a **route node**: manhole, junction, cabinet (one flooded chamber takes both);
* a **building** other than the site's own: the route nodes of one site, and of sites
  within ``same_building_m`` of each other (two PoPs in one building are one building);
* a **street corridor**: a trench of one runs within ``corridor_m`` of a trench of the
  other for at least ``min_corridor_m`` (one road works site, one excavator reach). The
  stretches within ``clearance_m`` of the trenches' own end nodes are not counted: two
  trenches leaving one manhole are close there by construction, and a crossing at more
  than ~30° stays below ``min_corridor_m``.

The defaults: 5 m is a street's width between the two kerbs' utility strips (German
practice lays telecoms under the pavement on either side); 20 m of it is a run along the
street, not a crossing; 15 m is a manhole's surroundings; 10 m is one building's footprint.

Geometry is measured in local metres (``netops.geo.metres_per_degree``) on points sampled
every ``SAMPLE_M`` along each trench: distances are exact to SAMPLE_M / 2, which the
thresholds above allow for.

Finding the pairs: comparing every sample with every other within ``corridor_m`` (a KD-tree
over 22 million samples at 100x) cost most of the audit's time and gigabytes of pairs of
samples of one trench. So a spatial index first picks the trenches that can take part: each
trench less its end stretches (no counted sample lies there, nor a sample one could be near),
cut into pieces of at most PIECE_M, a KD-tree over their midpoints, the exact distance of
the pieces; about a fifth of the trenches of the seeded city remain, and only their samples
are compared. The index is scipy's ``cKDTree`` (scipy is a dependency already, shapely is
not, and the samples need its point queries anyway).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, replace
from typing import Hashable, Iterable, Mapping, Sequence

import numpy as np
from scipy.spatial import cKDTree

from netops.geo import metres_per_degree

SAMPLE_M = 2.0

Coords = Sequence[Sequence[float]]  # GeoJSON positions [[lon, lat], ...]


@dataclass(frozen=True)
class RiskRules:
    corridor_m: float = 5.0  # 0 turns the corridor rule off
    min_corridor_m: float = 20.0
    clearance_m: float = 15.0
    same_building_m: float = 10.0
    # latitude of the local projection; None: the mean of the lines measured. A planner
    # fixes it, so a pair of trenches measures the same in whatever set it is checked
    lat0: float | None = None


DEFAULT_RULES = RiskRules()


@dataclass(frozen=True)
class SharedRisk:
    """One thing two routes have in common: ``kind`` trench | node | building | corridor;
    ``elements`` the trench/node identities of each side (one for trench and node, one
    per route for building and corridor); ``metres`` the corridor's length. ``route``: for
    what a route shares with itself (``self_risks``), which of the pair it is (1 or 2)."""

    kind: str
    elements: tuple[Hashable, ...]
    metres: float = 0.0
    route: int | None = None


def _projector(lat0: float):
    per_lon, per_lat = metres_per_degree(lat0)
    return lambda coords: np.asarray(coords, dtype=float)[:, :2] * (per_lon, per_lat)


def _positions(points: Iterable[Sequence[float]]) -> np.ndarray:
    """[lon, lat] (and maybe an altitude) positions as an array of rows [lon, lat]."""
    points = list(points)
    try:
        return np.array(points, dtype=float)[:, :2]
    except ValueError:  # some with an altitude, some without
        return np.array([p[:2] for p in points], dtype=float)


class _Polylines:
    """Every trench's vertices in local metres, in one array: trench ``i`` has the vertices
    ``xy[starts[i]:starts[i + 1]]``; ``segments`` are the index pairs of consecutive ones."""

    def __init__(self, xy: np.ndarray, counts: np.ndarray):
        self.xy, self.counts = xy, counts
        self.starts = np.concatenate([[0], np.cumsum(counts)])
        last = np.zeros(len(xy), dtype=bool)
        last[self.starts[1:] - 1] = True
        self.segment_a = np.flatnonzero(~last)  # a segment runs from vertex a to a + 1
        self.segment_owner = np.repeat(np.arange(len(counts)), counts - 1)
        delta = xy[self.segment_a + 1] - xy[self.segment_a]
        self.segment_length = np.hypot(delta[:, 0], delta[:, 1])
        # metres of the line before each segment, and each line's length, summed segment by
        # segment from its start as a loop over one line would (the same rounding)
        position = np.arange(len(self.segment_a)) - np.repeat(self.starts[:-1] - np.arange(len(counts)), counts - 1)
        self.before = np.zeros(len(self.segment_a))
        self.length = np.zeros(len(counts))
        for step in range(int(position.max(initial=-1)) + 1):
            at = position == step
            self.before[at] = self.length[self.segment_owner[at]]
            self.length[self.segment_owner[at]] += self.segment_length[at]

    def samples(self, trenches: np.ndarray, step: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(points, owner, weight per trench, metres along the owner) of ``trenches``
        (ascending indices): each line's first vertex, then every segment's points at
        ``k / steps`` of the way for k = 1..steps, steps = ceil(length / step) (at least one),
        in line order; the weight is the length each point stands for. The same
        floating-point operations as one line at a time."""
        chosen = np.zeros(len(self.counts), dtype=bool)
        chosen[trenches] = True
        segments = np.flatnonzero(chosen[self.segment_owner])
        a = self.xy[self.segment_a[segments]]
        delta = self.xy[self.segment_a[segments] + 1] - a
        steps = np.maximum(1, np.ceil(self.segment_length[segments] / step).astype(np.int64))
        of_segment = np.repeat(np.arange(len(segments)), steps)
        k = np.arange(len(of_segment)) - np.repeat(np.cumsum(steps) - steps, steps) + 1
        fraction = k / steps[of_segment]
        along = a[of_segment] + fraction[:, None] * delta[of_segment]
        per_line = 1 + np.bincount(self.segment_owner[segments], weights=steps, minlength=len(self.counts))[trenches]
        per_line = per_line.astype(np.int64)
        first = np.concatenate([[0], np.cumsum(per_line)[:-1]])
        points = np.empty((int(per_line.sum()), 2))
        is_first = np.zeros(len(points), dtype=bool)
        is_first[first] = True
        points[first] = self.xy[self.starts[trenches]]
        points[~is_first] = along
        metres = np.zeros(len(points))
        metres[~is_first] = self.before[segments][of_segment] + fraction * self.segment_length[segments][of_segment]
        weight = self.length[trenches] / np.maximum(per_line - 1, 1)
        return points, np.repeat(trenches, per_line), weight, metres

    def clipped(self, keep_from: np.ndarray, keep_to: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(start, end, owner, metres along the owner at start and at end) of the straight
        pieces of each line between ``keep_from`` metres from its start and ``keep_to``
        metres from its end (measured along the line)."""
        length, before, owner = self.segment_length, self.before, self.segment_owner
        low = np.maximum(before, keep_from[owner])
        high = np.minimum(before + length, self.length[owner] - keep_to[owner])
        kept = low <= high
        a = self.xy[self.segment_a[kept]]
        delta = self.xy[self.segment_a[kept] + 1] - a
        span = np.where(length[kept] > 0, length[kept], 1.0)
        start = a + ((low[kept] - before[kept]) / span)[:, None] * delta
        end = a + ((high[kept] - before[kept]) / span)[:, None] * delta
        return start, end, owner[kept], low[kept], high[kept]


#: the corridor search finds candidate trench pairs on pieces of at most this length first
PIECE_M = 20.0
#: floating-point allowance of the candidate search (it must never miss a pair)
SLACK_M = 0.01


def _pair_index(points: np.ndarray) -> cKDTree:
    """A KD-tree for ``query_pairs``: split at the midpoint of the cell, not the median, and
    cells not shrunk to their points. The pairs within a distance are the same set whatever
    the tree's shape (only their order differs, and every caller sorts them with
    ``np.unique``); at 100x it builds and queries 3.6 M samples in 1.5 s instead of 2.7 s."""
    return cKDTree(points, balanced_tree=False, compact_nodes=False)


def _point_to_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = b - a
    squared = (d * d).sum(axis=1)
    t = np.clip(((p - a) * d).sum(axis=1) / np.where(squared > 0, squared, 1.0), 0.0, 1.0)
    nearest = a + t[:, None] * d
    return np.hypot(*(p - nearest).T)


def _segment_distance(p0: np.ndarray, p1: np.ndarray, q0: np.ndarray, q1: np.ndarray) -> np.ndarray:
    """Distance between the segments p0-p1 and q0-q1 (rows), 0 where they cross."""
    def side(a, b, c):
        return np.sign((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))

    crossing = (side(p0, p1, q0) * side(p0, p1, q1) < 0) & (side(q0, q1, p0) * side(q0, q1, p1) < 0)
    apart = np.minimum.reduce([_point_to_segment(p0, q0, q1), _point_to_segment(p1, q0, q1),
                               _point_to_segment(q0, p0, p1), _point_to_segment(q1, p0, p1)])
    return np.where(crossing, 0.0, apart)


class _Stretches:
    """Stretches of lines, as intervals on one axis: line ``i``'s metre ``m`` is at
    ``offset[i] + m``, the lines apart by more than any slack."""

    def __init__(self, lines: _Polylines, owner: np.ndarray, low: np.ndarray, high: np.ndarray):
        self.offset = np.concatenate([[0.0], np.cumsum(lines.length + 10 * PIECE_M)])[:-1]
        order = np.argsort(self.offset[owner] + low, kind="stable")
        starts, ends = (self.offset[owner] + low)[order], (self.offset[owner] + high)[order]
        ends = np.maximum.accumulate(ends)  # overlapping stretches merged into their union
        self.starts, self.ends = starts, ends

    def holds(self, owner: np.ndarray, metres: np.ndarray) -> np.ndarray:
        """Whether each point (line, metres along it) lies on a stretch (within SLACK_M)."""
        at = self.offset[owner] + metres
        last = np.searchsorted(self.starts, at + SLACK_M, side="right") - 1
        return (last >= 0) & (self.ends[np.maximum(last, 0)] >= at - SLACK_M)


def _candidates(lines: _Polylines, end_xy: np.ndarray, rules: RiskRules, group_of: np.ndarray | None
                ) -> tuple[np.ndarray, _Stretches]:
    """Trenches that may take part in a corridor, and the stretches of them where: the
    lines, less the stretches no sample counted can lie on, that come within ``corridor_m``
    of another's (a spatial index on pieces of at most PIECE_M, then the exact distance of
    the pieces: a sample and its partner lie on two pieces that close). A sample counts only
    beyond ``clearance_m`` of the ends of both trenches, so its partner lies beyond
    ``clearance_m - corridor_m`` of its own ends, and so beyond that distance along the
    line, less how far the line's first or last vertex is from an end node."""
    reach = max(rules.clearance_m - rules.corridor_m, 0.0)
    xy, starts = lines.xy, lines.starts
    offset = [np.hypot(*(xy[vertex][:, None, :] - end_xy).transpose(2, 0, 1)).min(axis=1)
              for vertex in (starts[:-1], starts[1:] - 1)]
    keep_from, keep_to = (np.maximum(reach - o - SLACK_M, 0.0) for o in offset)
    start, end, owner, low, high = lines.clipped(keep_from, keep_to)
    pieces = np.maximum(1, np.ceil(np.hypot(*(end - start).T) / PIECE_M).astype(np.int64))
    of_segment = np.repeat(np.arange(len(start)), pieces)
    k = np.arange(len(of_segment)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    delta = end[of_segment] - start[of_segment]
    p0 = start[of_segment] + (k / pieces[of_segment])[:, None] * delta
    p1 = start[of_segment] + ((k + 1) / pieces[of_segment])[:, None] * delta
    owner = owner[of_segment]
    span = (high - low)[of_segment]
    piece_from = low[of_segment] + k / pieces[of_segment] * span
    piece_to = low[of_segment] + (k + 1) / pieces[of_segment] * span
    near = _pair_index((p0 + p1) / 2).query_pairs(rules.corridor_m + PIECE_M + SLACK_M, output_type="ndarray")
    i, j = near[:, 0], near[:, 1]
    keep = owner[i] != owner[j]
    if group_of is not None:
        keep &= group_of[owner[i]] != group_of[owner[j]]
    i, j = i[keep], j[keep]
    close = _segment_distance(p0[i], p1[i], p0[j], p1[j]) <= rules.corridor_m + SLACK_M
    near = np.unique(np.concatenate([i[close], j[close]]))
    return np.unique(owner[near]), _Stretches(lines, owner[near], piece_from[near], piece_to[near])


def corridors(lines: Mapping[Hashable, Coords], ends: Mapping[Hashable, tuple[Sequence[float], Sequence[float]]],
              rules: RiskRules = DEFAULT_RULES, *, groups: Mapping[Hashable, Hashable] | None = None,
              ) -> dict[tuple[Hashable, Hashable], float]:
    """Pairs of trenches (keys of ``lines``) running within ``corridor_m`` of each other for at
    least ``min_corridor_m``: ``{(a, b): metres}``, the metres of ``a`` near ``b`` (``a``
    before ``b`` in the order of ``lines``). ``ends`` gives each trench's two end points
    ([lon, lat]): a stretch within ``clearance_m`` of an end of either trench is not
    counted. With ``groups``, only pairs of trenches of different groups count.

    Measured on the samples (every SAMPLE_M) on the stretches of trenches that may take part
    (``_candidates``, a spatial index on the lines): the others have no sample that could
    count nor one that a counted sample could be near, so leaving them out changes nothing."""
    if rules.corridor_m <= 0 or len(lines) < 2:
        return {}
    keys = list(lines)
    vertices = _positions(itertools.chain.from_iterable(lines[k] for k in keys))
    project = _projector(float(np.mean(np.ascontiguousarray(vertices[:, 1]))) if rules.lat0 is None else rules.lat0)
    counts = np.fromiter((len(lines[k]) for k in keys), dtype=np.int64, count=len(keys))
    polylines = _Polylines(project(vertices), counts)
    end_xy = project([end[:2] for k in keys for end in ends[k]]).reshape(len(keys), 2, 2)  # trench, end, xy
    group_of = None
    if groups is not None:
        group_ids = {g: n for n, g in enumerate(dict.fromkeys(groups[k] for k in keys))}
        group_of = np.array([group_ids[groups[k]] for k in keys])
    trenches, stretches = _candidates(polylines, end_xy, rules, group_of)
    if len(trenches) < 2:
        return {}
    points_a, owner_a, weight, metres = polylines.samples(trenches, SAMPLE_M)
    on_stretch = stretches.holds(owner_a, metres)
    points_a, owner_a = points_a[on_stretch], owner_a[on_stretch]
    weights_a = np.zeros(len(keys))
    weights_a[trenches] = weight
    weights_a = weights_a[owner_a]
    own_ends = np.hypot(*(points_a[:, None, :] - end_xy[owner_a]).transpose(2, 0, 1)).min(axis=1)
    useful = own_ends >= max(rules.clearance_m - rules.corridor_m, 0.0) - SLACK_M  # see _candidates
    points_a, owner_a, weights_a = points_a[useful], owner_a[useful], weights_a[useful]
    pairs = _pair_index(points_a).query_pairs(rules.corridor_m, output_type="ndarray")
    if not len(pairs):
        return {}
    a, b = owner_a[pairs[:, 0]], owner_a[pairs[:, 1]]
    keep = a != b
    if group_of is not None:
        keep &= group_of[a] != group_of[b]
    pairs, a, b = pairs[keep], a[keep], b[keep]
    # each sample of the lower trench near the higher one counts once (one int64 key each)
    lower, higher = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    sample = np.where(a < b, pairs[:, 0], pairs[:, 1]).astype(np.int64)
    n_keys, n_points = len(keys), len(points_a)
    code = np.unique((lower * n_keys + higher) * n_points + sample)
    pair_code, sample = code // n_points, code % n_points
    lower, higher = pair_code // n_keys, pair_code % n_keys
    xy = points_a[sample][:, None, :]
    clearance = np.minimum(np.hypot(*(xy - end_xy[lower]).transpose(2, 0, 1)).min(axis=1),
                           np.hypot(*(xy - end_xy[higher]).transpose(2, 0, 1)).min(axis=1))
    counted = clearance > rules.clearance_m
    pair_ids, inverse = np.unique(pair_code[counted], return_inverse=True)
    metres = np.bincount(inverse.ravel(), weights=weights_a[sample[counted]], minlength=len(pair_ids))
    pair_ids = np.stack([pair_ids // n_keys, pair_ids % n_keys], axis=1)
    return {(keys[i], keys[j]): round(float(m), 1)
            for (i, j), m in zip(pair_ids.tolist(), metres.tolist()) if m >= rules.min_corridor_m}


def building_keys(sites: Mapping[Hashable, tuple[float, float]], rules: RiskRules = DEFAULT_RULES
                  ) -> dict[Hashable, Hashable]:
    """Site -> its building: sites (lat, lon) within ``same_building_m`` of each other share
    one (the smallest site key of the group, in sorted order), the rest are their own."""
    keys = sorted(sites, key=repr)
    if not keys:
        return {}
    lat0 = float(np.mean([sites[k][0] for k in keys]))
    project = _projector(lat0)
    tree = cKDTree(project([[sites[k][1], sites[k][0]] for k in keys]))
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in sorted(tree.query_pairs(rules.same_building_m)):
        a, b = root(i), root(j)
        parent[max(a, b)] = min(a, b)
    return {key: keys[root(i)] for i, key in enumerate(keys)}


@dataclass(frozen=True)
class RouteView:
    """A route as the risk rules see it: its trenches (id -> geometry, end points) and the
    route nodes it passes (id -> building, None for a manhole); optionally both in the
    order the route passes them (``passes``, ``trench_passes``: every pass, repeats kept)."""

    trenches: Mapping[Hashable, Coords]
    trench_ends: Mapping[Hashable, tuple[Coords, Coords]]
    nodes: Mapping[Hashable, Hashable | None]
    passes: tuple[Hashable, ...] = ()
    trench_passes: tuple[Hashable, ...] = ()


@functools.lru_cache(maxsize=1 << 16, typed=True)  # the planners sort the same identities again and again
def stable_key(value: Hashable) -> str:
    """A sort key for an element's identity that is the same in every process (``repr`` of
    a frozenset follows the hash seed)."""
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(stable_key(v) for v in value)) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(stable_key(v) for v in value) + ")"
    return repr(value)


def in_measuring_order(lines: Mapping[Hashable, Coords], key=lambda k: k) -> dict:
    """``lines`` in one fixed order (``corridors`` measures a pair from its first trench's
    samples): a pair of trenches measures the same whichever routes it is checked in."""
    return {k: lines[k] for k in sorted(lines, key=lambda k: stable_key(key(k)))}


def shared_risks(first: RouteView, second: RouteView, own: Iterable[Hashable] = (),
                 rules: RiskRules = DEFAULT_RULES) -> list[SharedRisk]:
    """Everything two routes of one site share, in the order trench, node, building,
    corridor. Nodes of the ``own`` buildings (the site's) are shared freely."""
    own = set(own)
    risks = [SharedRisk("trench", (t,)) for t in sorted(set(first.trenches) & set(second.trenches), key=stable_key)]
    both = set(first.nodes) & set(second.nodes)
    risks += [SharedRisk("node", (n,)) for n in sorted(both, key=stable_key) if first.nodes[n] not in own]

    def buildings(route: RouteView) -> dict[Hashable, Hashable]:
        return {b: n for n, b in route.nodes.items() if b is not None and b not in own and n not in both}

    in_first, in_second = buildings(first), buildings(second)
    risks += [SharedRisk("building", (in_first[b], in_second[b]))
              for b in sorted(in_first.keys() & in_second.keys(), key=stable_key)]
    lines = {(1, t): c for t, c in first.trenches.items() if t not in second.trenches}
    lines = in_measuring_order(lines | {(2, t): c for t, c in second.trenches.items() if t not in first.trenches},
                     key=lambda k: k[1])
    ends = {(1, t): first.trench_ends[t] for (side, t) in lines if side == 1}
    ends |= {(2, t): second.trench_ends[t] for (side, t) in lines if side == 2}
    for ((side_a, a), (_, b)), metres in corridors(lines, ends, rules, groups={k: k[0] for k in lines}).items():
        risks.append(SharedRisk("corridor", (a, b) if side_a == 1 else (b, a), metres))
    return risks


def self_risks(route: RouteView, own: Iterable[Hashable] = (), rules: RiskRules = DEFAULT_RULES
               ) -> list[SharedRisk]:
    """What one route shares with itself, a route doubling back (needs ``passes``): a route
    node passed twice, a trench passed twice, a building entered twice, two of its trenches
    in one street corridor; in that order. The ``own`` buildings (the site's) are free."""
    own = set(own)
    passes = [n for i, n in enumerate(route.passes) if i == 0 or route.passes[i - 1] != n]
    counted = {n: passes.count(n) for n in passes}
    risks = [SharedRisk("node", (n,)) for n, c in sorted(counted.items(), key=lambda kv: stable_key(kv[0]))
             if c > 1 and route.nodes.get(n) not in own]
    counted = {t: route.trench_passes.count(t) for t in route.trench_passes}
    risks = [SharedRisk("trench", (t,)) for t, c in sorted(counted.items(), key=lambda kv: stable_key(kv[0])) if c > 1] + risks
    entered: dict[Hashable, list[Hashable]] = {}  # building -> the node of each entry
    for i, n in enumerate(passes):
        building = route.nodes.get(n)
        if building is not None and building not in own and (i == 0 or route.nodes.get(passes[i - 1]) != building):
            entered.setdefault(building, []).append(n)
    risks += [SharedRisk("building", (nodes[0], nodes[1])) for b, nodes in sorted(entered.items(), key=lambda kv: stable_key(kv[0]))
              if len(nodes) > 1]
    lines = in_measuring_order(route.trenches)
    for (a, b), metres in corridors(lines, {t: route.trench_ends[t] for t in lines}, rules).items():
        risks.append(SharedRisk("corridor", (a, b), metres))
    return risks


def pair_risks(first: RouteView, second: RouteView, own: Iterable[Hashable] = (),
               rules: RiskRules = DEFAULT_RULES, *,
               own_risks: tuple[list[SharedRisk] | None, list[SharedRisk] | None] = (None, None)
               ) -> list[SharedRisk]:
    """The one rule for a site's two routes, for every planner (``plan connect
    --redundant``, the redundant batch and its exact program, the fixes): everything that
    keeps them from being redundant. What they share (``shared_risks``), then what each
    shares with itself (``self_risks``: doubling back, running along itself), tagged with
    its route (1, 2). ``own_risks``: each route's self risks where the caller has them
    already (``None``: measured here); a side that is no walked route (a site's
    weaknesses, the fixes' other side) has none: ``[]``."""
    risks = shared_risks(first, second, own, rules)
    for number, (view, known) in enumerate(zip((first, second), own_risks), start=1):
        mine = self_risks(view, own, rules) if known is None else known
        risks += [replace(risk, route=number) for risk in mine]
    return risks


def plant_risk_groups(trenches: Mapping[int, tuple[Coords, int, int]],
                      nodes: Mapping[int, tuple[float, float, int | None]],
                      rules: RiskRules = DEFAULT_RULES) -> list[tuple[str, frozenset[int]]]:
    """The plant's shared risks of more than one element, for the audits: ``("corridor",
    {trench, trench})`` for two trenches in one street corridor, ``("building", {node,
    ...})`` for the route nodes of one building (a site's several entries, two sites in
    one building). ``trenches``: id -> (geometry, a-node, b-node); ``nodes``: id -> (lat,
    lon, site id or None)."""
    position = {n: [lon, lat] for n, (lat, lon, _) in nodes.items()}
    lines = {t: (geometry if len(geometry) >= 2 else [position[a], position[b]])
             for t, (geometry, a, b) in sorted(trenches.items())}
    ends = {t: (position[a], position[b]) for t, (_, a, b) in trenches.items()}
    groups = [("corridor", frozenset(pair)) for pair in corridors(lines, ends, rules)]
    sites = {site: (lat, lon) for lat, lon, site in nodes.values() if site is not None}
    building = building_keys(sites, rules)
    members: dict[Hashable, set[int]] = {}
    for node, (_, _, site) in nodes.items():
        if site is not None:
            members.setdefault(building[site], set()).add(node)
    groups += [("building", frozenset(m)) for _, m in sorted(members.items(), key=lambda kv: repr(kv[0]))
               if len(m) > 1]
    return groups
