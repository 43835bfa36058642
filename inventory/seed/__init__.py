"""The Gelsenkirchen dataset: generate it (``city.generate``) and load it (``seed``).

Seeding goes through the same validate-then-upsert path as ``netops inventory import``,
so it is idempotent: a second run finds every row unchanged and writes nothing.

A re-seed lives together with plans and imports. The seed records what it wrote
(``SeedRow``: kind, natural key, digest of the stored row) and on the next run sorts every
generated row into one of::

    missing in the database              -> inserted
    stored, digest as the seed left it   -> updated to what the generator makes now
    stored, changed since (plan, import) -> kept as it is, and reported by name
    recorded, no longer generated        -> deleted with ``prune`` if unchanged, else reported

A row the seed never wrote (a plan's cable, an imported site) is never touched. A stored
row without a record (imported first, or seeded before netops kept records) is updated
only if the generator makes it exactly as stored, so nothing an operator changed is lost.
Ordered paths (a cable's segments, a link's hops) are judged as a whole per parent.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from inventory.entities import KINDS, ORDER, EntityKind, key_of
from inventory.models import SeedRow
from inventory.seed.city import SEED, Dataset, generate
from inventory.store import KeyIndex, SourceRow, WriteReport, resolve, write
from netops.errors import NetopsError
from netops.textfile import write_text

__all__ = ["SEED", "Dataset", "SeedReport", "generate", "seed", "write_streets"]


@dataclass
class SeedReport:
    written: WriteReport
    kept: dict[str, list[str]] = field(default_factory=dict)  # changed since the seed wrote them
    pruned: Counter = field(default_factory=Counter)
    stale: dict[str, list[str]] = field(default_factory=dict)  # no longer generated, not pruned

    # the store's counts, as callers of the plain upsert knew them
    changed = property(lambda self: self.written.changed)
    inserted = property(lambda self: self.written.inserted)
    updated = property(lambda self: self.written.updated)
    unchanged = property(lambda self: self.written.unchanged)

    def as_dict(self) -> dict[str, dict[str, int]]:
        written = self.written.as_dict()
        kinds = sorted(set(written) | set(self.kept) | set(self.pruned) | set(self.stale), key=ORDER.index)
        empty = {"inserted": 0, "updated": 0, "unchanged": 0}
        return {k: {**written.get(k, empty), "kept": len(self.kept.get(k, ())), "pruned": self.pruned[k],
                    "stale": len(self.stale.get(k, ()))} for k in kinds}


def _digest(file_row: dict[str, Any]) -> str:
    return hashlib.blake2b(json.dumps(file_row, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()


def _key_text(key: tuple) -> str:
    return json.dumps(list(key), ensure_ascii=False)


def _unit(entity: EntityKind, key: tuple) -> tuple:
    """What is kept or replaced as a whole: a row, or for ordered paths the parent's path."""
    return key[:1] if entity.path_of else key


def _stored_digests(index: KeyIndex, entity: EntityKind) -> dict[tuple, str]:
    index.ensure(entity.name)
    return {key: _digest(index.to_file_row(entity, row)) for key, row in index.rows[entity.name].items()}


def seed(session: Session, dataset: Dataset, on_kind=None, prune: bool = False) -> SeedReport:
    """Write the dataset without reverting what plans and imports changed (see module doc)."""
    index = KeyIndex(session)
    recorded: dict[str, dict[tuple, str]] = {}
    for kind, key, digest in session.execute(select(SeedRow.kind, SeedRow.key, SeedRow.digest)):
        recorded.setdefault(kind, {})[tuple(json.loads(key))] = digest
    report = SeedReport(WriteReport())
    before: dict[str, dict[tuple, str]] = {}
    batches = []
    for kind, rows in dataset.rows.items():
        entity = KINDS[kind]
        stored = before[kind] = _stored_digests(index, entity)
        seen = recorded.get(kind, {})
        changed = {_unit(entity, key) for key, digest in stored.items()
                   if key in seen and digest != seen[key]}
        if entity.path_of:
            # a recorded step gone, or a step the seed did not write: someone else's path
            generated_keys = {key_of(entity, row) for row in rows}
            changed |= {_unit(entity, key) for key in seen if key not in stored}
            changed |= {_unit(entity, key) for key in stored if key not in seen and key not in generated_keys}
        sources = []
        for i, row in enumerate(rows, start=1):
            source = SourceRow(row, f"<generated {kind}>", i)
            key = key_of(entity, row)
            if key in stored and key not in seen and not _as_generated(entity, source, index, key):
                changed.add(_unit(entity, key))
            if _unit(entity, key) in changed:
                report.kept.setdefault(kind, []).append("/".join(key))
                continue
            sources.append(source)
        batches.append((kind, sources))
    del index  # the rows as they were: memory for the rows as they are now
    report.written = write(session, batches, on_kind)

    # what the seed owns now: every row it wrote or found as generated; kept rows keep their
    # old record (still "changed"), rows no longer generated are pruned or reported
    after = KeyIndex(session)
    generated = {kind: {key_of(KINDS[kind], s.data) for s in sources} for kind, sources in batches}
    all_generated = {kind: {key_of(KINDS[kind], row) for row in rows} for kind, rows in dataset.rows.items()}
    new_records: dict[tuple[str, tuple], str] = {}
    pruned: dict[str, set[tuple]] = {}
    for kind in ORDER:
        entity = KINDS[kind]
        if kind not in before and kind not in recorded:
            continue
        rewritten = report.written.inserted[kind] or report.written.updated[kind] or kind not in before
        digests = _stored_digests(after, entity) if rewritten else before[kind]  # no write, no change
        for key in generated.get(kind, ()):
            if key in digests:
                new_records[(kind, key)] = digests[key]
        for key, digest in recorded.get(kind, {}).items():
            if key in all_generated.get(kind, ()) or key not in digests:
                if key in all_generated.get(kind, ()) and (kind, key) not in new_records:
                    new_records[(kind, key)] = digest  # kept: the old record says "changed since"
                continue
            # a step of a path goes only with its parent (a kept link keeps its hops)
            parent_goes = not entity.path_of or key[:1] in pruned.get(_parent_kind(entity), ())
            if prune and digests[key] == digest and parent_goes:
                report.pruned[kind] += 1
                pruned.setdefault(kind, set()).add(key)
            else:
                report.stale.setdefault(kind, []).append("/".join(key))
                new_records[(kind, key)] = digest
    if prune:
        _prune(session, after, recorded, new_records, report)
    _save_records(session, recorded, new_records)
    return report


def _parent_kind(entity: EntityKind) -> str:
    return next(ref.target for ref in entity.refs if ref.column == entity.path_of)


def _as_generated(entity: EntityKind, source: SourceRow, index: KeyIndex, key: tuple) -> bool:
    """A stored row the seed has no record of: is it exactly what the generator makes?"""
    db_row, problems = resolve(entity, source, index)
    if problems:
        return True  # let the store report the problem
    existing = index.rows[entity.name][key]
    return all(existing.get(c) == v for c, v in db_row.items())


def _prune(session: Session, index: KeyIndex, recorded, new_records, report: SeedReport) -> None:
    """Delete recorded rows the generator no longer makes, children before parents; a row
    that something else still refers to (a plan's cable in a generated trench) stops it."""
    for kind in reversed(ORDER):
        entity = KINDS[kind]
        index.ensure(kind)
        gone = [key for key in recorded.get(kind, {}) if (kind, key) not in new_records
                and key in index.by_key[kind]]
        if not gone:
            continue
        table = entity.model.__table__
        idents = [index.by_key[kind][key] for key in gone]
        try:
            if "id" in entity.columns:
                session.execute(delete(table).where(table.c.id.in_(idents)))
            else:
                pk = [table.c[c] for c in table.primary_key.columns.keys()]
                session.execute(delete(table).where(tuple_(*pk).in_(idents)))
        except IntegrityError:
            raise NetopsError(
                f"--prune: {kind} {', '.join('/'.join(k) for k in gone[:5])} is no longer generated but "
                "rows the seed did not write (a plan, an import) still refer to it; nothing was changed. "
                "Discard or re-plan those, or seed without --prune") from None


def _save_records(session: Session, recorded, new_records) -> None:
    old = {(kind, key): digest for kind, rows in recorded.items() for key, digest in rows.items()}
    table = SeedRow.__table__
    dropped = [(kind, _key_text(key)) for kind, key in old.keys() - new_records.keys()]
    if dropped:
        session.execute(delete(table).where(tuple_(table.c.kind, table.c.key).in_(dropped)))
    added = [{"kind": k, "key": _key_text(key), "digest": d} for (k, key), d in new_records.items()
             if (k, key) not in old]
    if added:
        session.execute(insert(table), added)
    changed = [{"k": k, "kk": _key_text(key), "d": d} for (k, key), d in new_records.items()
               if (k, key) in old and old[(k, key)] != d]
    if changed:
        session.execute(update(table).where(table.c.kind == bindparam("k"), table.c.key == bindparam("kk"))
                        .values(digest=bindparam("d")), changed)


def write_streets(dataset: Dataset, path: Path) -> Path:
    """The candidate street network (GeoJSON LineStrings) for connection planning."""
    write_text(path, json.dumps({"type": "FeatureCollection", "features": dataset.streets}))
    return path
