"""Connection plans as change sets: every row a plan creates carries its ``plan_id``
and status ``planned`` until the plan is applied (planned → active) or discarded."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, String
from sqlmodel import Field

from inventory.models.common import InventoryModel


class PlanState(StrEnum):
    DRAFT = "draft"
    APPLIED = "applied"
    DISCARDED = "discarded"


class PlanBase(InventoryModel):
    """The fields of a Plan row, validated on import (no table)."""

    name: str = Field(unique=True, index=True, max_length=100)
    kind: str = Field(max_length=32)  # "connect", "connect-redundant", "batch"
    state: PlanState = Field(default=PlanState.DRAFT, sa_type=String(16))
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    price_table_id: int | None = Field(default=None, foreign_key="pricetable.id")
    total_cost_eur: float | None = None
    summary: dict = Field(default_factory=dict, sa_type=JSON)  # route, BOM, loss budget


class Plan(PlanBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
