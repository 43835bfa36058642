"""Named access profiles for SNMP and SSH. They hold no secret values: those come from
the environment or the 0600 secrets file (``netops.secrets``), looked up by profile name."""

from __future__ import annotations

from enum import StrEnum

from pydantic import model_validator
from sqlalchemy import String
from sqlmodel import Field

from inventory.models.common import Code, InventoryModel


class SnmpVersion(StrEnum):
    V2C = "v2c"
    V3 = "v3"


class SnmpAuthProtocol(StrEnum):
    NONE = "none"
    SHA = "sha"
    SHA256 = "sha256"
    SHA512 = "sha512"


class SnmpPrivProtocol(StrEnum):
    NONE = "none"
    AES = "aes"  # AES-128-CFB
    AES256 = "aes256"


class SnmpProfileBase(InventoryModel):
    """The fields of a SnmpProfile row, validated on import (no table)."""

    name: Code = Field(unique=True, index=True, max_length=100)
    version: SnmpVersion = Field(sa_type=String(8))
    user: str | None = Field(default=None, max_length=100)  # v3 security name
    auth_protocol: SnmpAuthProtocol = Field(default=SnmpAuthProtocol.NONE, sa_type=String(16))
    priv_protocol: SnmpPrivProtocol = Field(default=SnmpPrivProtocol.NONE, sa_type=String(16))
    max_repetitions: int = Field(default=25, ge=1, le=200)
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=10)

    @model_validator(mode="after")
    def _v3_needs_user(self):
        if self.version == SnmpVersion.V3 and not self.user:
            raise ValueError("an SNMPv3 profile needs a user")
        if self.priv_protocol != SnmpPrivProtocol.NONE and self.auth_protocol == SnmpAuthProtocol.NONE:
            raise ValueError("privacy without authentication is not allowed in SNMPv3")
        return self


class SnmpProfile(SnmpProfileBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class SshProfileBase(InventoryModel):
    """The fields of a SshProfile row, validated on import (no table)."""

    name: Code = Field(unique=True, index=True, max_length=100)
    username: str = Field(max_length=100)
    port: int = Field(default=22, ge=1, le=65535)
    conn_timeout_s: float = Field(default=10.0, gt=0, le=120)
    read_timeout_s: float = Field(default=30.0, gt=0, le=600)


class SshProfile(SshProfileBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
