"""The PON audit: does every ONT get enough light, and does every PON fit its ports?

Power budget, per ONT (connected or passed: a drop that cannot carry light cannot be sold)::

    loss   = Σ splitter losses on its chain          1:8 10.5, 1:16 13.7, 1:32 17.1, 1:64 20.5 dB
           + fibre km · 0.35 dB/km                   feeders and drop, at 1310 nm (GPON upstream,
                                                     the worse of its two wavelengths)
           + splices · 0.1 dB + connectors · 0.5 dB  2 splices per fibre run (+1 per drum joint),
                                                     2 connectors (ODF at the PoP, ONT outlet)
    margin = budget of the OLT port's optics class − loss      B+ 28 dB, C+ 32 dB

Figures: optics classes ITU-T G.984.2 (Amd. 1) B+ and G.984.2 Amd. 2 C+; splitter losses
the worst-case insertion loss of a balanced 1:N splitter (ITU-T G.671; vendors quote
13.7-13.8 dB at 1:16), both held by ``inventory.models.access``; fibre, splice and connector
figures the planner's (``netops.optics``). A margin below 0 is critical (the ONT does not
range), below 3 dB a warning (nothing left for repairs and ageing).

A fibre run is its cable's whole recorded length (the model records the cable and strand,
not where along the cable a splitter taps it: conservative); a run without a cable (a
feeder not recorded) counts the straight line between its ends and says so.

Capacity, per splitter and OLT port: a port beyond a splitter's ratio or feeding two things
(critical: the import refuses both, so the rows were written around it), a full splitter
(info: the next home there needs a new one), more ONTs on one OLT port than GPON's 1:64
(critical) or a cascade splitting beyond it (warning: the classes' budgets assume at most
1:64), an OLT port feeding no splitter (info: a spare port), and an ONT whose chain reaches
no OLT port in service (warning: it cannot have service).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from inventory.models.access import POWER_BUDGET_DB, SPLITTER_LOSS_DB
from netops.geo import distance_m
from netops.optics import (
    ATTENUATION_DB_PER_KM, CONNECTOR_DB, CONNECTORS_PER_PATH, DEFAULT_MIN_MARGIN_DB, SPLICE_DB, joints_for,
)
from topology.customers import RESIDENTIAL_UNIT
from topology.findings import ElementRef, Finding, Severity
from topology.network import Network
from topology.rows import ResidentialRow, in_scope

PON_WAVELENGTH_NM = 1310
#: the split GPON's B+ and C+ budgets are specified for, and the ONTs an OLT port serves
MAX_SPLIT = 64


@dataclass(frozen=True, slots=True)
class OntBudget:
    """The optical budget of one ONT, from its OLT port through its splitters and drop."""

    ont: str
    building: str
    olt_port: str  # OLT device/interface
    optics_class: str
    budget_db: float
    loss_db: float
    margin_db: float
    splitters: tuple[str, ...]  # OLT side first
    splitter_loss_db: float
    fibre_m: float
    fibre_estimated: bool  # a run without a cable, counted as the crow flies
    splices: int
    connectors: int
    take_up: str
    units: int


class Pon:
    """The PON's rows in scope, with names and positions."""

    def __init__(self, net: Network):
        self.net = net
        inv, planned = net.inv, net.config.include_planned
        self.customers = net.customers
        self.splitters = self.customers.splitters
        self.ports = self.customers.olt_ports
        self.onts = {r.id: r for r in inv.residential if in_scope(r.status, planned)}
        self.cables = {c.id: c for c in inv.cables}
        self.nodes = {n.id: n for n in inv.nodes}
        self.buildings = self.customers.buildings
        sites = {s.id: s for s in inv.sites}
        interfaces = {i.id: i for i in inv.interfaces}
        devices = {d.id: d for d in inv.devices}
        self.port_name, self.port_place = {}, {}
        for port in self.ports.values():
            interface = interfaces.get(port.interface_id)
            device = devices.get(interface.device_id) if interface else None
            self.port_name[port.id] = f"{device.name}/{interface.name}" if device else str(port.id)
            site = sites.get(device.site_id) if device else None
            self.port_place[port.id] = (site.lat, site.lon) if site else (None, None)
        self.children: dict[int, list] = defaultdict(list)  # splitter -> splitters and ONTs on it
        for splitter in self.splitters.values():
            if splitter.parent_id is not None:
                self.children[splitter.parent_id].append(splitter)
        for ont in self.onts.values():
            self.children[ont.splitter_id].append(ont)

    def chain(self, splitter_id: int) -> list | None:
        """The splitters from the OLT port down to this one, or None if the chain is broken
        (a splitter out of scope or looping, no OLT port in service)."""
        chain, seen = [], set()
        splitter = self.splitters.get(splitter_id)
        while splitter is not None and splitter.id not in seen:
            seen.add(splitter.id)
            chain.append(splitter)
            if splitter.parent_id is None:
                port_ok = splitter.olt_port_id in self.ports and \
                    self.customers.olt_of_port[splitter.olt_port_id] in self.net.devices
                return chain[::-1] if port_ok else None
            splitter = self.splitters.get(splitter.parent_id)
        return None

    def node_place(self, node_id: int) -> tuple[float | None, float | None]:
        node = self.nodes.get(node_id)
        return (node.lat, node.lon) if node else (None, None)

    def run(self, cable_id: int | None, start, end) -> tuple[float, bool]:
        """Metres of one fibre run: its cable's length, else the straight line (estimated)."""
        cable = self.cables.get(cable_id) if cable_id is not None else None
        if cable is not None:
            return cable.length_m, False
        if None in (*start, *end):
            return 0.0, True
        metres = distance_m(start[0], start[1], end[0], end[1])
        return metres, metres > 0  # a cascade within one cabinet has no run to estimate

    def measurable(self, chain: list) -> bool:
        """Whether the figures know every part: standard ratios, a known optics class (rows
        written around the import may have others; the capacity check names them)."""
        return str(self.ports[chain[0].olt_port_id].optics_class) in POWER_BUDGET_DB and \
            all(s.ratio in SPLITTER_LOSS_DB for s in chain)

    def feeder_runs(self, chain: list) -> list[tuple[float, bool]]:
        """The fibre runs from the OLT port to the last splitter of ``chain``: (metres,
        estimated) per splitter's feeder."""
        places = [self.port_place[chain[0].olt_port_id], *(self.node_place(s.node_id) for s in chain)]
        return [self.run(s.feeder_cable_id, a, b) for s, a, b in zip(chain, places, places[1:])]

    def budget(self, ont: ResidentialRow, chain: list) -> OntBudget:
        port = self.ports[chain[0].olt_port_id]
        building = self.buildings.get(ont.building_id)
        place = (building.lat, building.lon) if building else (None, None)
        runs = [*self.feeder_runs(chain), self.run(ont.drop_cable_id, self.node_place(chain[-1].node_id), place)]
        fibre_m = sum(m for m, _ in runs)
        loss, splitter_loss, splices = path_loss([s.ratio for s in chain], [m for m, _ in runs])
        budget = POWER_BUDGET_DB[str(port.optics_class)]
        return OntBudget(
            ont=ont.code, building=building.code if building else "", olt_port=self.port_name[port.id],
            optics_class=str(port.optics_class), budget_db=budget, loss_db=round(loss, 2),
            margin_db=round(budget - loss, 2), splitters=tuple(s.code for s in chain),
            splitter_loss_db=round(splitter_loss, 2), fibre_m=round(fibre_m, 1),
            fibre_estimated=any(estimated for _, estimated in runs), splices=splices,
            connectors=CONNECTORS_PER_PATH, take_up=str(ont.take_up), units=ont.units)

    def affected(self, onts, *, one_pon: bool = False) -> dict:
        """What a finding about these ONTs affects: the connected homes, their buildings, their
        weight and (``one_pon``: the ONTs share an OLT port) their PON. A passed home has no service to lose (a drop with no light cannot be
        sold, but nobody is cut off): it counts in no finding's homes, as in no failure's
        (``topology.customers``)."""
        connected = [o for o in onts if str(o.take_up) == "connected"]
        units = sum(o.units for o in connected)
        buildings = sorted({self.buildings[o.building_id].code for o in connected if o.building_id in self.buildings})
        return dict(weight=round(units * self.net.config.weights.get(RESIDENTIAL_UNIT, 0.0), 9),
                    residential_units=units, buildings=tuple(buildings), pons=int(one_pon and units > 0))

    def onts_below(self, splitter_id: int) -> list[ResidentialRow]:
        found, stack, seen = [], [splitter_id], set()
        while stack:
            here = stack.pop()
            if here in seen:
                continue
            seen.add(here)
            for child in self.children.get(here, ()):
                if isinstance(child, ResidentialRow):
                    found.append(child)
                else:
                    stack.append(child.id)
        return found

    def split_below(self, splitter_id: int, seen: frozenset = frozenset()) -> int:
        """The largest split from this splitter to any ONT below it (product of ratios)."""
        if splitter_id in seen:
            return 1
        deeper = [self.split_below(c.id, seen | {splitter_id}) for c in self.children.get(splitter_id, ())
                  if not isinstance(c, ResidentialRow)]
        return self.splitters[splitter_id].ratio * max(deeper, default=1)


def path_loss(ratios: list[int], runs_m: list[float]) -> tuple[float, float, int]:
    """(loss dB, of it splitter loss dB, splices) of a PON path through splitters of
    ``ratios`` and fibre runs of ``runs_m`` metres: the one definition of the module
    docstring, shared by this audit and the planner (``planning.access``)."""
    fibre_m = sum(runs_m)
    splices = sum(2 + joints_for(m) for m in runs_m)
    splitter_loss = sum(SPLITTER_LOSS_DB[r] for r in ratios)
    loss = (splitter_loss + fibre_m / 1000 * ATTENUATION_DB_PER_KM[PON_WAVELENGTH_NM]
            + splices * SPLICE_DB + CONNECTORS_PER_PATH * CONNECTOR_DB)
    return loss, splitter_loss, splices


def ont_budgets(net: Network) -> list[OntBudget]:
    """Every ONT on a complete chain, worst margin first."""
    pon = Pon(net)
    budgets = []
    for ont in pon.onts.values():
        chain = pon.chain(ont.splitter_id)
        if chain is not None and pon.measurable(chain):
            budgets.append(pon.budget(ont, chain))
    return sorted(budgets, key=lambda b: (b.margin_db, b.ont))


def _ont_ref(ont: ResidentialRow) -> ElementRef:
    return ElementRef("residential_connection", ont.id, ont.code)


def _splitter_ref(splitter) -> ElementRef:
    return ElementRef("splitter", splitter.id, splitter.code)


def budget_findings(net: Network, pon: Pon) -> list[Finding]:
    findings = []
    for ont in pon.onts.values():
        chain = pon.chain(ont.splitter_id)
        if chain is None:
            findings.append(Finding(
                "pon_chain", Severity.WARNING, "pon", "ONT's splitter chain reaches no OLT port in service",
                (_ont_ref(ont), _splitter_ref(pon.splitters[ont.splitter_id]) if ont.splitter_id in pon.splitters
                 else ElementRef("splitter", ont.splitter_id, str(ont.splitter_id))),
                **pon.affected([ont])))
            continue
        if not pon.measurable(chain):
            continue
        b = pon.budget(ont, chain)
        if b.margin_db >= DEFAULT_MIN_MARGIN_DB:
            continue
        if b.margin_db < 0:
            severity, title = Severity.CRITICAL, (f"PON power budget exceeded: loss {b.loss_db:.1f} dB > "
                                                  f"{b.budget_db:g} dB ({b.optics_class})")
        else:
            severity, title = Severity.WARNING, (f"PON margin {b.margin_db:.1f} dB below {DEFAULT_MIN_MARGIN_DB:g} dB "
                                                 f"(loss {b.loss_db:.1f} of {b.budget_db:g} dB, {b.optics_class})")
        ratios = " + ".join(f"1:{s.ratio}" for s in chain)
        fibre = f"{b.fibre_m / 1000:.2f} km{' (partly as the crow flies)' if b.fibre_estimated else ''}"
        findings.append(Finding(
            "pon_budget", severity, "pon", title,
            (_ont_ref(ont), ElementRef("olt_port", chain[0].olt_port_id, b.olt_port), *map(_splitter_ref, chain)),
            **pon.affected([ont], one_pon=True),
            detail=f"building {b.building}, {b.units} unit(s) {b.take_up}: splitters {ratios} "
                   f"{b.splitter_loss_db:.1f} dB, fibre {fibre}, {b.splices} splices, {b.connectors} connectors; "
                   f"margin {b.margin_db:.1f} dB",
            figures=(("budget_db", b.budget_db), ("loss_db", b.loss_db), ("margin_db", b.margin_db),
                     ("splitter_loss_db", b.splitter_loss_db), ("fibre_m", b.fibre_m))))
    return findings


def _user_ref(user) -> ElementRef:
    """What hangs on a splitter port: an ONT or a cascaded splitter."""
    return _ont_ref(user) if isinstance(user, ResidentialRow) else _splitter_ref(user)


def capacity_findings(net: Network, pon: Pon) -> list[Finding]:
    findings = []
    for splitter in pon.splitters.values():
        if splitter.ratio not in SPLITTER_LOSS_DB:
            findings.append(Finding(
                "pon_capacity", Severity.WARNING, "pon",
                f"splitter ratio 1:{splitter.ratio} is not a standard splitter: no loss figure, its ONTs' budgets "
                f"are not checked", (_splitter_ref(splitter),)))
        by_port: dict[int, list] = defaultdict(list)
        for child in pon.children.get(splitter.id, ()):
            by_port[child.splitter_port if isinstance(child, ResidentialRow) else child.parent_port].append(child)
        onts = pon.onts_below(splitter.id)
        for port, users in sorted(by_port.items()):
            if port > splitter.ratio or len(users) > 1:
                what = (f"port {port} of a 1:{splitter.ratio} splitter is used" if port > splitter.ratio
                        else f"port {port} feeds {len(users)} things")
                findings.append(Finding(
                    "pon_capacity", Severity.CRITICAL, "pon", f"splitter overbooked: {what}",
                    (_splitter_ref(splitter), *map(_user_ref, users)), **pon.affected(onts)))
        if len(by_port) >= splitter.ratio and all(p <= splitter.ratio for p in by_port):
            findings.append(Finding(
                "pon_capacity", Severity.INFO, "pon",
                f"splitter full: {splitter.ratio}/{splitter.ratio} ports used", (_splitter_ref(splitter),)))
    first_stage = {s.olt_port_id: s for s in pon.splitters.values() if s.parent_id is None}
    for port_id, name in sorted(pon.port_name.items(), key=lambda item: item[1]):
        port_ref = ElementRef("olt_port", port_id, name)
        if str(pon.ports[port_id].optics_class) not in POWER_BUDGET_DB:
            findings.append(Finding(
                "pon_capacity", Severity.WARNING, "pon",
                f"OLT port optics class {pon.ports[port_id].optics_class!r} unknown (b_plus or c_plus): its ONTs' "
                f"budgets are not checked", (port_ref,)))
        splitter = first_stage.get(port_id)
        if splitter is None:
            findings.append(Finding("pon_capacity", Severity.INFO, "pon", "OLT port feeds no splitter (spare)",
                                    (port_ref,)))
            continue
        onts = pon.onts_below(splitter.id)
        split = pon.split_below(splitter.id)
        if len(onts) > MAX_SPLIT:
            findings.append(Finding(
                "pon_capacity", Severity.CRITICAL, "pon",
                f"OLT port overbooked: {len(onts)} ONTs on one PON (at most {MAX_SPLIT})",
                (port_ref, _splitter_ref(splitter)), **pon.affected(onts, one_pon=True)))
        elif split > MAX_SPLIT:
            findings.append(Finding(
                "pon_capacity", Severity.WARNING, "pon",
                f"OLT port split ratio exceeded: cascade splits 1:{split}, the optics are specified for 1:{MAX_SPLIT}",
                (port_ref, _splitter_ref(splitter)), **pon.affected(onts, one_pon=True)))
    return findings


def pon_findings(net: Network) -> list[Finding]:
    pon = Pon(net)
    return budget_findings(net, pon) + capacity_findings(net, pon)
