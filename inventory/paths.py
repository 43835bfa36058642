"""Ordered paths: a cable's trench segments and a link's cable hops, checked as whole walks.

The rows an import gives for one cable (or one link) are its complete path: they replace
the stored path as a whole (``store._replace_paths``). So each path must walk from one
end to the other, one step at a time::

    cable cab-7   a-end: closure at M1          b-end: site school-1 (its entry node E-1)
      seq 0  seg-1  M1 → M2     starts at the a-end
      seq 1  seg-2  M2 → C3     joins the previous step at M2
      seq 2  seg-3  C3 → E-1    ends at the b-end

    link lnk-9    a-end: a device at pop-city    b-end: a device at school-1
      seq 0  cab-3  pop-city → closure cl-M1    strands within cab-3's strand count
      seq 1  cab-7  closure cl-M1 → school-1

Rules: ``seq`` runs 0, 1, 2, ... without gaps (seq 0 starts at the a-end, as the generator
and the planner number paths); every step joins the previous one; no node (or cable end)
is visited twice, so a path never doubles back; the last step reaches the b-end. A file
that holds only part of a path (a truncated export) is therefore rejected instead of
silently shortening the stored path.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Hashable

from netops.errors import RowProblem

if TYPE_CHECKING:
    from inventory.entities import EntityKind
    from inventory.store import KeyIndex, SourceRow

PathRow = tuple["SourceRow", dict[str, Any]]  # where the row came from, its resolved db row


def check_paths(entity: EntityKind, index: KeyIndex, rows: list[PathRow]) -> list[RowProblem]:
    """Every problem of the paths these rows form, one per broken path at most."""
    by_parent: dict[Any, list[PathRow]] = defaultdict(list)
    for source, db_row in rows:
        by_parent[db_row[entity.path_of]].append((source, db_row))
    walker = _CableWalk(index) if entity.name == "cable_segment" else _LinkWalk(index)
    problems = []
    for parent, path in by_parent.items():
        if not parent:  # a parent this import could not resolve: already reported
            continue
        path.sort(key=lambda r: r[1]["seq"])
        problem = _gap(path) or walker.walk(parent, path)
        if problem:
            source, reason, value = problem
            problems.append(RowProblem(source.file, source.row, reason[0], value, reason[1]))
    return problems


def _gap(path: list[PathRow]):
    for expected, (source, row) in enumerate(path):
        if row["seq"] != expected:
            return source, ("seq", f"seq {expected} is missing: a path runs 0, 1, 2, ... without gaps "
                                   "and a file gives each path it touches whole"), str(row["seq"])
    return None


def _name(index: KeyIndex, kind: str, ident: Any) -> str:
    return "/".join(str(p) for p in index.by_id[kind].get(ident, (ident,)))


class _Walk:
    """Follows a path step by step from its a-end; subclasses say what a step joins."""

    step_field: str  # the file field naming a step (segment, cable)
    step_kind: str

    def __init__(self, index: KeyIndex):
        self.index = index

    def ends(self, parent: Any) -> tuple[set[Hashable], set[Hashable], str, str] | None:
        raise NotImplementedError

    def step_ends(self, step: dict[str, Any]) -> tuple[Hashable, Hashable] | None:
        raise NotImplementedError

    def step_problem(self, step: dict[str, Any]) -> tuple[str, str, str] | None:
        """(field, value, reason) when a step is wrong in itself."""
        return None

    def point_name(self, point: Hashable) -> str:
        raise NotImplementedError

    def walk(self, parent: Any, path: list[PathRow]):
        ends = self.ends(parent)
        if ends is None:
            return None
        a_points, b_points, a_name, b_name = ends
        here, visited = a_points, set(a_points)
        for source, row in path:
            step_id = row[f"{self.step_kind}_id"]
            value = _name(self.index, self.step_kind, step_id)
            step_ends = self.step_ends(row)
            if step_ends is None:  # a step this import could not resolve: already reported
                return None
            problem = self.step_problem(row)
            if problem:
                field_name, bad_value, reason = problem
                return source, (field_name, reason), bad_value
            first, second = step_ends
            if first in here:
                nxt = second
            elif second in here:
                nxt = first
            else:
                where = f"the a-end ({a_name})" if row["seq"] == 0 else "the previous step"
                return source, (self.step_field, f"does not join {where}"), value
            if nxt in visited:
                return source, (self.step_field, f"doubles back to {self.point_name(nxt)}"), value
            here, visited = {nxt}, visited | {nxt}
        if not here & b_points:
            source, row = path[-1]
            return source, (self.step_field, f"the path ends at {self.point_name(next(iter(here)))}, not at the "
                                             f"b-end ({b_name}): a file gives each path it touches whole"), \
                _name(self.index, self.step_kind, row[f"{self.step_kind}_id"])
        return None


class _CableWalk(_Walk):
    """A cable's path: trench segments from the a-end's route node to the b-end's."""

    step_field, step_kind = "segment", "segment"

    def __init__(self, index: KeyIndex):
        super().__init__(index)
        self.cables = _by_id(index, "cable")
        self.segments = _by_id(index, "segment")
        self.closures = _by_id(index, "closure")
        self.site_nodes: dict[Any, set[Any]] = defaultdict(set)
        for node in index.rows["route_node"].values():
            if node["site_id"] is not None:
                self.site_nodes[node["site_id"]].add(node["id"])

    def ends(self, parent):
        cable = self.cables.get(parent)
        if cable is None:
            return None
        a_nodes, a_name = self._end(cable, "a")
        b_nodes, b_name = self._end(cable, "b")
        return a_nodes, b_nodes, a_name, b_name

    def _end(self, cable, end) -> tuple[set[Any], str]:
        site, closure = cable[f"{end}_site_id"], cable[f"{end}_closure_id"]
        if closure is not None:
            node = self.closures.get(closure, {}).get("node_id")
            return {node}, f"closure {_name(self.index, 'closure', closure)}"
        return self.site_nodes.get(site, set()), f"site {_name(self.index, 'site', site)}"

    def step_ends(self, step):
        segment = self.segments.get(step["segment_id"])
        return None if segment is None else (segment["a_node_id"], segment["b_node_id"])

    def point_name(self, point):
        return f"route node {_name(self.index, 'route_node', point)}"


class _LinkWalk(_Walk):
    """A link's hops: cables end to end (sites and closures) from the a-device's site to the
    b-device's, each on strands the cable has."""

    step_field, step_kind = "cable", "cable"

    def __init__(self, index: KeyIndex):
        super().__init__(index)
        self.links = _by_id(index, "link")
        self.interfaces = _by_id(index, "interface")
        self.devices = _by_id(index, "device")
        self.cables = _by_id(index, "cable")

    def _site_of(self, interface_id):
        interface = self.interfaces.get(interface_id)
        device = interface and self.devices.get(interface["device_id"])
        return device and device["site_id"]

    def ends(self, parent):
        link = self.links.get(parent)
        if link is None:
            return None
        a_site, b_site = self._site_of(link["a_interface_id"]), self._site_of(link["b_interface_id"])
        if a_site is None or b_site is None:
            return None
        return ({("site", a_site)}, {("site", b_site)},
                f"site {_name(self.index, 'site', a_site)}", f"site {_name(self.index, 'site', b_site)}")

    def step_ends(self, step):
        cable = self.cables.get(step["cable_id"])
        if cable is None:
            return None
        return self._cable_end(cable, "a"), self._cable_end(cable, "b")

    @staticmethod
    def _cable_end(cable, end):
        site = cable[f"{end}_site_id"]
        return ("site", site) if site is not None else ("closure", cable[f"{end}_closure_id"])

    def step_problem(self, step):
        strands = self.cables[step["cable_id"]]["strands"]
        for field_name in ("strand_a", "strand_b"):
            if step[field_name] > strands:
                return field_name, str(step[field_name]), f"the cable has {strands} strands"
        return None

    def point_name(self, point):
        kind, ident = point
        return f"{kind} {_name(self.index, kind, ident)}"


def _by_id(index: KeyIndex, kind: str) -> dict[Any, dict[str, Any]]:
    return {row["id"]: row for row in index.rows[kind].values()}
