"""Active equipment: devices, their interfaces, and the optics in those interfaces."""

from __future__ import annotations

import ipaddress
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field

from inventory.models.common import Code, InventoryModel, Status


class DeviceRole(StrEnum):
    CORE_ROUTER = "core_router"
    DISTRIBUTION_SWITCH = "distribution_switch"
    ACCESS_SWITCH = "access_switch"
    WIFI_AP = "wifi_ap"
    WLC = "wlc"
    FIREWALL = "firewall"
    OLT = "olt"  # optical line terminal: the PON head end at a PoP


class InterfaceKind(StrEnum):
    FIBRE = "fibre"
    COPPER = "copper"
    RADIO = "radio"
    VIRTUAL = "virtual"


class DeviceBase(InventoryModel):
    """The fields of a Device row, validated on import (no table)."""

    name: Code = Field(unique=True, index=True, max_length=100)  # hostname
    site_id: int = Field(foreign_key="site.id", index=True)
    role: DeviceRole = Field(sa_type=String(32), index=True)
    platform: str = Field(max_length=50)  # a netmiko device_type, e.g. cisco_ios
    vendor: str | None = Field(default=None, max_length=50)
    model: str | None = Field(default=None, max_length=100)
    mgmt_ip: str | None = Field(default=None, unique=True, max_length=45)
    snmp_profile: Code | None = Field(default=None, max_length=100)  # SnmpProfile.name
    ssh_profile: Code | None = Field(default=None, max_length=100)  # SshProfile.name
    serial: str | None = Field(default=None, max_length=100)
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16), index=True)
    source: str = Field(max_length=100)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)

    @field_validator("mgmt_ip")
    @classmethod
    def _valid_ip(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        return str(ipaddress.ip_address(value.strip()))


class Device(DeviceBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class OpticTypeBase(InventoryModel):
    """A transceiver type and its optical power budget (worst case, from the datasheet)."""

    name: Code = Field(unique=True, index=True, max_length=100)  # e.g. 1000BASE-LX-10km
    standard: str = Field(max_length=50)  # e.g. 1000BASE-LX
    wavelength_nm: int = Field(ge=800, le=1700)
    reach_km: float = Field(gt=0, le=200)
    tx_min_dbm: float = Field(ge=-20, le=10)
    rx_sensitivity_dbm: float = Field(ge=-40, le=0)
    source: str = Field(default="datasheet", max_length=100)

    @property
    def power_budget_db(self) -> float:
        return round(self.tx_min_dbm - self.rx_sensitivity_dbm, 2)


class OpticType(OpticTypeBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class InterfaceBase(InventoryModel):
    """The fields of a Interface row, validated on import (no table)."""

    device_id: int = Field(foreign_key="device.id", index=True)
    name: str = Field(max_length=64)
    kind: InterfaceKind = Field(sa_type=String(16))
    speed_mbps: int | None = Field(default=None, ge=0)
    optic_id: int | None = Field(default=None, foreign_key="optictype.id")
    description: str | None = Field(default=None, max_length=200)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)


class Interface(InterfaceBase, table=True):
    __table_args__ = (UniqueConstraint("device_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
