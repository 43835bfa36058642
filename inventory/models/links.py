"""Logical links and the strands that carry them.

A fibre link between two interfaces is carried, hop by hop, on a strand pair of each
cable along its path, spliced through at the closures in between::

    dev A Te1/1 ──[cab-7 strands 5/6]── closure@C3 ──[cab-8 strands 1/2]── dev B Gi0/1
                    LinkHop seq 0                      LinkHop seq 1

Radio links (meshed hotspots) and patch links inside a site have no hops.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import model_validator
from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field

from inventory.models.common import Code, InventoryModel, Status


class LinkMedium(StrEnum):
    FIBRE = "fibre"
    RADIO = "radio"
    COPPER = "copper"


class LinkBase(InventoryModel):
    """The fields of a Link row, validated on import (no table)."""

    code: Code = Field(unique=True, index=True, max_length=100)
    a_interface_id: int = Field(foreign_key="interface.id", index=True)
    b_interface_id: int = Field(foreign_key="interface.id", index=True)
    medium: LinkMedium = Field(sa_type=String(16))
    status: Status = Field(default=Status.ACTIVE, sa_type=String(16))
    source: str = Field(max_length=100)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)

    @model_validator(mode="after")
    def _two_ends(self):
        if self.a_interface_id == self.b_interface_id:
            raise ValueError("a link needs two different interfaces")
        return self


class Link(LinkBase, table=True):
    __table_args__ = (UniqueConstraint("a_interface_id", "b_interface_id"),)
    id: int | None = Field(default=None, primary_key=True)


class LinkHopBase(InventoryModel):
    """The fields of a LinkHop row, validated on import (no table)."""

    link_id: int = Field(foreign_key="link.id", primary_key=True)
    seq: int = Field(primary_key=True, ge=0)
    cable_id: int = Field(foreign_key="cable.id", index=True)
    strand_a: int = Field(ge=1)  # transmit strand at the link's a-end
    strand_b: int = Field(ge=1)

    @model_validator(mode="after")
    def _a_pair(self):
        if self.strand_a == self.strand_b:
            raise ValueError("a strand pair needs two different strands")
        return self


class LinkHop(LinkHopBase, table=True):
    __table_args__ = (UniqueConstraint("cable_id", "strand_a"), UniqueConstraint("cable_id", "strand_b"))
