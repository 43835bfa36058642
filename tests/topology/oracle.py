"""A brute-force oracle for the audits, written from the raw inventory rows and the
failure model's wording alone (no graph library, no code from ``topology``):

- a row takes part when it is active (or planned, when a plan is evaluated); a link takes
  part when it and both its devices do;
- a live link depends on its two devices, the cables of its hops, the trench segments of
  those cables, the route nodes at both ends of each such segment, and the closures at the
  ends of its cables with the route nodes they lie in: it is down when any of them fails,
  whatever their recorded status;
- plant that a live link depends on exists physically, whatever its status;
- a site is up when one of its devices reaches a device of a core site over links that
  are up (service), or one of its building entries reaches a core site's entry over
  trenches (physical), or its cable end reaches a core site's over cables (cable); an NTU
  (a company's termination) is no site's device: it keeps no site up, and standing at a
  core site does not make it the core (it reaches the core over its own links); without
  transit, an NTU whose every link is a patch to one device of its own site is up while
  that device is and a patch is (the site's switch carries its own site's lines);
- customers (``topology.customers``): a company is served while its device reaches the core
  and its link is up with an end that reaches the core; a connected home is served while
  its ONT's chain works: the OLT (alive, and reaching the core if it did), every splitter
  (its route node, and the closures there unless it is a cabinet) and every feeder and drop
  cable, which fails with the trench segments of its path, their route nodes, and the
  closures where it ends (and their route nodes).

Failing an element removes it and everything it takes with it, then every question is
answered by searching again from the core. Quadratic, and meant to be.
"""

from __future__ import annotations

from collections import defaultdict, deque

from topology.rows import Inventory

KINDS = ("trench", "node", "closure", "cable", "device", "link", "site")


def _search(starts, neighbours) -> set:
    seen = set(starts)
    queue = deque(seen)
    while queue:
        v = queue.popleft()
        for w in neighbours(v):
            if w not in seen:
                seen.add(w)
                queue.append(w)
    return seen


class Oracle:
    def __init__(self, inv: Inventory, *, include_planned: bool = False, transit: bool = True):
        ok = {"active", "planned"} if include_planned else {"active"}
        self.ok = ok
        self.inv = inv
        self.transit = transit
        self.sites = {s.id: s for s in inv.sites if (s.status or "active") in ok}
        self.core = {s for s, row in self.sites.items() if row.kind == "core"}
        self.devices = {d.id: d for d in inv.devices if (d.status or "active") in ok}
        device_of = {i.id: i.device_id for i in inv.interfaces}
        path = defaultdict(list)
        for row in sorted(inv.cable_segments, key=lambda r: (r.cable_id, r.seq)):
            path[row.cable_id].append(row.segment_id)
        hops = defaultdict(list)
        for hop in inv.hops:
            hops[hop.link_id].append(hop.cable_id)
        segment = {s.id: s for s in inv.segments}
        cable = {c.id: c for c in inv.cables}
        closure_node = {c.id: c.node_id for c in inv.closures}
        self.links = {}  # live link id -> (device a, device b, {(kind, id) it depends on})
        for link in inv.links:
            a, b = device_of.get(link.a_interface_id), device_of.get(link.b_interface_id)
            if (link.status or "active") not in ok or a not in self.devices or b not in self.devices:
                continue
            deps = {("device", a), ("device", b)}
            for c in hops[link.id]:
                deps.add(("cable", c))
                for end in (cable[c].a_closure_id, cable[c].b_closure_id):
                    if end is not None:
                        deps |= {("closure", end), ("node", closure_node[end])}
                for s in path[c]:
                    deps |= {("trench", s), ("node", segment[s].a_node_id), ("node", segment[s].b_node_id)}
            self.links[link.id] = (a, b, deps)
        live = set().union(*(deps for _, _, deps in self.links.values()))
        self.live = live
        nodes = {n.id for n in inv.nodes if (n.status or "active") in ok or ("node", n.id) in live}
        self.trenches = {s.id: s for s in inv.segments
                         if ("trench", s.id) in live
                         or ((s.status or "active") in ok and s.a_node_id in nodes and s.b_node_id in nodes)}
        self.nodes = nodes | {n for s in self.trenches.values() for n in (s.a_node_id, s.b_node_id)}
        self.closures = {c.id: c for c in inv.closures if (c.status or "active") in ok or ("closure", c.id) in live}

        def end(site_id, closure_id):
            return ("site", site_id) if site_id is not None else ("closure", closure_id)

        live_site_ends = {end(c.a_site_id, c.a_closure_id) for c in inv.cables if ("cable", c.id) in live} | {
            end(c.b_site_id, c.b_closure_id) for c in inv.cables if ("cable", c.id) in live}
        self.cables = {}
        for c in inv.cables:
            a, b = end(c.a_site_id, c.a_closure_id), end(c.b_site_id, c.b_closure_id)
            exists = all((e[0] == "site" and (e[1] in self.sites or e in live_site_ends))
                         or (e[0] == "closure" and e[1] in self.closures) for e in (a, b))
            if exists and (("cable", c.id) in live or (c.status or "active") in ok):
                self.cables[c.id] = (a, b)
        self.entries = defaultdict(set)  # site -> its building entry nodes
        for n in inv.nodes:
            if n.id in self.nodes and n.site_id in self.sites:
                self.entries[n.site_id].add(n.id)

    # -- what fails together -------------------------------------------------------------
    def expand(self, failed: set[tuple[str, int]]) -> set[tuple[str, int]]:
        """A node takes its trenches and closures, a closure the cables ending there, a
        site its devices."""
        if not hasattr(self, "_takes"):
            takes = defaultdict(set)
            for s in self.trenches.values():
                takes["node", s.a_node_id].add(("trench", s.id))
                takes["node", s.b_node_id].add(("trench", s.id))
            for c in self.closures.values():
                takes["node", c.node_id].add(("closure", c.id))
            for d, row in self.devices.items():
                takes["site", row.site_id].add(("device", d))
            for c, ends in self.cables.items():
                for end in ends:
                    if end[0] == "closure":
                        takes[end].add(("cable", c))
            self._takes = takes
        failed = set(failed)
        for element in list(failed):
            failed |= self._takes.get(element, set())
        for element in list(failed):
            if element[0] == "closure":
                failed |= self._takes.get(element, set())
        return failed

    # -- what is up ----------------------------------------------------------------------
    def _customer(self, device: int) -> bool:
        site = self.sites.get(self.devices[device].site_id)
        return site is not None and site.kind in CUSTOMER_KINDS

    def service_up(self, failed=frozenset()) -> set[int]:
        failed = self.expand(failed)
        up = {k: (a, b) for k, (a, b, deps) in self.links.items() if ("link", k) not in failed and not deps & failed}
        if len(up) == len(self.links) and not any(kind == "device" for kind, _ in failed) and self.transit \
                and hasattr(self, "_up") and "service" in self._up:
            return self._up["service"]  # nothing that matters failed
        # a business line's NTU is its company's device, not its serving site's: it keeps no site up
        return {self.devices[d].site_id for d in self.devices_up(failed)
                if self.devices[d].role != "ntu"} & self.sites.keys()

    def links_up(self, failed) -> set[int]:
        failed = self.expand(failed)
        return {k for k, (_, _, deps) in self.links.items() if ("link", k) not in failed and not deps & failed}

    def devices_up(self, failed=frozenset()) -> set[int]:
        """Devices that reach a core device over links that are up."""
        failed = self.expand(failed)
        up = {k: self.links[k][:2] for k in self.links_up(failed)}
        adj = defaultdict(set)
        for a, b in up.values():
            adj[a].add(b)
            adj[b].add(a)
        alive = {d for d in self.devices if ("device", d) not in failed}
        site_of = {d: row.site_id for d, row in self.devices.items()}
        core = {d for d in alive if site_of[d] in self.core and self.devices[d].role != "ntu"}
        if self.transit:
            return _search(core, lambda v: (w for w in adj[v] if w in alive))
        routers = {d for d in self.devices if site_of[d] in self.core and self.devices[d].role == "core_router"}
        core_without_router = self.core - {site_of[d] for d in routers}
        starts = [d for d in core if d in routers or site_of[d] in core_without_router]
        # nobody forwards through a customer's switch: search the rest, then let each
        # customer's switch ask its own uplinks
        reached = _search(starts, lambda v: (w for w in adj[v] if w in alive and not self._customer(w)))
        reached |= {d for d in alive if self._customer(d)
                    and any(w in reached for w in adj[d] if site_of[w] != site_of[d])}
        # a line's NTU patched to a device of its own site (its every link ends there) is served
        # through that device, over a patch that is up: the site's switch carries its own site's lines
        return reached | {d for d in alive if self.devices[d].role == "ntu" and len(self._ends(d)) == 1
                          and site_of[next(iter(self._ends(d)))] == site_of[d] and adj[d] & reached}

    def _ends(self, device: int) -> set[int]:
        """The devices at the other end of this device's live links."""
        return {b if a == device else a for a, b, _ in self.links.values() if device in (a, b)}

    def physical_up(self, failed=frozenset()) -> set[int]:
        failed = self.expand(failed)
        adj = defaultdict(set)
        for s in self.trenches.values():
            if ("trench", s.id) not in failed:
                adj[s.a_node_id].add(s.b_node_id)
                adj[s.b_node_id].add(s.a_node_id)
        alive = {n for n in self.nodes if ("node", n) not in failed}
        starts = [n for site in self.core for n in self.entries[site] if n in alive]
        reached = _search(starts, lambda v: (w for w in adj[v] if w in alive))
        return {site for site, nodes in self.entries.items() if nodes & reached}

    def cable_up(self, failed=frozenset()) -> set[int]:
        failed = self.expand(failed)
        adj = defaultdict(set)
        for c, (a, b) in self.cables.items():
            if ("cable", c) not in failed:
                adj[a].add(b)
                adj[b].add(a)
        dead = {("closure", i) for kind, i in failed if kind == "closure"}
        starts = [("site", s) for s in self.core]
        reached = _search(starts, lambda v: (w for w in adj[v] if w not in dead))
        return {i for kind, i in reached if kind == "site" and i in self.sites}

    # -- what is lost ----------------------------------------------------------------------
    def _before(self, layer: str) -> set[int]:
        if not hasattr(self, "_up"):
            self._up = {}
        if layer not in self._up:
            self._up[layer] = getattr(self, f"{layer}_up")()
        return self._up[layer]

    def service_lost(self, failed) -> set[int]:
        return self._before("service") - self.service_up(failed) - self.core

    def physical_lost(self, failed) -> set[int]:
        return self._before("physical") - self.physical_up(failed) - self.core

    def cable_lost(self, failed) -> set[int]:
        return self._before("cable") - self.cable_up(failed) - self.core


    # -- customers -----------------------------------------------------------------------
    def _customer_rows(self):
        if hasattr(self, "_rows"):
            return self._rows
        inv, ok = self.inv, self.ok
        paths = defaultdict(list)
        for row in sorted(inv.cable_segments, key=lambda r: (r.cable_id, r.seq)):
            paths[row.cable_id].append(row.segment_id)
        self._rows = {
            "paths": paths, "segments": {s.id: s for s in inv.segments}, "cables": {c.id: c for c in inv.cables},
            "closure_node": {c.id: c.node_id for c in inv.closures},
            "closures_at": {n.id: [c.id for c in inv.closures if c.node_id == n.id] for n in inv.nodes},
            "node_kind": {n.id: n.kind for n in inv.nodes},
            "splitters": {s.id: s for s in inv.splitters if (s.status or "active") in ok},
            "ports": {p.id: p for p in inv.olt_ports if (p.status or "active") in ok},
            "device_of": {i.id: i.device_id for i in inv.interfaces},
        }
        return self._rows

    def _cable_fails(self, cable_id, failed) -> bool:
        if cable_id is None:
            return False
        rows = self._customer_rows()
        if ("cable", cable_id) in failed:
            return True
        for s in rows["paths"][cable_id]:
            seg = rows["segments"][s]
            if {("trench", s), ("node", seg.a_node_id), ("node", seg.b_node_id)} & failed:
                return True
        cable = rows["cables"][cable_id]
        for closure in (cable.a_closure_id, cable.b_closure_id):
            if closure is not None and {("closure", closure), ("node", rows["closure_node"][closure])} & failed:
                return True
        return False

    def _chain(self, ont):
        """(splitters from the ONT up, the OLT device), or None when the chain is broken."""
        rows = self._customer_rows()
        chain, here = [], rows["splitters"].get(ont.splitter_id)
        while here is not None and here not in chain:
            chain.append(here)
            if here.parent_id is None:
                port = rows["ports"].get(here.olt_port_id)
                olt = rows["device_of"].get(port.interface_id) if port else None
                return (chain, olt) if olt in self.devices else None
            here = rows["splitters"].get(here.parent_id)
        return None

    def _ont_down(self, ont, chain, olt, failed, devices_before, devices_after) -> bool:
        rows = self._customer_rows()
        if ("device", olt) in failed or (olt in devices_before and olt not in devices_after):
            return True
        if self._cable_fails(ont.drop_cable_id, failed):
            return True
        for splitter in chain:
            if ("splitter", splitter.id) in failed or ("node", splitter.node_id) in failed:
                return True
            if rows["node_kind"].get(splitter.node_id) != "cabinet" and \
                    any(("closure", c) in failed for c in rows["closures_at"].get(splitter.node_id, ())):
                return True
            if self._cable_fails(splitter.feeder_cable_id, failed):
                return True
        return False

    def _company_served(self, row, devices_up, links_up) -> bool:
        if row.device_id is not None and row.device_id not in devices_up:
            return False
        if row.link_id is not None:
            a, b, _ = self.links.get(row.link_id, (None, None, None))
            return row.link_id in links_up and (a in devices_up or b in devices_up)
        return True

    def customers_lost(self, failed) -> tuple[set[int], set[int]]:
        """(companies, connected ONTs) that lose service when ``failed`` fail."""
        failed = self.expand(failed)
        before_devices, after_devices = self.devices_up(), self.devices_up(failed)
        before_links, after_links = self.links_up(frozenset()), self.links_up(failed)
        companies = {row.id for row in self.inv.businesses if (row.status or "active") in self.ok
                     and self._company_served(row, before_devices, before_links)
                     and not self._company_served(row, after_devices, after_links)}
        onts = set()
        for ont in self.inv.residential:
            if (ont.status or "active") not in self.ok or ont.take_up != "connected":
                continue
            chain = self._chain(ont)
            if chain is not None and self._ont_down(ont, *chain, failed, before_devices, after_devices):
                onts.add(ont.id)
        return companies, onts


#: sites whose switches belong to a customer (they forward no traffic of other sites
#: under --no-transit); the city's own hotspots, cabinets and small cells do
CUSTOMER_KINDS = {"school", "kindergarten", "hospital", "business_park", "public_building"}
