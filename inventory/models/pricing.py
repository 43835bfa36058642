"""Dated, regional price tables for connection planning.

Civil works are 70–90 % of the cost of fibre, so the table prices metres of trench by
laying method separately from metres of cable by strand count. A plan always names the
table (region and valid-from date) it was priced with.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field

from inventory.models.common import InventoryModel


class PriceItemKind(StrEnum):
    TRENCH_PER_M = "trench_per_m"  # key: a LayingMethod
    CABLE_PER_M = "cable_per_m"  # key: strand count, e.g. "48"
    SPLICE = "splice"  # key: "fusion"
    CLOSURE = "closure"  # key: "standard"
    BUILDING_ENTRY = "building_entry"  # key: "standard"


class PriceTableBase(InventoryModel):
    """The fields of a PriceTable row, validated on import (no table)."""

    region: str = Field(max_length=100)
    valid_from: dt.date
    currency: str = Field(default="EUR", max_length=3)
    source: str = Field(max_length=200)


class PriceTable(PriceTableBase, table=True):
    __table_args__ = (UniqueConstraint("region", "valid_from"),)
    id: int | None = Field(default=None, primary_key=True)


class PriceItemBase(InventoryModel):
    """The fields of a PriceItem row, validated on import (no table)."""

    table_id: int = Field(foreign_key="pricetable.id", index=True)
    kind: PriceItemKind = Field(sa_type=String(32))
    key: str = Field(max_length=50)
    price_eur: float = Field(ge=0, le=1_000_000)  # per metre or per piece; more is a typo


class PriceItem(PriceItemBase, table=True):
    __table_args__ = (UniqueConstraint("table_id", "kind", "key"),)
    id: int | None = Field(default=None, primary_key=True)
