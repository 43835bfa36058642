"""What ``netops inventory seed`` last wrote, so that a re-seed and plans live together.

One row per row the seed wrote: its kind, natural key and a digest of the row as the seed
left it. On the next seed a row whose digest still matches is the seed's to update (or,
with ``--prune``, to delete when the generator no longer makes it); a row that differs was
changed since by a plan or an import, and the seed leaves it alone.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class SeedRow(SQLModel, table=True):
    __tablename__ = "seedrow"

    kind: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=500)  # JSON list of the natural key's parts
    digest: str = Field(max_length=40)
