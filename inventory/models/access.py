"""Customer access: the buildings and companies the network serves, and the PON that
reaches the homes.

Business customers hang on the network directly: a point-to-point fibre or an Ethernet
service, carried by a link (or terminated on a device), with a service class whose SLA
weight says how much an outage of it counts. Homes are reached by a passive optical
network (FTTB/FTTH)::

    PoP                 cabinet or closure           closure                 building
    OLT port ─feeder─▶ splitter 1:8 ─port 3──▶ splitter 1:32 ─port 17─drop─▶ ONT (12 units)
    (B+ 28 dB,          (fed by the OLT port)   (cascade: parent +            (residential
     C+ 32 dB)                                   parent_port)                  connection)

    feeder, drop: a strand of an existing cable (cable + strand)

Every splitter hangs either on an OLT port (first stage) or on a port of another splitter
(cascade); each splitter port feeds at most one thing, a further splitter or one
residential connection (an ONT in a building). A connection is ``connected`` (the homes
take a service) or ``passed`` (the drop is there, nobody has signed yet); a building's
homes passed are the units of its active connections, connected ones included.

The rules that need more than one row (a port within the splitter's ratio, no port taken
twice, no cascade that loops, units within the building, a strand used once) are checked by
``inventory/pon.py`` on import; this module holds the rules of a single row.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import field_validator, model_validator
from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field

from inventory.models.common import Code, InventoryModel, Status
from inventory.models.sites import LAT_RANGE, LON_RANGE
from netops.vocabulary import CUSTOMER_WEIGHTS


class OpticsClass(StrEnum):
    """GPON optics classes (ITU-T G.984.2): the loss the PON may have, OLT to ONT."""

    B_PLUS = "b_plus"
    C_PLUS = "c_plus"


POWER_BUDGET_DB: dict[OpticsClass, float] = {OpticsClass.B_PLUS: 28.0, OpticsClass.C_PLUS: 32.0}

#: worst-case insertion loss of a balanced 1:N splitter (ITU-T G.671 class limits)
SPLITTER_LOSS_DB: dict[int, float] = {2: 3.7, 4: 7.3, 8: 10.5, 16: 13.7, 32: 17.1, 64: 20.5}
SPLITTER_RATIOS = tuple(SPLITTER_LOSS_DB)
MAX_PORTS = max(SPLITTER_RATIOS)

#: the largest residential block in the region has a few hundred flats; more is a typo
MAX_UNITS = 2000


class ServiceClass(StrEnum):
    BEST_EFFORT = "best_effort"
    BUSINESS = "business"
    SLA_GOLD = "sla_gold"


#: how much an outage of one connection of a class weighs (one definition, with the homes'
#: and the sites' weights: ``netops.vocabulary.CUSTOMER_WEIGHTS``)
SLA_WEIGHT: dict[ServiceClass, float] = {c: CUSTOMER_WEIGHTS[c.value] for c in ServiceClass}


class BusinessAccess(StrEnum):
    P2P_FIBRE = "p2p_fibre"  # dark fibre / a dedicated fibre link to the customer
    ETHERNET_SERVICE = "ethernet_service"  # a port or VLAN on a switch of the network


#: a business line's NTU (network termination unit, role ``ntu``): a carrier Ethernet
#: demarcation device the carrier manages like its switches (the seed's and ``plan business``')
NTU_PLATFORM, NTU_VENDOR, NTU_MODEL = "cisco_ios", "Cisco", "ME-1200-4S-A"


class TakeUp(StrEnum):
    CONNECTED = "connected"  # the homes take a service
    PASSED = "passed"  # reachable, not (yet) signed


# messages name the fields as files write them (a reference column ``x_id`` is ``x``)
def _one_of(row, first: str, second: str, what: str) -> None:
    if (getattr(row, first) is None) == (getattr(row, second) is None):
        raise ValueError(f"{what}: give exactly one of {first.removesuffix('_id')} or {second.removesuffix('_id')}")


def _together(row, first: str, second: str) -> None:
    if (getattr(row, first) is None) != (getattr(row, second) is None):
        raise ValueError(f"{first.removesuffix('_id')} and {second} are given together or not at all")


# -- buildings ------------------------------------------------------------------------------

class BuildingBase(InventoryModel):
    """A building with homes and/or businesses in it (the unit of homes passed)."""

    code: Code = Field(unique=True, index=True, max_length=100)
    name: str | None = Field(default=None, max_length=300)
    address: str = Field(min_length=1, max_length=300)
    postcode: str | None = Field(default=None, max_length=10)
    city: str = Field(default="Gelsenkirchen", max_length=100)
    district: str | None = Field(default=None, max_length=100, index=True)  # Stadtteil
    lat: float = Field(ge=LAT_RANGE[0], le=LAT_RANGE[1])
    lon: float = Field(ge=LON_RANGE[0], le=LON_RANGE[1])
    residential_units: int = Field(default=0, ge=0, le=MAX_UNITS)
    business_units: int = Field(default=0, ge=0, le=MAX_UNITS)
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16), index=True)
    source: str = Field(max_length=100)  # real dataset name or "generated"
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)


class Building(BuildingBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


# -- business customers ---------------------------------------------------------------------

class BusinessConnectionBase(InventoryModel):
    """A company's connection: where it is, what it buys, and what carries it."""

    code: Code = Field(unique=True, index=True, max_length=100)
    company: str = Field(min_length=1, max_length=300)
    building_id: int | None = Field(default=None, foreign_key="building.id", index=True)
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)  # e.g. a business park
    service_class: ServiceClass = Field(sa_type=String(16), index=True)
    access: BusinessAccess = Field(sa_type=String(16))
    bandwidth_mbps: int = Field(ge=1, le=400_000)
    link_id: int | None = Field(default=None, foreign_key="link.id", index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id", index=True)
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16), index=True)
    source: str = Field(max_length=100)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)

    @model_validator(mode="after")
    def _placed_and_carried(self):
        _one_of(self, "building_id", "site_id", "a company sits in a building or at a site")
        if self.link_id is None and self.device_id is None:
            raise ValueError("a business connection hangs on a link or a device: give link or device")
        return self

    @property
    def sla_weight(self) -> float:
        return SLA_WEIGHT[ServiceClass(self.service_class)]


class BusinessConnection(BusinessConnectionBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


# -- the PON --------------------------------------------------------------------------------

class OltPortBase(InventoryModel):
    """A PON port of an OLT at a PoP: an interface of the OLT device, with its optics class."""

    interface_id: int = Field(foreign_key="interface.id", unique=True)
    optics_class: OpticsClass = Field(sa_type=String(16))
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16))
    source: str = Field(max_length=100)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)

    @property
    def power_budget_db(self) -> float:
        return POWER_BUDGET_DB[OpticsClass(self.optics_class)]


class OltPort(OltPortBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class SplitterBase(InventoryModel):
    """A passive 1:N splitter in a cabinet or splice closure, fed by an OLT port or by a
    port of another splitter; the feeder fibre is a strand of an existing cable."""

    code: Code = Field(unique=True, index=True, max_length=100)
    ratio: int = Field(ge=2, le=MAX_PORTS)
    node_id: int = Field(foreign_key="routenode.id", index=True)
    olt_port_id: int | None = Field(default=None, foreign_key="oltport.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="splitter.id", index=True)
    parent_port: int | None = Field(default=None, ge=1, le=MAX_PORTS)
    feeder_cable_id: int | None = Field(default=None, foreign_key="cable.id", index=True)
    feeder_strand: int | None = Field(default=None, ge=1)
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16))
    source: str = Field(max_length=100)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)

    @field_validator("ratio")
    @classmethod
    def _standard_ratio(cls, ratio: int) -> int:
        if ratio not in SPLITTER_RATIOS:
            raise ValueError(f"a splitter ratio is one of {', '.join(map(str, SPLITTER_RATIOS))}")
        return ratio

    @model_validator(mode="after")
    def _fed_once(self):
        _one_of(self, "olt_port_id", "parent_id", "a splitter is fed by an OLT port (olt_device, olt_interface) "
                                                  "or by a port of a parent splitter")
        _together(self, "parent_id", "parent_port")
        _together(self, "feeder_cable_id", "feeder_strand")
        return self

    @property
    def loss_db(self) -> float:
        return SPLITTER_LOSS_DB[self.ratio]


class Splitter(SplitterBase, table=True):
    __table_args__ = (UniqueConstraint("parent_id", "parent_port"),)
    id: int | None = Field(default=None, primary_key=True)


class ResidentialConnectionBase(InventoryModel):
    """An ONT in a building on one splitter port, serving ``units`` homes (FTTB: a whole
    block behind one ONT; FTTH: one unit each)."""

    code: Code = Field(unique=True, index=True, max_length=100)
    building_id: int = Field(foreign_key="building.id", index=True)
    splitter_id: int = Field(foreign_key="splitter.id", index=True)
    splitter_port: int = Field(ge=1, le=MAX_PORTS)
    units: int = Field(ge=1, le=MAX_UNITS)
    take_up: TakeUp = Field(sa_type=String(16), index=True)
    drop_cable_id: int | None = Field(default=None, foreign_key="cable.id", index=True)
    drop_strand: int | None = Field(default=None, ge=1)
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16))
    source: str = Field(max_length=100)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)

    @model_validator(mode="after")
    def _drop_pair(self):
        _together(self, "drop_cable_id", "drop_strand")
        return self


class ResidentialConnection(ResidentialConnectionBase, table=True):
    __table_args__ = (UniqueConstraint("splitter_id", "splitter_port"),)
    id: int | None = Field(default=None, primary_key=True)
