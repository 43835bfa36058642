"""The outside plant: where the glass physically lies.

Three layers, each resting on the one below::

    route nodes   M1 ------ M2 ------ C3 ------ E4        manholes (M), a cabinet (C),
                     seg-1     seg-2     seg-3             a site entry (E) of a school
                  (trench segments: civil works with N ducts, LineString geometry)

    cables        [closure@M1]====cab-7====[closure@C3]====cab-8====[school]
                   cab-7 runs through seg-1, seg-2 (ordered CableSegment rows)
                   cab-8 runs through seg-3

    links         PoP switch Te1/1 <-- strands 5/6 of cab-7, 1/2 of cab-8 --> school switch
                  (LinkHop rows, see ``links.py``)

A *trench segment* is the unit of civil works and of shared risk: an excavator cuts every
duct in it, so two "redundant" cables that pass through the same segment are not
redundant. A *cable* has two ends, each a site (its building entry) or a splice
closure, and an ordered path of segments that must connect those ends.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import field_validator, model_validator
from sqlalchemy import JSON, String
from sqlmodel import Field

from inventory.models.common import Code, InventoryModel, Status
from inventory.models.sites import LAT_RANGE, LON_RANGE


class NodeKind(StrEnum):
    MANHOLE = "manhole"
    CABINET = "cabinet"
    SITE_ENTRY = "site_entry"
    JUNCTION = "junction"


class LayingMethod(StrEnum):
    OPEN_TRENCH = "open_trench"
    MICRO_TRENCH = "micro_trench"
    HDD = "hdd"  # horizontal directional drilling
    AERIAL = "aerial"
    EXISTING_DUCT = "existing_duct"  # leased/re-used duct of another utility


class RouteNodeBase(InventoryModel):
    """The fields of a RouteNode row, validated on import (no table)."""

    code: Code = Field(unique=True, index=True, max_length=100)
    kind: NodeKind = Field(sa_type=String(16))
    lat: float = Field(ge=LAT_RANGE[0], le=LAT_RANGE[1])
    lon: float = Field(ge=LON_RANGE[0], le=LON_RANGE[1])
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16))
    source: str = Field(max_length=100)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)


class RouteNode(RouteNodeBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class TrenchSegmentBase(InventoryModel):
    """Civil works between two route nodes, carrying ``ducts_total`` ducts."""

    code: Code = Field(unique=True, index=True, max_length=100)
    a_node_id: int = Field(foreign_key="routenode.id", index=True)
    b_node_id: int = Field(foreign_key="routenode.id", index=True)
    # GeoJSON LineString coordinates, [[lon, lat], ...], from a-node to b-node
    geometry: list[list[float]] = Field(sa_type=JSON)
    length_m: float = Field(gt=0, le=100_000)
    laying_method: LayingMethod = Field(sa_type=String(16))
    ducts_total: int = Field(ge=1, le=48)
    ducts_used: int = Field(ge=0, le=48)
    year: int | None = Field(default=None, ge=1950, le=2100)
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16))
    source: str = Field(max_length=100)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)

    @model_validator(mode="after")
    def _consistent(self):
        if self.a_node_id == self.b_node_id:
            raise ValueError("a segment needs two different end nodes")
        if self.ducts_used > self.ducts_total:
            raise ValueError(f"ducts_used {self.ducts_used} > ducts_total {self.ducts_total}")
        return self

    @field_validator("geometry")
    @classmethod
    def _wgs84_line(cls, geometry: list[list[float]]) -> list[list[float]]:
        if len(geometry) < 2:
            raise ValueError("geometry needs at least two points")
        for point in geometry:
            if len(point) != 2:
                raise ValueError(f"geometry point {point} is not (lon, lat): only 2D WGS84 coordinates are stored")
            lon, lat = point
            if not (LON_RANGE[0] <= lon <= LON_RANGE[1] and LAT_RANGE[0] <= lat <= LAT_RANGE[1]):
                raise ValueError(f"geometry point {point} is outside the region (lon {LON_RANGE}, lat {LAT_RANGE})")
        return geometry


class TrenchSegment(TrenchSegmentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class SpliceClosureBase(InventoryModel):
    """The fields of a SpliceClosure row, validated on import (no table)."""

    code: Code = Field(unique=True, index=True, max_length=100)
    node_id: int = Field(foreign_key="routenode.id", index=True)
    capacity_splices: int = Field(default=96, ge=1)
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16))
    source: str = Field(max_length=100)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)


class SpliceClosure(SpliceClosureBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class CableBase(InventoryModel):
    """A fibre cable; each end is a site or a splice closure (exactly one of the two)."""

    code: Code = Field(unique=True, index=True, max_length=100)
    strands: int = Field(ge=1, le=1728)
    a_site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    a_closure_id: int | None = Field(default=None, foreign_key="spliceclosure.id", index=True)
    b_site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    b_closure_id: int | None = Field(default=None, foreign_key="spliceclosure.id", index=True)
    length_m: float = Field(gt=0, le=200_000)
    year: int | None = Field(default=None, ge=1950, le=2100)
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16))
    source: str = Field(max_length=100)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)

    @model_validator(mode="after")
    def _one_thing_per_end(self):
        for end in ("a", "b"):
            site, closure = getattr(self, f"{end}_site_id"), getattr(self, f"{end}_closure_id")
            if (site is None) == (closure is None):
                raise ValueError(f"end {end} must be either a site or a splice closure")
        return self


class Cable(CableBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class CableSegmentBase(InventoryModel):
    """The ordered path of a cable through trench segments (seq 0 starts at the a-end)."""

    cable_id: int = Field(foreign_key="cable.id", primary_key=True)
    seq: int = Field(primary_key=True, ge=0)
    segment_id: int = Field(foreign_key="trenchsegment.id", index=True)


class CableSegment(CableSegmentBase, table=True):
    pass
