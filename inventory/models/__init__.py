"""The inventory schema, split by sub-domain (NetBox style).

sites     Site (+ kinds, criticality)
devices   Device, Interface, OpticType
plant     RouteNode, TrenchSegment, SpliceClosure, Cable, CableSegment
links     Link, LinkHop
pricing   PriceTable, PriceItem
profiles  SnmpProfile, SshProfile
plans     Plan (change sets)
seed      SeedRow (what the last seed wrote)
access    Building, BusinessConnection, OltPort, Splitter, ResidentialConnection (customers, PON)
"""

from sqlmodel import SQLModel

from inventory.models.access import (
    SLA_WEIGHT,
    Building,
    BusinessAccess,
    BusinessConnection,
    OltPort,
    OpticsClass,
    ResidentialConnection,
    ServiceClass,
    Splitter,
    TakeUp,
)
from inventory.models.common import GENERATED, Status
from inventory.models.devices import Device, DeviceRole, Interface, InterfaceKind, OpticType
from inventory.models.links import Link, LinkHop, LinkMedium
from inventory.models.plans import Plan, PlanState
from inventory.models.plant import (
    Cable,
    CableSegment,
    LayingMethod,
    NodeKind,
    RouteNode,
    SpliceClosure,
    TrenchSegment,
)
from inventory.models.pricing import PriceItem, PriceItemKind, PriceTable
from inventory.models.profiles import (
    SnmpAuthProtocol,
    SnmpPrivProtocol,
    SnmpProfile,
    SnmpVersion,
    SshProfile,
)
from inventory.models.sites import DEFAULT_CRITICALITY, Criticality, Site, SiteKind
from inventory.models.seed import SeedRow

metadata = SQLModel.metadata

__all__ = [
    "GENERATED", "Status", "Device", "DeviceRole", "Interface", "InterfaceKind", "OpticType",
    "Link", "LinkHop", "LinkMedium", "Plan", "PlanState", "Cable", "CableSegment",
    "LayingMethod", "NodeKind", "RouteNode", "SpliceClosure", "TrenchSegment", "PriceItem",
    "PriceItemKind", "PriceTable", "SnmpAuthProtocol", "SnmpPrivProtocol", "SnmpProfile",
    "SnmpVersion", "SshProfile", "DEFAULT_CRITICALITY", "Criticality", "Site", "SiteKind",
    "metadata", "SeedRow", "SLA_WEIGHT", "Building", "BusinessAccess", "BusinessConnection", "OltPort",
    "OpticsClass", "ResidentialConnection", "ServiceClass", "Splitter", "TakeUp",
]
