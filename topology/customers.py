"""Customers: which companies and homes a failure cuts off, and what they weigh.

A **company** (``BusinessConnection``) is carried by a link (point-to-point fibre) and/or a
device (an Ethernet service on a switch). It is cut off when what carries it is: its device
fails or loses the core; its link is down (anything the link runs through fails, the
service view of ``topology.network``) or neither end of the link reaches the core any more.
A business line's device is normally its **NTU** (role ``ntu``), the carrier's termination
at the customer's premises, which reaches the core over links of its own::

    PoP switch port ─fibre (hops)─▶ NTU ◀─fibre─ other PoP's switch port   gold: two disjoint paths
    site switch port ─patch──────▶ NTU                                     Ethernet service

so the line is lost when the NTU fails or loses the core: a gold line only when both its
paths are cut. An NTU is its company's, not its site's (``Network._layer``), and a line's
own termination is not counted against the network by spof (``own_access``).

A **home** is a unit behind an ONT (``ResidentialConnection``), reached over the PON::

    OLT (device at a PoP) ─ feeder cable ─▶ splitter ─ feeder cable ─▶ splitter ─ drop cable ─▶ ONT
                           (whole cable)    (its route node;           (cascade)  (whole cable)
                                             the closures there
                                             unless it is a cabinet)

It is cut off when anything on that chain fails: the OLT device (or the OLT loses the core),
a splitter's route node, the closure a splitter sits in (a splitter in a cabinet is not in
a closure), or a feeder or drop cable, which fails with any trench segment of its path, the
route nodes at their ends and the closures where the cable ends, as a link's cable does.
A feeder or drop strand is taken to run the whole length of its cable: the model records
the cable and strand, not where along the cable the splitter taps it.

Only live customers count: in scope (active, or planned with ``--planned``), carried by
something in the network, and, for homes, ``connected`` (a home passed has no service to
lose) on a complete chain of splitters in scope up to an OLT port in scope.

Each splitter's own part of the chain (its node, closures, feeder cable) and each ONT's drop
are resolved once into the elements whose failure takes them down, closed under "what
fails with what" (a trench brings its two route nodes, a cable its end closures and their
nodes), and indexed by element: a failure is answered by looking its elements up (the ONTs
below every splitter it hits, those whose drop it hits), so ``lost`` costs the size of the
failure and of its answer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

from netops.vocabulary import DeviceRole
from topology.rows import BusinessRow, ResidentialRow, in_scope

if TYPE_CHECKING:
    from topology.network import FailureSet, Network

Element = tuple[str, int]  # ("trench" | "node" | "cable" | "closure" | "device" | "splitter", id)

CONNECTED = "connected"
SLA_GOLD = "sla_gold"
RESIDENTIAL_UNIT = "residential_unit"  # the weight key of one home


@dataclass(frozen=True, slots=True)
class CustomerLoss:
    """Companies (business connection ids) and ONTs (residential connection ids) cut off."""

    companies: frozenset[int] = frozenset()
    onts: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.companies or self.onts)


NO_LOSS = CustomerLoss()


class Customers:
    """The live customers of a ``Network`` and the index of what takes each down."""

    def __init__(self, net: Network):
        self.net = net
        inv, planned = net.inv, net.config.include_planned
        self.companies: dict[int, BusinessRow] = {}
        for row in inv.businesses:
            carried = (row.link_id is None or row.link_id in net.links) and \
                (row.device_id is None or row.device_id in net.devices)
            if in_scope(row.status, planned) and carried:
                self.companies[row.id] = row
        self.buildings = {b.id: b for b in inv.buildings}
        self._paths = net.cable_paths
        self._segments = {s.id: s for s in inv.segments}
        self._cables = {c.id: c for c in inv.cables}
        self._closure_node = {c.id: c.node_id for c in inv.closures}
        self._closures_at: dict[int, list[int]] = defaultdict(list)
        for closure in inv.closures:
            self._closures_at[closure.node_id].append(closure.id)
        self._node_kind = {n.id: str(n.kind) for n in inv.nodes}
        self.splitters = {s.id: s for s in inv.splitters if in_scope(s.status, planned)}
        device_of_interface = {i.id: i.device_id for i in inv.interfaces}
        self.olt_ports = {p.id: p for p in inv.olt_ports if in_scope(p.status, planned)}
        self.olt_of_port = {p.id: device_of_interface.get(p.interface_id) for p in self.olt_ports.values()}
        self._memo: dict = {}
        self._chains: dict[int, tuple | None] = {}
        self._cable_deps: dict[int | None, frozenset[Element]] = {}
        self.onts: dict[int, ResidentialRow] = {}  # live, connected ONTs
        self.port_of_ont: dict[int, int] = {}  # ONT -> the OLT port its PON starts at
        self.onts_below: dict[int, list[int]] = defaultdict(list)  # splitter -> ONTs on it or further down
        self.by_drop: dict[Element, list[int]] = defaultdict(list)  # element -> ONTs whose drop fails with it
        for row in inv.residential:
            if not (in_scope(row.status, planned) and str(row.take_up) == CONNECTED):
                continue
            chain = self.chain(row.splitter_id)
            if chain is None:
                continue
            self.onts[row.id] = row
            self.port_of_ont[row.id] = self.splitters[chain[0]].olt_port_id
            for splitter in chain:
                self.onts_below[splitter].append(row.id)
            for element in self.cable_deps(row.drop_cable_id):
                self.by_drop[element].append(row.id)
        # element -> splitters whose output fails with it (the ONTs below them with it)
        self.by_splitter: dict[Element, list[int]] = defaultdict(list)
        for splitter in self.onts_below:
            for element in self.own_deps(splitter):
                self.by_splitter[element].append(splitter)
        self.companies_on_device: dict[int, list[int]] = defaultdict(list)
        self.companies_on_link: dict[int, list[int]] = defaultdict(list)
        # without transit a customer's switch reaches the core only as the leaves of its uplinks,
        # not as its own node: an NTU patched to it counts through it, and is lost with its patches
        self.upstream: dict[int, int] = {}  # patched NTU -> the device of its own site it hangs on
        self.patches: dict[int, frozenset[int]] = {}  # patched NTU -> its links (all to that device)
        if not net.config.transit:
            self.upstream, self.patches = self._patched_ntus()
        for row in self.companies.values():
            if row.device_id is not None:
                self.companies_on_device[row.device_id].append(row.id)
                if row.device_id in self.upstream:
                    self.companies_on_device[self.upstream[row.device_id]].append(row.id)
            if row.link_id is not None:
                self.companies_on_link[row.link_id].append(row.id)
        self.links_ending_at: dict[int, list[int]] = defaultdict(list)  # device -> links carrying companies
        for link in self.companies_on_link:
            for end in net.link_ends[link]:
                self.links_ending_at[end].append(link)
        # a patch -> the NTU it is one of the patches of (when that NTU carries companies)
        self.patched_by_link = {link: ntu for ntu, links in self.patches.items()
                                if ntu in self.companies_on_device for link in links}

    def _patched_ntus(self) -> tuple[dict[int, int], dict[int, frozenset[int]]]:
        """(NTU -> the one device of its own site it is patched to, NTU -> its patches) for
        the NTUs whose every link ends at that one device."""
        net = self.net
        ends: dict[int, set[int]] = defaultdict(set)
        links: dict[int, set[int]] = defaultdict(set)
        for link, (a, b) in net.link_ends.items():
            ends[a].add(b)
            ends[b].add(a)
            links[a].add(link)
            links[b].add(link)
        patched, patches = {}, {}
        for ident, row in net.devices.items():
            if str(row.role) == DeviceRole.NTU and len(ends[ident]) == 1:
                (other,) = ends[ident]
                if net.devices[other].site_id == row.site_id:
                    patched[ident], patches[ident] = other, frozenset(links[ident])
        return patched, patches

    # -- the PON chain ---------------------------------------------------------------------
    def cable_deps(self, cable_id: int | None) -> frozenset[Element]:
        """A cable and what it fails with: its trench segments, their route nodes, the
        closures at its ends and their route nodes."""
        if cable_id in self._cable_deps:
            return self._cable_deps[cable_id]
        deps: set[Element] = set()
        if cable_id is not None:
            deps.add(("cable", cable_id))
            for segment_id in self._paths.get(cable_id, ()):
                segment = self._segments[segment_id]
                deps |= {("trench", segment_id), ("node", segment.a_node_id), ("node", segment.b_node_id)}
            cable = self._cables.get(cable_id)
            for closure in (cable.a_closure_id, cable.b_closure_id) if cable else ():
                if closure is not None:
                    deps |= {("closure", closure), ("node", self._closure_node[closure])}
        self._cable_deps[cable_id] = answer = frozenset(deps)
        return answer

    def chain(self, splitter_id: int) -> tuple[int, ...] | None:
        """The splitters from the OLT port down to this one; None when the chain is broken
        (a splitter or OLT port out of scope, an OLT device not in the network, a loop)."""
        if splitter_id in self._chains:
            return self._chains[splitter_id]
        self._chains[splitter_id] = None  # a loop (refused on import) stays broken
        splitter = self.splitters.get(splitter_id)
        if splitter is None:
            return None
        if splitter.parent_id is not None:
            upstream = self.chain(splitter.parent_id)
        elif splitter.olt_port_id in self.olt_ports and self.olt_of_port[splitter.olt_port_id] in self.net.devices:
            upstream = ()
        else:
            upstream = None
        if upstream is not None:
            self._chains[splitter_id] = (*upstream, splitter_id)
        return self._chains[splitter_id]

    def own_deps(self, splitter_id: int) -> set[Element]:
        """What a splitter's output fails with, beyond what its parent's does: itself, its
        route node, the closures there (unless it is a cabinet), its feeder cable, and for a
        first-stage splitter the OLT."""
        splitter = self.splitters[splitter_id]
        deps = {("splitter", splitter_id), ("node", splitter.node_id), *self.cable_deps(splitter.feeder_cable_id)}
        if self._node_kind.get(splitter.node_id) != "cabinet":  # it sits in a closure there
            deps |= {("closure", c) for c in self._closures_at.get(splitter.node_id, ())}
        if splitter.parent_id is None:
            deps.add(("device", self.olt_of_port[splitter.olt_port_id]))
        return deps

    @cached_property
    def feeding(self) -> frozenset[Element]:
        """Elements some home's PON chain or drop fails with."""
        return frozenset(self.by_splitter) | frozenset(self.by_drop)

    @cached_property
    def watched_devices(self) -> frozenset[int]:
        """Devices whose loss can cut a customer off: those carrying companies, the ends of
        companies' links, the OLTs."""
        return frozenset(self.companies_on_device) | frozenset(self.links_ending_at) | frozenset(self.onts_of_olt)

    @cached_property
    def onts_of_olt(self) -> dict[int, list[int]]:
        onts: dict[int, list[int]] = defaultdict(list)
        for ont, port in self.port_of_ont.items():
            onts[self.olt_of_port[port]].append(ont)
        return onts

    # -- what a failure takes ----------------------------------------------------------------
    def lost(self, elements: Iterable[Element], links_down: Iterable[int], devices_lost: Iterable[int]) -> CustomerLoss:
        """Customers cut off when ``elements`` fail, taking ``links_down`` down and leaving
        ``devices_lost`` (failed or cut off from the core). A company's link is down with
        either of its devices failing too; up, it serves while an end reaches the core."""
        elements = list(elements)
        if not devices_lost and self.feeding.isdisjoint(elements) and self.companies_on_link.keys().isdisjoint(links_down) \
                and self.patched_by_link.keys().isdisjoint(links_down):
            return NO_LOSS  # most elements of a ranking: nothing a customer hangs on
        devices_lost = set(devices_lost)
        failed_devices = {ident for kind, ident in elements if kind == "device"}
        hit = frozenset(s for e in elements for s in self.by_splitter.get(e, ()))
        onts = self._below(hit)
        extra = {o for e in elements for o in self.by_drop.get(e, ())}
        extra.update(o for d in devices_lost for o in self.onts_of_olt.get(d, ()))
        if not extra <= onts:
            onts = onts | extra
        companies = {c for d in devices_lost for c in self.companies_on_device.get(d, ())}
        companies.update(c for link in links_down for c in self.companies_on_link.get(link, ()))
        if self.patched_by_link:  # without transit: an NTU patched to its site's switch, every patch down
            down = frozenset(links_down)
            for link in down & self.patched_by_link.keys():
                if self.patches[self.patched_by_link[link]] <= down:
                    companies.update(self.companies_on_device[self.patched_by_link[link]])
        reached = self.net.devices_reached
        for device in devices_lost:
            for link in self.links_ending_at.get(device, ()):
                ends = [d for d in self.net.link_ends[link] if d in reached]
                if device in failed_devices or all(d in devices_lost for d in ends):
                    companies.update(self.companies_on_link[link])
        companies &= self.served_companies
        return CustomerLoss(frozenset(companies), onts) if companies or onts else NO_LOSS

    def _below(self, splitters: frozenset[int]) -> frozenset[int]:
        """The ONTs below these splitters, one object per set of splitters: the consecutive
        trenches of a feeder hit the same splitters, and what is derived from the answer
        (units, weight, buildings) is then computed once for it."""
        if splitters not in self._memo:
            self._memo[splitters] = frozenset(o for s in splitters for o in self.onts_below[s])
        return self._memo[splitters]

    def _derived(self, what: str, onts: frozenset[int], compute):
        key = (what, onts)
        if key not in self._memo:
            self._memo[key] = compute(onts)
        return self._memo[key]

    def lost_by(self, failure: FailureSet, links_down: Iterable[int], devices_lost: Iterable[int]) -> CustomerLoss:
        return self.lost(failure_elements(failure), links_down, devices_lost)

    @cached_property
    def served_companies(self) -> frozenset[int]:
        """Companies with service before anything fails: their device reaches the core, and
        an end of their link does."""
        reached = self.net.devices_reached
        served = set()
        for ident, row in self.companies.items():
            if row.device_id is not None and row.device_id not in reached \
                    and self.upstream.get(row.device_id) not in reached:
                continue
            if row.link_id is not None and not any(d in reached for d in self.net.link_ends[row.link_id]):
                continue
            served.add(ident)
        return frozenset(served)

    @cached_property
    def own_access(self) -> dict[Element, frozenset[int]]:
        """A business line's own termination -> the companies it terminates: its NTU (a device
        of role ``ntu``), the links ending at it, and for a gold line the building entry of its
        serving site, where its two fibre paths start (the company's own drop is not modelled:
        that entry stands for the company's). Their failure cuts off only those lines, as a
        site's own switch and entry do their site: the single point of failure audit does not
        count them against the network."""
        own: dict[Element, frozenset[int]] = defaultdict(frozenset)
        entries: dict[int, list[int]] = defaultdict(list)
        for node in self.net.inv.nodes:
            if node.site_id is not None:
                entries[node.site_id].append(node.id)
        for device, companies in self.companies_on_device.items():
            row = self.net.devices.get(device)
            if row is None or str(row.role) != DeviceRole.NTU:
                continue
            own["device", device] = frozenset(companies)
            gold = frozenset(c for c in companies if str(self.companies[c].service_class) == SLA_GOLD)
            for entry in entries[row.site_id] if gold else ():  # where its two paths start
                own["node", entry] |= gold
        for link, ends in self.net.link_ends.items():
            for end in ends:
                if ("device", end) in own:
                    own["link", link] |= own["device", end]
        return dict(own)

    def beyond_own_access(self, kind: str, ident, loss: CustomerLoss) -> CustomerLoss:
        """``loss`` without the companies whose own termination (``own_access``) this element is."""
        own = self.own_access.get((kind, ident)) if loss.companies else None
        if not own:
            return loss
        companies = loss.companies - own
        return CustomerLoss(companies, loss.onts) if companies or loss.onts else NO_LOSS

    # -- weights and names -------------------------------------------------------------------
    def units(self, onts: frozenset[int]) -> int:
        return self._derived("units", onts, lambda onts: sum(self.onts[o].units for o in onts))

    def weight(self, loss: CustomerLoss) -> float:
        weights = self.net.config.weights
        return round(sum(weights.get(str(self.companies[c].service_class), 1.0) for c in loss.companies)
                     + self.units(loss.onts) * weights.get(RESIDENTIAL_UNIT, 0.0), 9)

    def severity_terms(self, loss: CustomerLoss) -> tuple[list[str], int, int]:
        """What the severity rule (``topology.findings.impact_severity``) reads of a loss: the
        companies' service classes, the homes, the PONs they hang on."""
        return [str(self.companies[c].service_class) for c in loss.companies], self.units(loss.onts), self.pons(loss)

    def company_codes(self, loss: CustomerLoss) -> tuple[str, ...]:
        return tuple(sorted(self.companies[c].code for c in loss.companies))

    def building_codes(self, loss: CustomerLoss) -> tuple[str, ...]:
        return self._derived("buildings", loss.onts, lambda onts: tuple(sorted(
            {self.buildings[self.onts[o].building_id].code for o in onts if self.onts[o].building_id in self.buildings})))

    def pons(self, loss: CustomerLoss) -> int:
        """How many PONs (OLT ports) the homes cut off hang on."""
        return self._derived("pons", loss.onts, lambda onts: len({self.port_of_ont[o] for o in onts}))


def failure_elements(failure: FailureSet) -> list[Element]:
    """A failure's elements in the index's words (sites are already their devices)."""
    return ([("trench", t) for t in failure.trenches] + [("node", n) for n in failure.nodes]
            + [("cable", c) for c in failure.cables] + [("closure", c) for c in failure.closures]
            + [("device", d) for d in failure.devices] + [("splitter", s) for s in failure.splitters])
