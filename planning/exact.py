"""The exact joint plan of a small instance, as a mixed-integer program (HiGHS via scipy).

Multi-commodity flow formulation of fixed-charge network design: one unit of flow per
site from the site to the root (behind every PoP)::

    min   Σ_e fixed_e · y_e  +  Σ_t Σ_arcs per_cable_e · x_t,arc
    s.t.  flow conservation of x_t at every node, for every site t
          x_t,(u→v) + x_t,(v→u) ≤ y_e        (a site only uses trenches that are dug)
          y_e ∈ {0, 1},  x ≥ 0

Given y, each site's flow is its shortest path over the dug trenches, so x is integral
without being declared so. Size grows with sites × edges: for checking the heuristic on
small instances (benchmarks, tests, ``netops plan batch --exact``), not for the city.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from netops.errors import NetopsError
from planning.batch import SteinerInstance
from planning.bounds import capacity_rows

MAX_VARIABLES = 200_000
NODE_LIMIT = 50_000  # branch-and-bound nodes: a count of work, so the answer does not depend on the load


class TooLargeError(NetopsError):
    """The instance is too large for the exact solver."""


def optimal_cost(instance: SteinerInstance, terminals: list[int] | None = None,
                 node_limit: int = NODE_LIMIT, capacities: list[tuple[list[int], int]] = ()) -> float:
    """The least joint cost connecting ``terminals`` (default all) to the root.
    ``capacities``: (arcs, limit) pairs, at most ``limit`` sites using any of ``arcs`` (a
    cable's spare strand pairs, a closure's pair joins: ``planning.strands.strand_capacities``);
    a site riding a split parallel candidate crosses both its halves and takes one pair."""
    terminals = instance.terminals if terminals is None else terminals
    m = len(instance.tail)
    k = len(terminals)
    n_vars = m + 2 * m * k
    if n_vars > MAX_VARIABLES:
        raise TooLargeError(f"{k} sites × {m} candidate edges is too large for the exact solver")
    # x_t: 2m arcs per site: arc i forward (tail -> head) at 2i, backward at 2i + 1
    def x(t: int, arc: int, backward: bool) -> int:
        return m + t * 2 * m + 2 * arc + int(backward)

    rows, cols, vals, lower, upper = [], [], [], [], []
    row = 0
    for t, terminal in enumerate(terminals):
        # conservation: out - in = +1 at the site, -1 at the root, 0 elsewhere
        for arc in range(m):
            a, b = int(instance.tail[arc]), int(instance.head[arc])
            for var, frm, to in ((x(t, arc, False), a, b), (x(t, arc, True), b, a)):
                rows += [row + frm, row + to]
                cols += [var, var]
                vals += [1.0, -1.0]
        supply = np.zeros(instance.n)
        supply[terminal] += 1.0
        supply[instance.root] -= 1.0
        lower += list(supply)
        upper += list(supply)
        row += instance.n
        # capacity: both directions together at most the trench's y
        for arc in range(m):
            rows += [row, row, row]
            cols += [x(t, arc, False), x(t, arc, True), arc]
            vals += [1.0, 1.0, -1.0]
            lower.append(-np.inf)
            upper.append(0.0)
            row += 1
    for arcs, limit in capacity_rows(instance, capacities):
        for t in range(k):
            for arc in arcs.tolist():
                rows += [row, row]
                cols += [x(t, arc, False), x(t, arc, True)]
                vals += [1.0, 1.0]
        lower.append(-np.inf)
        upper.append(float(limit))
        row += 1
    matrix = coo_matrix((vals, (rows, cols)), shape=(row, n_vars)).tocsr()
    # A site's own entry toll is a constant of its flow: left out, the objective is the plan's
    # real cost, so HiGHS' relative gap is one of the plan's euros. With it in (k tolls, each
    # ten times the whole network's price) a solution 309 EUR above the optimum passed as
    # optimal (the kita-081 city cut, session 10). Flow into its own site then costs its
    # cable only, so a cycle through it saves nothing: the optimum is the same.
    cost = np.concatenate([instance.fixed] + [
        np.repeat(instance.per_cable - instance.toll * ((instance.tail == t) | (instance.head == t)), 2)
        for t in terminals])
    # capacities can make a fractional split of a site's flow cheaper: then x is integral too
    integrality = np.concatenate([np.ones(m), np.full(2 * m * k, 1.0 if capacities else 0.0)])
    result = milp(cost, constraints=LinearConstraint(matrix, lower, upper), integrality=integrality,
                  bounds=Bounds(0, 1), options={"node_limit": node_limit, "mip_rel_gap": 1e-6})
    if result.status != 0 or result.x is None:
        raise NetopsError(f"exact solver did not finish: {result.message}")
    return float(result.fun)
