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
"""

from __future__ import annotations

from dataclasses import dataclass
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


DEFAULT_RULES = RiskRules()


@dataclass(frozen=True)
class SharedRisk:
    """One thing two routes have in common: ``kind`` trench | node | building | corridor;
    ``elements`` the trench/node identities of each side (one for trench and node, one
    per route for building and corridor); ``metres`` the corridor's length."""

    kind: str
    elements: tuple[Hashable, ...]
    metres: float = 0.0


def _projector(lat0: float):
    per_lon, per_lat = metres_per_degree(lat0)
    return lambda coords: np.asarray(coords, dtype=float)[:, :2] * (per_lon, per_lat)


def _samples(xy: np.ndarray) -> tuple[np.ndarray, float]:
    """Points every ~SAMPLE_M along a polyline (metres) and the length each stands for."""
    points = [xy[:1]]
    total = 0.0
    for a, b in zip(xy, xy[1:]):
        length = float(np.hypot(*(b - a)))
        total += length
        steps = max(1, int(np.ceil(length / SAMPLE_M)))
        t = (np.arange(1, steps + 1) / steps)[:, None]
        points.append(a + t * (b - a))
    sampled = np.concatenate(points)
    return sampled, (total / max(len(sampled) - 1, 1))


def corridors(lines: Mapping[Hashable, Coords], ends: Mapping[Hashable, tuple[Sequence[float], Sequence[float]]],
              rules: RiskRules = DEFAULT_RULES, *, groups: Mapping[Hashable, Hashable] | None = None,
              ) -> dict[tuple[Hashable, Hashable], float]:
    """Pairs of trenches (keys of ``lines``) running within ``corridor_m`` of each other for at
    least ``min_corridor_m``: ``{(a, b): metres}``, the metres of ``a`` near ``b`` (``a``
    before ``b`` in the order of ``lines``). ``ends`` gives each trench's two end points
    ([lon, lat]): a stretch within ``clearance_m`` of an end of either trench is not
    counted. With ``groups``, only pairs of trenches of different groups count."""
    if rules.corridor_m <= 0 or len(lines) < 2:
        return {}
    keys = list(lines)
    lat0 = float(np.mean([p[1] for k in keys for p in lines[k]]))
    project = _projector(lat0)
    owner, points, weights = [], [], []
    for i, key in enumerate(keys):
        sampled, weight = _samples(project(lines[key]))
        owner.append(np.full(len(sampled), i))
        points.append(sampled)
        weights.append(np.full(len(sampled), weight))
    owner_a, points_a, weights_a = np.concatenate(owner), np.concatenate(points), np.concatenate(weights)
    end_xy = np.stack([project([ends[k][0], ends[k][1]]) for k in keys])  # trench, end, xy
    pairs = cKDTree(points_a).query_pairs(rules.corridor_m, output_type="ndarray")
    if not len(pairs):
        return {}
    a, b = owner_a[pairs[:, 0]], owner_a[pairs[:, 1]]
    keep = a != b
    if groups is not None:
        group_ids = {g: n for n, g in enumerate(dict.fromkeys(groups[k] for k in keys))}
        group_of = np.array([group_ids[groups[k]] for k in keys])
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
    route nodes it passes (id -> building, None for a manhole)."""

    trenches: Mapping[Hashable, Coords]
    trench_ends: Mapping[Hashable, tuple[Coords, Coords]]
    nodes: Mapping[Hashable, Hashable | None]


def shared_risks(first: RouteView, second: RouteView, own: Iterable[Hashable] = (),
                 rules: RiskRules = DEFAULT_RULES) -> list[SharedRisk]:
    """Everything two routes of one site share, in the order trench, node, building,
    corridor. Nodes of the ``own`` buildings (the site's) are shared freely."""
    own = set(own)
    risks = [SharedRisk("trench", (t,)) for t in sorted(set(first.trenches) & set(second.trenches), key=repr)]
    both = set(first.nodes) & set(second.nodes)
    risks += [SharedRisk("node", (n,)) for n in sorted(both, key=repr) if first.nodes[n] not in own]

    def buildings(route: RouteView) -> dict[Hashable, Hashable]:
        return {b: n for n, b in route.nodes.items() if b is not None and b not in own and n not in both}

    in_first, in_second = buildings(first), buildings(second)
    risks += [SharedRisk("building", (in_first[b], in_second[b]))
              for b in sorted(in_first.keys() & in_second.keys(), key=repr)]
    lines = {(1, t): c for t, c in first.trenches.items() if t not in second.trenches}
    lines |= {(2, t): c for t, c in second.trenches.items() if t not in first.trenches}
    ends = {(1, t): first.trench_ends[t] for (side, t) in lines if side == 1}
    ends |= {(2, t): second.trench_ends[t] for (side, t) in lines if side == 2}
    for ((side_a, a), (_, b)), metres in corridors(lines, ends, rules, groups={k: k[0] for k in lines}).items():
        risks.append(SharedRisk("corridor", (a, b) if side_a == 1 else (b, a), metres))
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
