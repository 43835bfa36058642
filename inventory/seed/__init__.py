"""The Gelsenkirchen dataset: generate it (``city.generate``) and load it (``seed``).

Seeding goes through the same validate-then-upsert path as ``netops inventory import``,
so it is idempotent: a second run finds every row unchanged and writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session

from inventory.seed.city import SEED, Dataset, generate
from inventory.store import SourceRow, WriteReport, write

__all__ = ["SEED", "Dataset", "generate", "seed", "write_streets"]


def seed(session: Session, dataset: Dataset, on_kind=None) -> WriteReport:
    batches = [
        (kind, [SourceRow(row, f"<generated {kind}>", i) for i, row in enumerate(rows, start=1)])
        for kind, rows in dataset.rows.items()
    ]
    return write(session, batches, on_kind)


def write_streets(dataset: Dataset, path: Path) -> Path:
    """The candidate street network (GeoJSON LineStrings) for connection planning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": dataset.streets}))
    return path
