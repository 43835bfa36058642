"""Sites: the places the network reaches (PoPs, schools, Kitas, clinics, hotspots...)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import model_validator
from sqlalchemy import String
from sqlmodel import Field

from inventory.models.common import Code, InventoryModel, Status
from netops.vocabulary import SiteKind


class Criticality(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


DEFAULT_CRITICALITY: dict[SiteKind, Criticality] = {
    SiteKind.CORE: Criticality.CRITICAL,
    SiteKind.HOSPITAL: Criticality.CRITICAL,
    SiteKind.SCHOOL: Criticality.HIGH,
    SiteKind.KINDERGARTEN: Criticality.HIGH,
    SiteKind.BUSINESS_PARK: Criticality.MEDIUM,
    SiteKind.PUBLIC_BUILDING: Criticality.MEDIUM,
    SiteKind.CABINET: Criticality.MEDIUM,
    SiteKind.HOTSPOT: Criticality.LOW,
    SiteKind.SMALL_CELL: Criticality.LOW,
}

# Plausible WGS84 box for the network's region (Ruhr area around Gelsenkirchen,
# Gladbeck, Bottrop, with room for the synthetic --scale tiles to the east).
LAT_RANGE = (47.0, 55.5)
LON_RANGE = (5.5, 15.5)


class SiteBase(InventoryModel):
    """The fields of a Site row, validated on import (no table)."""

    code: Code = Field(unique=True, index=True, max_length=100)
    name: str = Field(max_length=300, min_length=1)
    kind: SiteKind = Field(sa_type=String(32), index=True)
    address: str | None = Field(default=None, max_length=300)
    postcode: str | None = Field(default=None, max_length=10)
    city: str = Field(default="Gelsenkirchen", max_length=100)
    lat: float | None = Field(default=None, ge=LAT_RANGE[0], le=LAT_RANGE[1])
    lon: float | None = Field(default=None, ge=LON_RANGE[0], le=LON_RANGE[1])
    district: str | None = Field(default=None, max_length=100, index=True)  # Stadtteil
    borough: str | None = Field(default=None, max_length=100)  # Stadtbezirk
    criticality: Criticality | None = Field(default=None, sa_type=String(16))
    external_id: str | None = Field(default=None, max_length=100)  # e.g. Schulnummer
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16), index=True)
    source: str = Field(max_length=100)  # real dataset name or "generated"
    notes: str | None = Field(default=None, max_length=1000)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)

    @model_validator(mode="after")
    def _coordinates_in_pairs(self):
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        return self

    @property
    def effective_criticality(self) -> Criticality:
        return Criticality(self.criticality or DEFAULT_CRITICALITY[SiteKind(self.kind)])


class Site(SiteBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
