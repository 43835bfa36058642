"""A lower bound on the joint plan's routing cost, so every batch plan can say how far from
the optimum it is at most (its *proven gap*).

Where it is small enough (sites × candidate arcs), the bound is the **LP relaxation** of
the directed multi-commodity formulation, solved by HiGHS (``scipy.optimize.linprog``)::

    min  Σ_a fixed_a · y_a + Σ_t Σ_a per_cable_a · x_t,a
    s.t. x_t a unit flow from site t to the root,  x_t,a ≤ y_a,  0 ≤ x, y ≤ 1

with an arc per direction of every candidate edge: the optimal plan is a tree towards
the root, using each trench in one direction, so this relaxes it. On the benchmark's grid
cities it equals the optimum. Larger batches get the better of two bounds:

**Column generation** (``generated_lp_bound``): the same LP with each site's flow limited
to the arcs around its planned path (not through another site, and without the site's
own entry toll, a constant that would only worsen HiGHS' scaling); the restricted LP's
duals price the arcs per site, and each site's cheapest way on the *whole* network at
per-cable + its prices (the Lagrangian dual, valid as long as no arc's prices sum above
its fixed cost) gives the bound; ways leaving their region add arcs for the next round,
until none does or ``GENERATION_ROUNDS`` are done. The fixed cost the duals leave on an
arc goes to the sites that left over it. Then **re-pricing** (``_repriced``) climbs the
same Lagrangian dual from those prices: each round part of every used arc's fixed cost
moves to the sites whose cheapest ways used it.

**Spare strand and closure capacity** (a cable with k free pairs carries k sites, a
closure with room for j pair joins 2j arc uses) is priced in the same Lagrangian: a price
mu_c >= 0 per limit, paid on each of its arcs a site's cheapest way crosses, minus
mu_c · (its limit) for the whole batch. Re-pricing lowers it by subgradient steps and
raises an overfilled one by the exact step along it (the riders' losses off it). Any
mu >= 0 keeps the bound valid for the capacitated plan; without it the bound could not
rise above the uncapacitated optimum, below what the capacity-repaired plan must cost.
Each arc of a limit also has its **linking row** Σ_t x_t,a <= L_a · y_a (L_a =
min(limit, sites): a dug limited arc carries at most L_a sites, none unless dug), priced by
a *shared* price every site crossing the arc pays, which takes L_a times itself of the
arc's fixed cost: where as many sites want the arc as it can carry, re-pricing moves its
cost there, so each pays fixed / L_a however many want it (``_Capacities``).

Every limit is a count (simplex iterations, rounds), never a time, so the same batch
gets the same bound on a loaded machine and a quiet one. Each site's search stops at
the cost of its way of the round before (about 5 % of the city instead of all of it).
On the seeded city's 123 Kitas with spare strands: BENCHMARKS.md.

**Dual ascent**:

* The optimal plan is a tree towards the root (each site on its cheapest way through what
  is dug), so every set S of nodes holding a site but not the root is left by at least
  one dug arc of the tree. Dual ascent gives such cuts values u_S with, for every arc a,
  the sum of u_S over the cuts it leaves at most its fixed cost: sum u_S is then a lower
  bound on the fixed costs. Each site's set grows over the arcs whose fixed cost the cuts
  have used up; the set with the fewest leaving arcs is raised first, by the smallest
  slack on its border.
* Each cut is owned by the site it grew from; giving that site the cut's value as an
  extra price on the cut's arcs (w_t), every site's cheapest way to the root under
  per-cable + w_t costs is a lower bound on its share, and their sum (the Lagrangian
  dual of the multi-commodity formulation) bounds the whole plan: at least the
  fixed-cost bound plus every site's cheapest per-cable way.

Fast (one growth per site, one Dijkstra per site at the end), and valid for any order.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Sequence

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix, vstack
from scipy.sparse.csgraph import dijkstra

if TYPE_CHECKING:
    from planning.batch import SteinerInstance

_EPS = 1e-9
LP_MAX_VARIABLES = 400_000  # arcs x (sites + 1) up to which the LP relaxation is solved
# Every limit is a count of work, never of time: the same batch gets the same bound on a
# loaded machine and on a quiet one.
LP_MAX_ITERATIONS = 2_000_000  # simplex iterations per LP (HiGHS); an LP stopped there adds no bound
GENERATION_ROUNDS = 1  # column generation rounds
REGION_HOPS = 2  # a site's LP columns: its planned path and the arcs this many hops around it
REPRICE_ROUNDS = 60  # re-pricing rounds after column generation (one bounded Dijkstra per site each)
# the part of an arc's price that follows the sites using it, per round: large steps first, grown
# after a round that raised the bound, shrunk after one that did not (on the city's 123 Kitas this
# reaches in 60 rounds what a fixed 0.05 reached in 100: BENCHMARKS.md, session 13)
REPRICE_DAMPING_START, REPRICE_DAMPING_MIN, REPRICE_DAMPING_MAX = 0.5, 0.01, 0.6
REPRICE_DAMPING_GROW, REPRICE_DAMPING_SHRINK = 1.2, 0.6
REPRICE_MU_STEP = 0.25  # the capacity prices' first subgradient step, in Polyak steps (1 slowed the climb)
REPRICE_PATIENCE = 5  # rounds without a better bound before the capacity prices' step is halved
REPRICE_TARGET = 0.002  # ... stopping early once the plan is proven within 0.2 %
RAISE_EVERY = 5  # re-pricing rounds per exact raise of the overfilled limits' prices (``_raised``)
RAISE_MAX = 200.0  # EUR: a raise's searches stop this far above a site's way (a smaller raise stays valid)


@dataclass(frozen=True)
class LowerBound:
    value_eur: float
    method: str
    # a Lagrangian bound's site -> how much its planned path costs above its cheapest way at the
    # bound's prices: where the plan is furthest from the relaxation (``planning.batch`` searches there)
    excess_eur: dict[int, float] = field(default_factory=dict, compare=False)

    def gap_pct(self, cost_eur: float) -> float:
        """How much ``cost_eur`` is above the optimum at most, in % of the bound."""
        if self.value_eur <= 0:
            return 0.0 if cost_eur <= _EPS else float("inf")
        return max(0.0, 100 * (cost_eur - self.value_eur) / self.value_eur)


def dual_ascent_bound(instance: SteinerInstance, terminals: list[int] | None = None) -> LowerBound:
    """A lower bound on ``instance.cost`` of any plan connecting ``terminals`` (default all)."""
    terminals = list(instance.terminals if terminals is None else terminals)
    if not terminals:
        return LowerBound(0.0, "dual ascent")
    m, n = len(instance.tail), instance.n
    # directed arcs: 2i runs tail -> head, 2i + 1 head -> tail, each with the edge's fixed cost
    arc_tail = np.empty(2 * m, dtype=np.int64)
    arc_head = np.empty(2 * m, dtype=np.int64)
    arc_tail[0::2], arc_tail[1::2] = instance.tail, instance.head
    arc_head[0::2], arc_head[1::2] = instance.head, instance.tail
    slack = np.repeat(instance.fixed, 2).astype(float)
    order = np.argsort(arc_tail, kind="stable")
    starts = np.searchsorted(arc_tail[order], np.arange(n + 1))
    out_arcs = [order[starts[v]:starts[v + 1]].tolist() for v in range(n)]

    inside = {t: {t} for t in terminals}
    border = {t: set() for t in terminals}  # arcs leaving the site's set
    raises: dict[int, list[tuple[np.ndarray, float]]] = {t: [] for t in terminals}
    done: set[int] = set()

    def grow(t: int, frontier: list[int]) -> None:
        """Add ``frontier`` and everything it reaches over used-up arcs to t's set."""
        members, edge = inside[t], border[t]
        while frontier:
            v = frontier.pop()
            if v == instance.root:
                done.add(t)
                return
            for arc in out_arcs[v]:
                head = int(arc_head[arc])
                if head in members:
                    edge.discard(arc)
                elif slack[arc] <= _EPS:
                    members.add(head)
                    frontier.append(head)
                else:
                    edge.add(arc)
        for arc in [a for a in edge if int(arc_head[a]) in members]:
            edge.discard(arc)

    for t in terminals:
        grow(t, [t])
    sites = set(terminals)
    heap = [(len(border[t]), t) for t in terminals if t not in done]
    heapq.heapify(heap)
    waiting: list[int] = []  # sets holding another growing site's set: that one grows first
    while heap or waiting:
        if not heap:
            heap = [(len(border[t]), t) for t in waiting if t not in done]
            heapq.heapify(heap)
            waiting.clear()
            continue
        size, t = heapq.heappop(heap)
        if t in done:
            continue
        cut = np.fromiter(border[t], dtype=np.int64, count=len(border[t]))
        if not len(cut):  # cut off from the root: no plan connects it
            done.add(t)
            continue
        saturated = cut[slack[cut] <= _EPS]
        if len(saturated):  # used up by other sites' cuts meanwhile: grow over them first
            new = [int(h) for h in arc_head[saturated] if int(h) not in inside[t]]
            inside[t].update(new)
            grow(t, new)
        elif any(u not in done and (t not in inside[u] or u < t) for u in (inside[t] & sites) - {t}):
            waiting.append(t)
            continue
        elif size != len(cut):
            pass  # re-queued below with its current size
        else:
            delta = float(slack[cut].min())
            slack[cut] -= delta
            raises[t].append((cut, delta))
            saturated = cut[slack[cut] <= _EPS]
            new = [int(h) for h in arc_head[saturated] if int(h) not in inside[t]]
            inside[t].update(new)
            grow(t, new)
        if t in done:
            heap.extend((len(border[u]), u) for u in waiting if u not in done)
            heapq.heapify(heap)
            waiting.clear()
        else:
            heapq.heappush(heap, (len(border[t]), t))

    # each site's cheapest way to the root, priced per cable plus the cuts it owns
    base = np.repeat(instance.per_cable, 2).astype(float)
    total = 0.0
    for t in terminals:
        weights = base.copy()
        for cut, delta in raises[t]:
            weights[cut] += delta
        graph = csr_matrix((np.maximum(weights, _EPS), (arc_tail, arc_head)), shape=(n, n))
        distance = dijkstra(graph, directed=True, indices=t)[instance.root]
        if not np.isfinite(distance):
            return LowerBound(float("inf"), "dual ascent (a site cannot reach the root)")
        total += float(distance)
    return LowerBound(total - instance.toll * len(terminals), "dual ascent")


def lp_bound(instance: SteinerInstance, terminals: list[int],
             capacities: Sequence[tuple[Sequence[int], int]] = ()) -> LowerBound | None:
    """The directed LP relaxation's optimum (within ``capacities``: at most so many sites
    on any of the arcs, a cable's strand pairs), or None when it is too large or not solved."""
    m, n, k = len(instance.tail), instance.n, len(terminals)
    arcs = 2 * m
    if arcs * (k + 1) > LP_MAX_VARIABLES or not k:
        return None
    tails = np.concatenate([instance.tail, instance.head])
    heads = np.concatenate([instance.head, instance.tail])
    site, arc = np.divmod(np.arange(arcs * k), arcs)  # flow variable arcs + site * arcs + arc
    flow_var = arcs + site * arcs + arc
    # conservation: out - in = +1 at the site, -1 at the root (one block of n rows per site)
    conservation = coo_matrix(
        (np.concatenate([np.ones(arcs * k), -np.ones(arcs * k)]),
         (np.concatenate([site * n + tails[arc], site * n + heads[arc]]), np.concatenate([flow_var, flow_var]))),
        shape=(n * k, arcs * (k + 1)))
    supply = np.zeros((k, n))
    supply[np.arange(k), terminals] = 1.0
    supply[:, instance.root] -= 1.0
    # coupling: x_t,a - y_a <= 0
    coupling = coo_matrix(
        (np.concatenate([np.ones(arcs * k), -np.ones(arcs * k)]),
         (np.concatenate([np.arange(arcs * k), np.arange(arcs * k)]), np.concatenate([flow_var, arc]))),
        shape=(arcs * k, arcs * (k + 1)))
    # capacity: the sites' flow over a cable's arcs, both directions, at most its pairs
    rows = capacity_rows(instance, capacities)
    riding = [(row, arcs + t * arcs + a + d) for row, (cable, _) in enumerate(rows)
              for t in range(k) for a in cable.tolist() for d in (0, m)]
    capacity = coo_matrix((np.ones(len(riding)), ([r for r, _ in riding], [c for _, c in riding])),
                          shape=(len(rows), arcs * (k + 1)))
    aggregate = _aggregate_rows(m, k, rows)
    # the site's own entry toll is a constant of its flow: left out, the LP stays well scaled
    # and HiGHS' tolerances act on the plan's euros, not on k tolls (``exact.optimal_cost``)
    cost = np.concatenate([np.tile(instance.fixed, 2)] + [
        np.tile(instance.per_cable - instance.toll * ((instance.tail == t) | (instance.head == t)), 2)
        for t in terminals])
    blocks = [coupling, capacity] + ([aggregate] if aggregate is not None else [])
    result = linprog(cost, A_ub=vstack(blocks).tocsr(),
                     b_ub=np.concatenate([np.zeros(arcs * k), [float(limit) for _, limit in rows],
                                          np.zeros(aggregate.shape[0] if aggregate is not None else 0)]),
                     A_eq=conservation.tocsr(), b_eq=supply.ravel(), bounds=(0, 1), method="highs",
                     options={"maxiter": LP_MAX_ITERATIONS})
    if result.status != 0:
        return None
    return LowerBound(float(result.fun), "LP relaxation")


def _aggregate_rows(m: int, k: int, rows: list[tuple[np.ndarray, int]]) -> coo_matrix | None:
    """Aggregate linking, Σ_t x_t,a <= min(limit, k) · y_a for every directed arc a of a
    limit (``capacity_rows``): valid, since an arc not dug carries nothing and a dug one
    at most its limit's sites; stronger than x_t,a <= y_a alone, which lets k sites share
    an arc dug 1/k (on the city's cuts the LP splits flows over a cable's mid-span parts,
    each re-entry and new closure paid in part). Columns as in ``lp_bound``; None: no limits."""
    arcs = 2 * m
    bound_of = _riders_at_most(m, k, rows)
    if not bound_of:
        return None
    linked = np.asarray(sorted(bound_of), dtype=np.int64)
    sites = np.arange(k)
    row = np.concatenate([np.repeat(np.arange(len(linked)), k), np.arange(len(linked))])
    col = np.concatenate([(arcs + sites[None, :] * arcs + linked[:, None]).ravel(), linked])
    val = np.concatenate([np.ones(k * len(linked)), -np.asarray([bound_of[d] for d in linked], dtype=float)])
    return coo_matrix((val, (row, col)), shape=(len(linked), arcs * (k + 1)))


def _riders_at_most(m: int, k: int, rows: list[tuple[np.ndarray, int]]) -> dict[int, int]:
    """Directed arc -> how many of the ``k`` sites it carries at most, min(limit, k), for
    every arc of a limit (``capacity_rows``): the linking rows Σ_t x_t,a <= that · y_a."""
    bound_of: dict[int, int] = {}
    for cable, limit in rows:
        for a in cable.tolist():
            for d in (a, a + m):
                bound_of[d] = min(bound_of.get(d, k), limit)
    return bound_of


def lower_bound(instance: SteinerInstance, terminals: list[int] | None = None,
                paths: dict[int, list[int]] | None = None,
                capacities: Sequence[tuple[Sequence[int], int]] = ()) -> LowerBound:
    """The LP relaxation where it is small enough to solve whole; else the better of dual
    ascent and, given the plan's ``paths``, the LP by column generation and re-pricing.
    ``capacities``: (arcs, sites at most) per cable, ``planning.strands.strand_capacities``."""
    terminals = list(instance.terminals if terminals is None else terminals)
    whole = lp_bound(instance, terminals, capacities)
    if whole is not None:
        return whole
    bounds = [dual_ascent_bound(instance, terminals)]
    if paths:
        generated = generated_lp_bound(instance, terminals, paths, capacities)
        if generated is not None:
            bounds.append(generated)
    return max(bounds, key=lambda b: b.value_eur)


def _directed(instance: SteinerInstance) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([instance.tail, instance.head]), np.concatenate([instance.head, instance.tail]))


def capacity_rows(instance: SteinerInstance, capacities: Sequence[tuple[Sequence[int], int]]
                  ) -> list[tuple[np.ndarray, int]]:
    """``capacities`` ((arcs, sites at most) per cable) with one arc per candidate edge: the
    two halves of a split parallel candidate are crossed together, and a site riding a
    cable takes one pair however many arcs the cable has."""
    rows = []
    for arcs, limit in capacities:
        first = {}
        for arc in arcs:
            first.setdefault(instance.origin[arc], int(arc))
        rows.append((np.asarray(sorted(first.values()), dtype=np.int64), int(limit)))
    return rows


def _directed_ways(instance: SteinerInstance, paths: dict[int, list[int]]) -> dict[int, list[int]]:
    """The plan's paths (undirected arcs, site to root) as directed arcs (``_directed``)."""
    m = len(instance.tail)
    return {t: [arc if forward else arc + m for arc, (_, forward) in zip(arcs, instance.walk(t, arcs))]
            for t, arcs in paths.items()}


@dataclass
class _Capacities:
    """Strand and closure capacities in the Lagrangian: a price ``mu`` per limit, paid on
    each of its arcs a site's way crosses (a cable's strand edge once, a closure's arcs in
    and out), and ``limit`` arc uses it allows (``capacity_rows``); and a ``shared`` price
    per directed arc of a limit, the multiplier of its linking row Σ_t x_t,a <= L_a · y_a
    (L_a = ``riders_at_most``, min(limit, sites)): every site crossing the arc pays it, and
    it takes L_a times itself of the arc's fixed cost, not once per site: a dug limited
    arc's cost is shared by at most L_a riders, so each may be charged fixed / L_a. Valid
    while Σ_t prices_t,a + L_a · shared_a <= fixed_a (the y_a column's reduced cost)."""

    member: csr_matrix  # limit x undirected arc: 1 where the arc belongs to the limit
    limit: np.ndarray
    mu: np.ndarray
    riders_at_most: np.ndarray  # per directed arc: L_a, 0 where no limit holds the arc
    shared: np.ndarray  # per directed arc: the linking row's price, 0 where riders_at_most is

    @classmethod
    def of(cls, instance: SteinerInstance, capacities, sites: int | None = None) -> "_Capacities":
        rows = capacity_rows(instance, capacities)
        m = len(instance.tail)
        member = csr_matrix((np.ones(sum(len(arcs) for arcs, _ in rows)),
                             (np.repeat(np.arange(len(rows)), [len(arcs) for arcs, _ in rows]),
                              np.concatenate([arcs for arcs, _ in rows] or [np.zeros(0, dtype=np.int64)]))),
                            shape=(len(rows), m))
        riders_at_most = np.zeros(2 * m)
        for arc, most in _riders_at_most(m, len(instance.terminals) if sites is None else sites, rows).items():
            riders_at_most[arc] = most
        return cls(member, np.asarray([limit for _, limit in rows], dtype=float), np.zeros(len(rows)),
                   riders_at_most, np.zeros(2 * m))

    def with_mu(self, mu: np.ndarray) -> "_Capacities":
        return replace(self, mu=mu)

    def with_shared(self, shared: np.ndarray) -> "_Capacities":
        return replace(self, shared=np.where(self.riders_at_most > 0, np.maximum(shared, 0.0), 0.0))

    def prices(self, m: int) -> np.ndarray:
        extra = self.member.T @ self.mu if len(self.mu) else np.zeros(m)
        return np.concatenate([extra, extra]) + self.shared

    def riders(self, m: int, ways: dict[int, list[int]]) -> np.ndarray:
        """Arc uses of each limit on ``ways`` (a cable's: the sites riding it)."""
        uses = np.bincount(np.concatenate([np.asarray(w, dtype=np.int64) for w in ways.values()] or
                                          [np.zeros(0, dtype=np.int64)]) % m, minlength=m)
        return self.member @ uses


def _lagrangian(instance: SteinerInstance, terminals: list[int], prices: dict[int, np.ndarray],
                capacity: _Capacities, ways: dict[int, list[int]]) -> tuple[float, dict[int, list[int]]]:
    """Σ_t (site t's cheapest way to the root at per-cable + prices[t] + the cables' capacity
    prices) − Σ_c mu_c · limit_c on the whole network: a lower bound whenever prices are >= 0
    and sum to at most each arc's fixed cost, and mu >= 0; and each site's way (directed
    arcs). ``ways`` (each site's way before) bound the searches: a way's cost at the new
    prices is at least the cheapest's, so Dijkstra stops there (about 5 % of the city)."""
    graph, perm, arc_of = _directed_template(instance)
    m = len(instance.tail)
    base = np.concatenate([instance.per_cable, instance.per_cable]) + capacity.prices(m)
    total, found = -float(capacity.mu @ capacity.limit), {}
    for t in terminals:
        weights = np.maximum(base + prices[t], _EPS)
        limit = float(weights[ways[t]].sum()) * (1 + 1e-9) + 1.0
        graph.data = weights[perm]
        distance, preds = dijkstra(graph, directed=True, indices=t, return_predecessors=True, limit=limit)
        if not np.isfinite(distance[instance.root]):  # not a way of t's (a caller's slip): search it all
            distance, preds = dijkstra(graph, directed=True, indices=t, return_predecessors=True)
        if not np.isfinite(distance[instance.root]):
            return float("inf"), {}
        total += float(distance[instance.root])
        way, node = [], instance.root
        while node != t:
            parent = int(preds[node])
            way.append(arc_of[parent, node])
            node = parent
        found[t] = way[::-1]
    return total, found


def _directed_template(instance: SteinerInstance) -> tuple[csr_matrix, np.ndarray, dict[tuple[int, int], int]]:
    """Every directed arc in one CSR matrix whose data each search overwrites (``perm``: CSR
    slot -> arc), and (tail, head) -> arc; made once per instance."""
    cached = instance.__dict__.get("_directed_template")
    if cached is None:
        tails, heads = _directed(instance)
        slots = csr_matrix((np.arange(1, len(tails) + 1, dtype=float), (tails, heads)),
                           shape=(instance.n, instance.n))
        arc_of = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(tails.tolist(), heads.tolist()))}
        cached = instance.__dict__["_directed_template"] = (slots, slots.data.astype(np.int64) - 1, arc_of)
    return cached


def generated_lp_bound(instance: SteinerInstance, terminals: list[int], paths: dict[int, list[int]],
                       capacities: Sequence[tuple[Sequence[int], int]] = (), rounds: int = GENERATION_ROUNDS,
                       reprice_rounds: int = REPRICE_ROUNDS) -> LowerBound | None:
    """The LP relaxation by column generation, for batches too large to state whole: each
    site's flow may use the arcs around its planned path (``paths``: undirected arcs per
    site, the heuristic's plan, within ``capacities``); the restricted LP's duals price
    every arc per site, the Lagrangian on the *whole* network turns them into a valid
    bound, and the arcs of any site's cheaper way outside its region join the next round.
    When no site's way leaves its region, the bound is the (uncapacitated) LP relaxation's
    value. Then re-pricing (``_repriced``) climbs further and prices the strand pairs."""
    m = len(instance.tail)
    tails, heads = _directed(instance)
    fixed = np.concatenate([instance.fixed, instance.fixed])
    per_cable = np.concatenate([instance.per_cable, instance.per_cable])
    # the limits and their arcs' linking rows are priced by re-pricing: as rows of the restricted
    # LP the limits cost 10x its time, the linking rows 3x for 0.03 % of bound on the city
    capacity = _Capacities.of(instance, capacities, len(terminals))
    site = np.zeros(instance.n, dtype=bool)
    site[instance.terminals] = True
    incident: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(zip(instance.tail.tolist(), instance.head.tolist())):
        incident.setdefault(a, []).append(i)
        incident.setdefault(b, []).append(i)
    region = {}
    for t in terminals:  # its path and the arcs within REGION_HOPS of it, not through another site
        nodes = {int(x) for a in paths[t] for x in (instance.tail[a], instance.head[a])}
        for _ in range(REGION_HOPS):
            nodes |= {int(x) for v in nodes if v == t or not site[v]
                      for a in incident[v] for x in (instance.tail[a], instance.head[a])}
        region[t] = {a for v in nodes if v == t or not site[v] for a in incident[v]
                     if (not site[instance.tail[a]] or instance.tail[a] == t)
                     and (not site[instance.head[a]] or instance.head[a] == t)}
    escapers: dict[int, set[int]] = {}  # arc outside the regions -> sites whose way used it
    ways = _directed_ways(instance, paths)
    best, converged = None, False  # converged: no site's way left its region (the LP relaxation's value)
    for _ in range(rounds):
        union = np.asarray(sorted(set().union(*region.values())), dtype=np.int64)
        directed = np.concatenate([union, union + m])
        y_index = np.full(2 * m, -1)
        y_index[directed] = np.arange(len(directed))
        cost, eq, ub = [fixed[directed]], [], []  # eq/ub: (row, column, value) blocks
        columns, eq_rows, ub_rows, b_eq, owners = len(directed), 0, 0, [], []
        for t in terminals:
            own = np.asarray(sorted(region[t]), dtype=np.int64)
            arcs = np.concatenate([own, own + m])
            nodes = np.unique(np.concatenate([tails[arcs], heads[arcs], [t, instance.root]]))
            cols = columns + np.arange(len(arcs))
            eq += [(eq_rows + np.searchsorted(nodes, tails[arcs]), cols, 1.0),
                   (eq_rows + np.searchsorted(nodes, heads[arcs]), cols, -1.0)]
            ub += [(ub_rows + np.arange(len(arcs)), cols, 1.0), (ub_rows + np.arange(len(arcs)), y_index[arcs], -1.0)]
            # the site's own entry toll is a constant of its flow: left out, the LP stays well scaled
            cost.append(per_cable[arcs] - instance.toll * ((tails[arcs] == t) | (heads[arcs] == t)))
            supply = np.zeros(len(nodes))
            supply[np.searchsorted(nodes, t)] += 1.0
            supply[np.searchsorted(nodes, instance.root)] -= 1.0
            b_eq.append(supply)
            owners.append((t, arcs))
            columns += len(arcs)
            eq_rows += len(nodes)
            ub_rows += len(arcs)
        # HiGHS' dual tolerance 1e-6, not 1e-7: any duals give a valid bound (the Lagrangian below is exact
        # at whatever prices), and on the city's 123 Kitas the LP takes ~3.0 s CPU, not ~3.9 (BENCHMARKS.md)
        result = linprog(np.concatenate(cost), A_ub=_sparse(ub, ub_rows, columns), b_ub=np.zeros(ub_rows),
                         A_eq=_sparse(eq, eq_rows, columns), b_eq=np.concatenate(b_eq), bounds=(0, None),
                         method="highs-ds", options={"maxiter": LP_MAX_ITERATIONS, "dual_feasibility_tolerance": 1e-6})
        if result.status != 0:
            break
        marginals = np.maximum(0.0, -result.ineqlin.marginals)
        prices, start = {}, 0
        for t, arcs in owners:
            prices[t] = np.zeros(2 * m)
            prices[t][arcs] = marginals[start:start + len(arcs)]
            start += len(arcs)
        # what the duals leave of an arc's fixed cost goes to the sites whose way left their
        # region over it before (a site sees an arc outside its region at cable cost otherwise)
        spent = sum(prices.values())
        for arc, sites in sorted(escapers.items()):
            share = max(0.0, fixed[arc] - spent[arc]) / len(sites)
            for t in sorted(sites):
                prices[t][arc] += share
        # HiGHS' duals are exact to its tolerance: scale any arc a hair over its fixed cost back
        spent = sum(prices.values())
        over = spent > fixed
        if over.any():
            scale = np.where(over, fixed / np.maximum(spent, _EPS), 1.0)
            for t in terminals:
                prices[t] *= scale
        value, found = _lagrangian(instance, terminals, prices, capacity, ways)
        if best is None or value > best:
            best, best_prices, ways = value, prices, found
        escaped = False
        for t, way in found.items():
            outside = {a for a in way if a % m not in region[t]}
            if outside:
                escaped = True
                region[t] |= {a % m for a in outside}
                for a in outside:
                    escapers.setdefault(a, set()).add(t)
        if not escaped:
            converged = True
            break
    if best is None or not np.isfinite(best):
        return None
    upper = instance.cost(paths) + instance.toll * len(terminals)
    repriced, repriced_prices, repriced_capacity = _repriced(instance, terminals, best_prices, capacity, ways, fixed,
                                                             upper, reprice_rounds, best)
    if repriced > best:
        method, best, best_prices, capacity = ("Lagrangian relaxation (column generation, re-priced)", repriced,
                                               repriced_prices, repriced_capacity)
    elif converged:
        method = "LP relaxation (column generation)"
    else:  # the restricted LP's duals, priced on the whole network: a Lagrangian bound, not the LP's value
        method = "Lagrangian relaxation (column generation, unconverged)"
    return LowerBound(best - instance.toll * len(terminals), method,
                      _excess(instance, terminals, best_prices, capacity, paths))


def _excess(instance: SteinerInstance, terminals: list[int], prices: dict[int, np.ndarray],
            capacity: _Capacities, paths: dict[int, list[int]]) -> dict[int, float]:
    """Per site, its planned path's cost at the Lagrangian's ``prices`` above its cheapest
    way's (the plan's share of the gap a site's own way explains; 0 where the plan's way is
    a cheapest one)."""
    graph, perm, _ = _directed_template(instance)
    m = len(instance.tail)
    base = np.concatenate([instance.per_cable, instance.per_cable]) + capacity.prices(m)
    ways = _directed_ways(instance, paths)
    excess = {}
    for t in terminals:
        weights = np.maximum(base + prices[t], _EPS)
        on = float(weights[ways[t]].sum())
        graph.data = weights[perm]
        cheapest = dijkstra(graph, directed=True, indices=t, limit=on * (1 + 1e-9) + 1.0)[instance.root]
        excess[t] = max(0.0, on - float(cheapest))
    return excess


def _sparse(blocks: list[tuple[np.ndarray, np.ndarray, float]], rows: int, columns: int) -> csr_matrix:
    row = np.concatenate([r for r, _, _ in blocks])
    col = np.concatenate([c for _, c, _ in blocks])
    val = np.concatenate([np.full(len(r), v) for r, _, v in blocks])
    return csr_matrix((val, (row, col)), shape=(rows, columns))


def _raised(instance: SteinerInstance, sites: list[int], current: np.ndarray, capacity: _Capacities,
            ways: dict[int, list[int]]) -> np.ndarray:
    """Capacity prices raised where ``ways`` overfill a limit, each by the exact step that
    maximises the Lagrangian along it alone: the sites riding it would pay
    ``loss`` more on their cheapest way off it, so raising its price by d keeps those with
    loss > d on it; d is the smallest that leaves no more than the limit on it (the
    limit-th largest loss, counted in arc uses). Sites not riding it do not mind a raise."""
    m = len(instance.tail)
    mu = capacity.mu.copy()
    riders = capacity.riders(m, ways)
    overfilled = np.flatnonzero(riders > capacity.limit)
    if not len(overfilled):
        return mu
    graph, perm, _ = _directed_template(instance)
    base = np.concatenate([instance.per_cable, instance.per_cable]) + capacity.prices(m)
    undirected = {t: np.asarray(ways[t], dtype=np.int64) % m for t in sites}
    for row in overfilled.tolist():
        arcs = capacity.member[row].indices
        of_limit = np.zeros(m, dtype=bool)
        of_limit[arcs] = True
        losses = []  # (loss, arc uses) of each site riding the limit
        for i, t in enumerate(sites):
            uses = int(of_limit[undirected[t]].sum())
            if not uses:
                continue
            weights = np.maximum(base + current[i], _EPS)
            on = float(weights[ways[t]].sum())
            weights[arcs] = weights[arcs + m] = np.inf
            graph.data = weights[perm]
            off = dijkstra(graph, directed=True, indices=t, limit=on + RAISE_MAX)[instance.root]
            losses.append((min(off - on, RAISE_MAX), uses))
        losses.sort(reverse=True)
        kept = 0.0
        for loss, uses in losses:
            kept += uses
            if kept > capacity.limit[row]:
                mu[row] += max(0.0, loss)
                break
    return mu


def _repriced(instance: SteinerInstance, terminals: list[int], prices: dict[int, np.ndarray],
              capacity: _Capacities, ways: dict[int, list[int]], fixed: np.ndarray, upper: float,
              rounds: int, start: float = -np.inf) -> tuple[float, dict[int, np.ndarray], _Capacities]:
    """Re-pricing after column generation, an ascent of the Lagrangian dual: each round a
    part (the damping) of the fixed cost of every arc the sites' cheapest ways used moves to
    those sites, evenly (they found it too cheap; the others pay less), the rest of every
    arc's price stays (a mix of two valid splits is valid); the damping starts large
    (``REPRICE_DAMPING_START``), grows after a round that beat the best value so far (``start``:
    the column generation's) and shrinks after one that did not; and each limit's
    capacity price goes down by a subgradient step where fewer sites ride it than it has
    room for, sized by ``REPRICE_MU_STEP`` times the distance to ``upper`` (the plan, tolls included) and halved
    when ``REPRICE_PATIENCE`` rounds bring nothing, and every ``RAISE_EVERY`` rounds up
    where more do, by the exact step along it (``_raised``). The best
    Lagrangian value, with the prices that gave it; early once it proves ``upper`` within
    ``REPRICE_TARGET``."""
    sites = list(terminals)
    m = len(instance.tail)
    tolls = instance.toll * len(sites)
    current = np.stack([prices[t] for t in sites])
    mu, step, since, damping = capacity.mu.copy(), REPRICE_MU_STEP, 0, REPRICE_DAMPING_START
    best = value = -np.inf
    best_current, best_capacity = None, capacity
    most = capacity.riders_at_most
    for round_ in range(rounds):
        if upper - tolls <= (1 + REPRICE_TARGET) * (best - tolls):
            break
        # (site row, directed arc) of every way, once per pair: no dense sites x arcs table per round
        rider, arc = np.divmod(np.unique(np.concatenate(
            [i * 2 * m + np.asarray(ways[t], dtype=np.int64) for i, t in enumerate(sites)]
            or [np.zeros(0, dtype=np.int64)])), 2 * m)
        count = np.bincount(arc, minlength=2 * m)
        used = count > 0
        # a limited arc as many sites want as it can carry, or more: its whole cost moves to the
        # shared price, fixed / L_a from every rider (a mix of valid splits stays valid)
        crowded = used & (most > 0) & (count >= most)
        columns = np.flatnonzero(used)
        current[:, columns] *= 1 - damping
        own = ~crowded[arc]
        current[rider[own], arc[own]] += damping * fixed[arc[own]] / count[arc[own]]
        shared = capacity.shared.copy()
        shared[used] *= 1 - damping
        shared[crowded] += damping * fixed[crowded] / most[crowded]
        capacity = capacity.with_shared(shared)
        if len(mu):
            slope = capacity.riders(m, ways) - capacity.limit
            slope[(mu <= 0) & (slope < 0)] = 0.0
            slope[slope > 0] = 0.0  # raised exactly below
            if slope.any() and np.isfinite(value):
                mu = np.maximum(0.0, mu + step * max(upper - value, 0.0) / float(slope @ slope) * slope)
            if round_ % RAISE_EVERY == 0:
                mu = _raised(instance, sites, current, capacity.with_mu(mu), ways)
        capacity = capacity.with_mu(mu)
        value, ways = _lagrangian(instance, sites, {t: current[i] for i, t in enumerate(sites)}, capacity, ways)
        if value > max(best, start):
            damping = min(REPRICE_DAMPING_MAX, damping * REPRICE_DAMPING_GROW)
        else:
            damping = max(REPRICE_DAMPING_MIN, damping * REPRICE_DAMPING_SHRINK)
        if value > best:
            best, since, best_capacity, best_current = value, 0, capacity, current.copy()
        else:
            since += 1
            if since >= REPRICE_PATIENCE:
                step, since = step / 2, 0
    best_prices = prices if best_current is None else {t: best_current[i] for i, t in enumerate(sites)}
    return best, best_prices, best_capacity
