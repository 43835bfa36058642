"""Large-neighbourhood search on a joint batch plan: a few sites re-planned by an integer program.

The heuristic (``planning.batch``) is within a hair of the exact optimum on small cuts,
but a cut hides what happens across it. Here the whole plan stays as it is except for a
*neighbourhood*: a few sites near each other (across district borders), the candidate
network around their paths. Their paths are re-solved as one exact integer program
(``planning.exact``'s multi-commodity flow formulation, HiGHS via scipy) with the rest
of the plan fixed: a trench the other sites dig costs them nothing more than its
cables, a strand pair or closure join the others hold is gone. A neighbourhood's new
paths are kept when the whole plan gets strictly cheaper and keeps every limit, the
MILP's capacity rows and the caller's own check of the routes (``acceptable``: the batch
checks each way and every cable and closure on the routes it would store).

Every limit of the search is a count of work (neighbourhoods, branch-and-bound nodes) or a
proven relative gap (``rel_gap``; the plain batch's focus stops at 0.5 %),
never a clock: the same plan and city give the same result on any machine load.
On the seeded city's 123 Kitas one pass takes 0.88 % off the batch's plan, in minutes of
CPU (BENCHMARKS.md), so the batch runs it only when asked (``plan batch --thorough``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix
from scipy.spatial import cKDTree

from planning.bounds import capacity_rows
from planning.network import CandidateNetwork, local_xy
from planning.strands import limit_counter

if TYPE_CHECKING:  # planning.batch runs the search on request
    from planning.batch import SteinerInstance

NODE_LIMIT = 2_000  # branch-and-bound nodes per neighbourhood
EXACT_GAP = 1e-9  # relative MIP gap a neighbourhood's program is solved to: proven optimal
MAX_VARIABLES = 120_000  # a neighbourhood this large is skipped
GROUP_SITES = 6  # a neighbourhood: a site and its nearest others (by distance, whatever their district)
RADIUS_M = 300.0  # ... and the candidate network this close to their paths


def _path_from_flow(instance: SteinerInstance, arcs: np.ndarray, flow: np.ndarray, start: int) -> list[int] | None:
    """The path from ``start`` to the root within the arcs carrying a site's flow
    (``flow``: per arc, forward and backward), fewest arcs first (a zero-cost cycle the
    solver may add is left out: a sub-path never takes more of any limit)."""
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, arc in enumerate(arcs.tolist()):
        a, b = int(instance.tail[arc]), int(instance.head[arc])
        if flow[2 * i] > 0.5:
            out[a].append((b, arc))
        if flow[2 * i + 1] > 0.5:
            out[b].append((a, arc))
    via = {start: None}
    frontier = [start]
    while frontier and instance.root not in via:
        nxt = []
        for node in frontier:
            for head, arc in sorted(out[node]):
                if head not in via:
                    via[head] = (node, arc)
                    nxt.append(head)
        frontier = nxt
    if instance.root not in via:
        return None
    path, node = [], instance.root
    while via[node] is not None:
        node, arc = via[node]
        path.append(arc)
    return path[::-1]  # from the site to the root, as the batch keeps paths


def variables(arcs: int, sites: int) -> int:
    """Columns of a neighbourhood's program: an arc's trench, each site's flow both ways."""
    return arcs + 2 * arcs * sites


def others_usage(instance: SteinerInstance, paths: dict[int, list[int]], group: Sequence[int]) -> np.ndarray:
    """Per arc, the paths of sites outside ``group`` on it."""
    usage = np.zeros(len(instance.fixed), dtype=np.int64)
    members = set(group)
    for t, p in paths.items():
        if t not in members:
            np.add.at(usage, p, 1)
    return usage


def program_key(group: Sequence[int], arcs: np.ndarray, usage: np.ndarray,
                rows: list[tuple[np.ndarray, int]]) -> tuple:
    """All a neighbourhood's program is made of: its sites, its arcs, which of them the
    other sites dig, the room left in each limit on them. Equal keys, equal programs and
    (HiGHS being deterministic) equal results: a program met again is not solved again."""
    inside = np.zeros(len(usage), dtype=bool)
    inside[arcs] = True
    rooms = tuple(limit - int(usage[members].sum()) for members, limit in rows if inside[members].any())
    return tuple(group), arcs.tobytes(), (usage[arcs] > 0).tobytes(), rooms


def solve_neighbourhood(instance: SteinerInstance, usage: np.ndarray, group: Sequence[int],
                        arcs: np.ndarray, rows: list[tuple[np.ndarray, int]],
                        node_limit: int = NODE_LIMIT, rel_gap: float = EXACT_GAP) -> dict[int, list[int]] | None:
    """The cheapest paths of the ``group``'s sites over ``arcs`` (a sub-network holding
    their current paths) with every other site's path fixed (``usage``: ``others_usage``),
    or None when the solver found
    none within ``node_limit`` nodes (one found by then is returned, proven optimal or not:
    the caller judges it). ``rel_gap``: HiGHS stops once its solution is proven within that
    part of the program's optimum (a bound on the work, as the node limit: no clock). ``rows``: ``capacity_rows`` of the instance. The caller keeps
    the program within ``MAX_VARIABLES`` columns (``variables``)."""
    group = list(group)
    m, k = len(arcs), len(group)
    n_vars = variables(m, k)
    nodes = np.unique(np.concatenate([instance.tail[arcs], instance.head[arcs]]))
    local = {int(v): i for i, v in enumerate(nodes.tolist())}
    tails = np.array([local[int(v)] for v in instance.tail[arcs]])
    heads = np.array([local[int(v)] for v in instance.head[arcs]])
    n = len(nodes)
    position = {int(a): i for i, a in enumerate(arcs.tolist())}

    # conservation and arc-use rows, built as arrays (one block per site)
    r, c, v = [], [], []
    lower, upper = [], []
    var = np.arange(m)
    for s, terminal in enumerate(group):
        fwd, bwd = m + s * 2 * m + 2 * var, m + s * 2 * m + 2 * var + 1
        base = s * n
        r += [base + tails, base + heads, base + heads, base + tails]
        c += [fwd, fwd, bwd, bwd]
        v += [np.ones(m), -np.ones(m), np.ones(m), -np.ones(m)]
        supply = np.zeros(n)
        supply[local[terminal]] += 1.0
        supply[local[instance.root]] -= 1.0
        lower.append(supply)
        upper.append(supply)
    row = k * n
    for s in range(k):
        fwd, bwd = m + s * 2 * m + 2 * var, m + s * 2 * m + 2 * var + 1
        rr = row + s * m + var
        r += [rr, rr, rr]
        c += [fwd, bwd, var]
        v += [np.ones(m), np.ones(m), -np.ones(m)]
    row += k * m
    lower.append(np.full(k * m, -np.inf))
    upper.append(np.zeros(k * m))
    limited = np.zeros(m, dtype=bool)
    extra_lo, extra_hi = [], []
    for members, limit in rows:
        inside = [position[a] for a in members.tolist() if a in position]
        if not inside:
            continue
        room = limit - int(usage[members].sum())
        idx = np.asarray(inside)
        limited[idx] = True
        for s in range(k):
            r += [np.full(2 * len(idx), row)]
            c += [np.concatenate([m + s * 2 * m + 2 * idx, m + s * 2 * m + 2 * idx + 1])]
            v += [np.ones(2 * len(idx))]
        extra_lo.append(-np.inf)
        extra_hi.append(float(room))
        row += 1
    lower.append(np.asarray(extra_lo, dtype=float))
    upper.append(np.asarray(extra_hi, dtype=float))
    matrix = coo_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(row, n_vars)).tocsr()
    fixed = np.where(usage[arcs] > 0, 0.0, instance.fixed[arcs])
    # a site's own entry toll is a constant of its path: left out, the program stays well
    # scaled; a way through another site (two tolls) is closed instead
    flow_cost, flow_upper = np.empty(2 * m * k), np.ones(2 * m * k)
    at_site = np.isin(instance.tail[arcs], instance.terminals) | np.isin(instance.head[arcs], instance.terminals)
    for s, terminal in enumerate(group):
        own = (instance.tail[arcs] == terminal) | (instance.head[arcs] == terminal)
        flow_cost[s * 2 * m:(s + 1) * 2 * m] = np.repeat(instance.per_cable[arcs] - instance.toll * own, 2)
        flow_upper[s * 2 * m:(s + 1) * 2 * m] = np.repeat(~at_site | own, 2)
    cost = np.concatenate([fixed, flow_cost])
    integrality = np.concatenate([np.ones(m), np.tile(np.repeat(limited.astype(float), 2), k)])
    result = milp(cost, constraints=LinearConstraint(matrix, np.concatenate(lower), np.concatenate(upper)),
                  integrality=integrality, bounds=Bounds(0, np.concatenate([np.ones(m), flow_upper])),
                  options={"node_limit": node_limit, "mip_rel_gap": rel_gap})
    if result.x is None:
        return None
    found = {}
    for s, terminal in enumerate(group):
        path = _path_from_flow(instance, arcs, result.x[m + s * 2 * m: m + (s + 1) * 2 * m], terminal)
        if path is None:
            return None
        found[terminal] = path
    return found


def node_positions(net: CandidateNetwork, instance: SteinerInstance) -> np.ndarray:
    """Metres east and north (a local projection, for neighbour searches) of every node of
    ``instance`` built from ``net``: a split parallel candidate's mid-node halfway, the root
    nowhere (NaN)."""
    nodes = list(net.graph.nodes)
    lat0 = float(np.mean([d["lat"] for _, d in net.graph.nodes(data=True)])) if nodes else 0.0
    xy = np.full((instance.n, 2), np.nan)
    for i, node in enumerate(nodes):
        xy[i] = local_xy(net.graph.nodes[node]["lat"], net.graph.nodes[node]["lon"], lat0)
    for mid in range(len(nodes), instance.root):
        xy[mid] = xy[sorted(instance.neighbours[mid])].mean(axis=0)
    return xy


def neighbourhood_arcs(instance: SteinerInstance, paths: dict[int, list[int]], group: Sequence[int],
                       positions: np.ndarray, radius_m: float) -> np.ndarray:
    """The arcs a ``group`` of sites is re-planned on: every arc with both ends within
    ``radius_m`` of a node of their paths, their paths, and the whole path of every other
    site passing there (a group site may join it and ride it to its PoP)."""
    tail, head = instance.tail, instance.head
    placed = np.flatnonzero(np.isfinite(positions[:, 0]))
    on = sorted({int(x) for t in group for a in paths[t] for x in (tail[a], head[a])} - {instance.root})
    region = np.zeros(instance.n, dtype=bool)
    for near in cKDTree(positions[placed]).query_ball_point(positions[on], radius_m):
        region[placed[near]] = True
    region[instance.root] = True
    chosen = region[tail] & region[head]
    members = set(group)
    for t, arcs in paths.items():
        if t in members or region[tail[arcs]].any():
            chosen[arcs] = True
    return np.flatnonzero(chosen)


@dataclass
class NeighbourhoodSearch:
    """A pass's plan and its work, in counts: neighbourhoods solved, ``reused`` (the same
    program met before: its solution taken again, ``program_key``), kept (the plan got
    cheaper), skipped (``too_large``: over ``MAX_VARIABLES``; ``unsolved``: no solution
    within the node limit) and ``refused`` (cheaper, but failing the caller's check)."""

    paths: dict[int, list[int]]
    neighbourhoods: int = 0
    solved: int = 0
    reused: int = 0
    kept: int = 0
    too_large: int = 0
    unsolved: int = 0
    refused: int = 0

    def moved(self, before: dict[int, list[int]]) -> list[int]:
        """The sites whose path differs from ``before``."""
        return [t for t in sorted(self.paths) if self.paths[t] != before.get(t)]


def improve_by_neighbourhoods(instance: SteinerInstance, paths: dict[int, list[int]],
                              capacities: Sequence[tuple[Sequence[int], int]], positions: np.ndarray,
                              group_sites: int = GROUP_SITES, radius_m: float = RADIUS_M,
                              node_limit: int = NODE_LIMIT, rel_gap: float = EXACT_GAP,
                              acceptable: Callable[[dict[int, list[int]]], bool] = lambda paths: True,
                              progress: Callable[[int, int], None] | None = None,
                              centres: Sequence[int] | None = None) -> NeighbourhoodSearch:
    """One pass over the sites in order: each site and its ``group_sites - 1`` nearest
    re-planned by an integer program (proven optimal, or within ``rel_gap`` of its optimum,
    or the best found in ``node_limit`` nodes) on the network around their paths (``neighbourhood_arcs``), the
    rest of the plan fixed; kept when the whole plan is strictly cheaper, within every
    limit (or the plan was over one) and ``acceptable`` (the caller's own check of a whole
    plan; a refused neighbourhood keeps its old paths). A plan within its limits never gets
    dearer; the same plan gives the same result. ``progress(done, total)`` after each
    neighbourhood. ``centres``: only the neighbourhoods of these sites, in this order."""
    rows = capacity_rows(instance, capacities)
    within_limits = limit_counter(rows).within
    sites = sorted(paths)
    centred = sites if centres is None else [t for t in dict.fromkeys(centres) if t in paths]
    best, best_cost = {t: list(p) for t, p in paths.items()}, instance.cost(paths)
    search = NeighbourhoodSearch(best, neighbourhoods=len(centred))
    if not centred:
        return search
    valid = within_limits(best.values())  # a plan over its limits takes any plan within them
    results: dict[tuple, dict[int, list[int]] | None] = {}  # program_key -> its solution
    _, nearest = cKDTree(positions[sites]).query(positions[centred], k=min(group_sites, len(sites)))
    for done, near in enumerate(np.atleast_2d(nearest.reshape(len(centred), -1)), start=1):
        group = sorted(sites[int(j)] for j in near)
        arcs = neighbourhood_arcs(instance, best, group, positions, radius_m)
        found = None
        if variables(len(arcs), len(group)) > MAX_VARIABLES:
            search.too_large += 1
        else:
            usage = others_usage(instance, best, group)
            key = program_key(group, arcs, usage, rows)
            if key in results:
                search.reused += 1
            else:
                results[key] = solve_neighbourhood(instance, usage, group, arcs, rows, node_limit, rel_gap)
                search.solved += results[key] is not None
                search.unsolved += results[key] is None
            found = results[key]
        if found is not None:
            candidate = best | found
            cost = instance.cost(candidate)
            if (cost < best_cost - 1e-6 or not valid) and within_limits(candidate.values()):
                if acceptable(candidate):
                    best, best_cost, valid = candidate, cost, True
                    search.kept += 1
                else:
                    search.refused += 1
        if progress is not None:
            progress(done, len(centred))
    search.paths = best
    return search
