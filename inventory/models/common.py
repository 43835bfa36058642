"""Vocabulary shared by the inventory models.

Enumerations are stored as plain strings (``sa_type=String``), not native database
enums, so that adding a kind is a code change and not a migration on PostgreSQL.
Pydantic still checks them in ``Model.model_validate`` (used by every import).
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    DECOMMISSIONED = "decommissioned"


#: ``source`` value of every generated row; real rows name their dataset
GENERATED = "generated"

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$"
