"""Vocabulary shared by the inventory models, and the checks every imported value passes.

Enumerations are stored as plain strings (``sa_type=String``), not native database
enums, so that adding a kind is a code change and not a migration on PostgreSQL.
Pydantic still checks them in ``Model.model_validate`` (used by every import).

Table models do not validate on construction (SQLModel), so the checks live on the plain
``*Base`` models that import validates against. They hold the *database's* limits too, so
that SQLite and PostgreSQL accept exactly the same rows: integer columns are 32-bit
``INTEGER`` on PostgreSQL (SQLite would take 64 bits), PostgreSQL text cannot hold NUL,
and no column takes Infinity or NaN.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, ValidationInfo, field_validator
from sqlmodel import SQLModel


class Status(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    DECOMMISSIONED = "decommissioned"


#: ``source`` value of every generated row; real rows name their dataset
GENERATED = "generated"

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$"
_CODE = re.compile(CODE_PATTERN)

#: what a 32-bit INTEGER column holds (PostgreSQL); SQLite is held to the same
INT32_RANGE = (-(2**31), 2**31 - 1)

# control characters have no place in inventory text; tab and line breaks only in free text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _code(value: str) -> str:
    # report/alerting.py and configs/store.py build regexes and file names from codes
    if not _CODE.match(value):
        raise ValueError("a code is 1-100 letters, digits and _ . : / -, starting with a letter or digit")
    return value


#: a natural key people type and tools embed in names, regexes and paths
Code = Annotated[str, AfterValidator(_code)]


class InventoryModel(SQLModel):
    """Base of every ``*Base`` model: the limits both databases share."""

    model_config = ConfigDict(allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # pydantic reads JSON true as 1; no inventory field is a yes/no
        if isinstance(value, bool):
            raise ValueError("true/false is not a value of this field")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _database_limits(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, int) and not INT32_RANGE[0] <= value <= INT32_RANGE[1]:
            raise ValueError(f"out of range: integers are stored in 32 bits "
                             f"({INT32_RANGE[0]}..{INT32_RANGE[1]})")
        if isinstance(value, str):
            bad = _CONTROL.search(value)
            if bad:
                raise ValueError(f"contains the control character {bad.group()!r}")
        return value
