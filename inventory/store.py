"""Validate file rows and write them all-or-nothing, upserting by natural key.

The same path serves ``netops inventory import`` and the dataset loader (``seed``):

1. every row of every kind is resolved (natural keys → ids) and validated against the
   model; *all* problems are collected, each naming file, row, field and value;
2. only if there are none, rows are written inside the caller's transaction: new keys are
   inserted, changed rows updated, identical rows left alone (so a re-import is a no-op).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from pydantic import ValidationError
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session

from inventory.entities import KINDS, ORDER, EntityKind, Ref, key_of
from inventory.paths import check_paths
from netops.errors import InputError, NetopsError, RowProblem


@dataclass
class SourceRow:
    """A file row with where it came from, for error messages."""

    data: dict[str, Any]
    file: str = "<input>"
    row: int = 0


@dataclass
class WriteReport:
    inserted: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values())

    def as_dict(self) -> dict[str, dict[str, int]]:
        kinds = sorted(set(self.inserted) | set(self.updated) | set(self.unchanged), key=ORDER.index)
        return {
            k: {"inserted": self.inserted[k], "updated": self.updated[k], "unchanged": self.unchanged[k]}
            for k in kinds
        }


class KeyIndex:
    """Natural key ↔ id for every kind already in the database (loaded lazily, per kind)."""

    def __init__(self, session: Session):
        self.session = session
        self.by_key: dict[str, dict[tuple, Any]] = {}
        self.by_id: dict[str, dict[Any, tuple]] = {}
        self.rows: dict[str, dict[tuple, dict[str, Any]]] = {}

    def ensure(self, kind_name: str) -> None:
        if kind_name in self.by_key:
            return
        entity = KINDS[kind_name]
        for ref in entity.refs:
            if ref.target != kind_name:
                self.ensure(ref.target)
        table = entity.model.__table__
        by_key: dict[tuple, Any] = {}
        by_id: dict[Any, tuple] = {}
        # a kind that refers to itself (a splitter cascade) keys its rows by its own fields
        self.by_id.setdefault(kind_name, by_id)
        rows: dict[tuple, dict[str, Any]] = {}
        for db_row in self.session.execute(select(table)).mappings():
            file_row = self.to_file_row(entity, dict(db_row))
            key = key_of(entity, file_row)
            ident = _identity(entity, db_row)
            by_key[key], by_id[ident], rows[key] = ident, key, dict(db_row)
        self.by_key[kind_name], self.by_id[kind_name], self.rows[kind_name] = by_key, by_id, rows

    def to_file_row(self, entity: EntityKind, db_row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        refs = {r.column: r for r in entity.refs}
        for column in entity.columns:
            if column in entity.skip_columns:
                continue
            value = db_row.get(column)
            ref = refs.get(column)
            if ref is None:
                out[column] = value
                continue
            key = self.by_id[ref.target].get(value) if value is not None else None
            for i, file_field in enumerate(ref.file_fields):
                out[file_field] = None if key is None else key[i]
        return out


def _identity(entity: EntityKind, db_row) -> Any:
    if "id" in entity.columns:
        return db_row["id"]
    return tuple(db_row[c] for c in entity.model.__table__.primary_key.columns.keys())


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() == "" else value


def resolve(entity: EntityKind, source: SourceRow, index: KeyIndex) -> tuple[dict | None, list[RowProblem]]:
    """File row → validated database row (without id), or the problems found."""
    problems: list[RowProblem] = []
    data = {k: _blank_to_none(v) for k, v in source.data.items()}

    def problem(field_name: str, reason: str) -> None:
        problems.append(
            RowProblem(source.file, source.row, field_name, str(data.get(field_name, "")), reason)
        )

    unknown = set(data) - set(entity.file_fields) - {"id"}
    for name in sorted(unknown):
        problem(name, f"unknown column for kind {entity.name}; expected: {', '.join(entity.file_fields)}")
    db: dict[str, Any] = {}
    refs = {r.column: r for r in entity.refs}
    for column in entity.columns:
        if column in entity.skip_columns:
            continue
        ref: Ref | None = refs.get(column)
        if ref is None:
            value = data.get(column)
            if column in entity.json_fields and isinstance(value, str):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError as exc:
                    problem(column, f"not valid JSON: {exc.msg}")
                    continue
                except (RecursionError, ValueError):  # nested too deeply, an integer of 5000 digits
                    problem(column, "not readable as JSON: nested too deeply or a number too long")
                    continue
            if value is not None or column in data:
                db[column] = value
            continue
        parts = tuple(data.get(f) for f in ref.file_fields)
        if all(p is None for p in parts):
            if ref.required:
                problem(ref.file_fields[0], f"required: names a {ref.target}")
            db[column] = None
            continue
        key = tuple(None if p is None else str(p) for p in parts)
        target_id = index.by_key[ref.target].get(key)
        if target_id is None:
            described = "/".join(str(p) for p in parts)
            problem(ref.file_fields[-1], f"no {ref.target} {described!r} in the inventory or this import")
        db[column] = target_id
    if problems:
        return None, problems
    try:
        model = entity.schema.model_validate(db)
    except ValidationError as exc:
        for err in exc.errors():
            column = str(err["loc"][0]) if err["loc"] else "(row)"
            field_name = next((r.file_fields[0] for r in entity.refs if r.column == column), column)
            problems.append(
                RowProblem(source.file, source.row, field_name, str(data.get(field_name, "")), err["msg"])
            )
        return None, problems
    dumped = model.model_dump()
    return {c: dumped.get(c) for c in entity.columns if c not in ("id", "plan_id") or c in db}, []


def write(session: Session, batches: Iterable[tuple[str, list[SourceRow]]],
          on_kind: Callable[[str, int], None] | None = None) -> WriteReport:
    """Validate every batch, then upsert them in order; raise InputError if any row is bad.

    Nothing is written when any row is bad: callers run this inside one transaction
    (``session_scope``) and the exception rolls it back.
    """
    index = KeyIndex(session)
    report = WriteReport()
    problems: list[RowProblem] = []
    ordered: list[tuple[str, list[SourceRow]]] = []
    for kind_name, rows in sorted(batches, key=lambda b: ORDER.index(b[0])):
        waves, looped = _parents_first(KINDS[kind_name], rows)
        problems.extend(looped)
        ordered.extend((kind_name, wave) for wave in waves)
    seen_by_kind: dict[str, dict[tuple, SourceRow]] = {}
    for kind_name, rows in ordered:
        entity = KINDS[kind_name]
        index.ensure(kind_name)
        valid: list[tuple[tuple, dict]] = []
        valid_sources: list[SourceRow] = []
        seen = seen_by_kind.setdefault(kind_name, {})
        for source in rows:
            db_row, row_problems = resolve(entity, source, index)
            if row_problems:
                problems.extend(row_problems)
                continue
            key = key_of(entity, index.to_file_row(entity, db_row))
            if key in seen:
                problems.append(
                    RowProblem(source.file, source.row, entity.key[0], "/".join(map(str, key)),
                               f"duplicate key, first seen in row {seen[key].row}")
                )
                continue
            seen[key] = source
            valid.append((key, db_row))
            valid_sources.append(source)
        if entity.check is not None:
            problems.extend(entity.check(entity, index, [(s, r) for s, (_, r) in zip(valid_sources, valid)]))
        if entity.path_of:
            problems.extend(check_paths(entity, index, [(s, r) for s, (_, r) in zip(valid_sources, valid)]))
            inserts, insert_keys, updates, deletes = _replace_paths(entity, index, valid, report)
        else:
            inserts, insert_keys, updates, deletes = [], [], [], []
            for key, db_row in valid:
                existing = index.rows[kind_name].get(key)
                if existing is None:
                    inserts.append(db_row)
                    insert_keys.append(key)
                elif any(existing.get(c) != v for c, v in db_row.items()):
                    updates.append({**db_row, "_ident": index.by_key[kind_name][key]})
                else:
                    report.unchanged[kind_name] += 1
        if problems:
            # keep validating the other kinds' rows (write nothing); rows that refer to this
            # batch's good rows must not report them missing; each gets its own placeholder
            # id (negative, never a real one) so that a natural key made of references (an
            # OLT port's device/interface) still tells two such rows apart
            for key in insert_keys:
                placeholder = -1 - len(index.by_id[kind_name])
                index.by_key[kind_name][key] = placeholder
                index.by_id[kind_name][placeholder] = key
            continue
        try:
            if deletes:
                table = entity.model.__table__
                session.execute(delete(table).where(table.c[entity.path_of].in_(deletes)))
            _apply(session, entity, index, inserts, insert_keys, updates)
        except (IntegrityError, DataError) as exc:
            # e.g. two rows of the file swapping a unique value (a strand, an address) with
            # rows already stored: name the kind and the constraint, not a traceback
            raise NetopsError(f"{kind_name}: the database refused the change: {exc.orig}") from None
        if not entity.path_of:
            report.inserted[kind_name] += len(inserts)
            report.updated[kind_name] += len(updates)
        if on_kind is not None:
            on_kind(kind_name, len(rows))
    if problems:
        raise InputError(problems)
    return report


def _parents_first(entity: EntityKind, rows: list[SourceRow]) -> tuple[list[list[SourceRow]], list[RowProblem]]:
    """A kind that refers to itself (a splitter cascaded on a splitter) is written in waves,
    each row after the row of the same import it names, so one file can hold a whole
    cascade. Rows whose chain of parents in the file loops back are problems."""
    self_refs = [r for r in entity.refs if r.target == entity.name]
    if not self_refs:
        return [rows], []
    ref = self_refs[0]
    by_key = {key_of(entity, s.data): s for s in rows}

    def parent(source: SourceRow) -> tuple | None:
        parts = tuple(_blank_to_none(source.data.get(f)) for f in ref.file_fields)
        key = tuple(None if p is None else str(p) for p in parts)
        return key if key in by_key else None

    depth: dict[tuple, int] = {}
    looped: list[RowProblem] = []
    for key, source in by_key.items():
        chain, here = [], key
        while here is not None and here not in depth and here not in chain:
            chain.append(here)
            here = parent(by_key[here])
        if here in chain:  # the chain came back to itself
            for member in chain[chain.index(here):]:
                depth[member] = -1
                looped_source = by_key[member]
                looped.append(RowProblem(looped_source.file, looped_source.row, ref.file_fields[-1],
                                         "/".join(map(str, parent(looped_source) or ())),
                                         f"the {entity.name} chain in this import loops back to itself"))
        base = 0 if here is None else depth[here] + 1
        for member in reversed(chain):
            if member not in depth:
                depth[member], base = base, base + 1
    waves: list[list[SourceRow]] = [[] for _ in range(max(depth.values(), default=0) + 1)]
    for source in rows:
        level = depth[key_of(entity, source.data)]
        if level >= 0:
            waves[level].append(source)
    return [wave for wave in waves if wave] or [[]], looped


def _replace_paths(entity: EntityKind, index: KeyIndex, valid: list[tuple[tuple, dict]], report: WriteReport):
    """Ordered paths (a cable's segments, a link's hops) change as a whole: the rows given
    for a parent are its complete path, so a changed path replaces the stored one (no row-by-
    row updates that would trip over strand uniqueness halfway through a reordering)."""
    parent_col = entity.path_of
    stored: dict[Any, dict[tuple, dict]] = {}
    for key, row in index.rows[entity.name].items():
        stored.setdefault(row[parent_col], {})[key] = row
    given: dict[Any, dict[tuple, dict]] = {}
    for key, row in valid:
        given.setdefault(row[parent_col], {})[key] = row
    inserts, insert_keys, deletes = [], [], []
    columns = [c for c in entity.columns if c != "id"]
    for parent, rows in given.items():
        old = stored.get(parent, {})
        if rows.keys() == old.keys() and all(
                all(old[k].get(c) == r.get(c) for c in columns) for k, r in rows.items()):
            report.unchanged[entity.name] += len(rows)
            continue
        if old:
            deletes.append(parent)
            for key in old:
                index.rows[entity.name].pop(key)
                index.by_id[entity.name].pop(index.by_key[entity.name].pop(key), None)
        report.updated[entity.name] += len(rows.keys() & old.keys())
        report.inserted[entity.name] += len(rows.keys() - old.keys())
        inserts.extend(rows.values())
        insert_keys.extend(rows.keys())
    return inserts, insert_keys, [], deletes


def _apply(session, entity, index, inserts, insert_keys, updates) -> None:
    table = entity.model.__table__
    has_id = "id" in entity.columns
    if inserts:
        if has_id:
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids = session.execute(stmt, inserts).scalars().all()
        else:
            session.execute(insert(table), inserts)
            pk = table.primary_key.columns.keys()
            ids = [tuple(row[c] for c in pk) for row in inserts]
        for key, ident, row in zip(insert_keys, ids, inserts):
            index.by_key[entity.name][key] = ident
            index.by_id[entity.name][ident] = key
            index.rows[entity.name][key] = {**row, "id": ident} if has_id else row
    if updates:
        pk = ["id"] if has_id else table.primary_key.columns.keys()
        values = {c: bindparam(f"v_{c}") for c in updates[0] if c != "_ident" and c not in pk}
        stmt = update(table).values(values)
        for i, column in enumerate(pk):
            stmt = stmt.where(table.c[column] == bindparam(f"k_{column}"))
        params = []
        for row in updates:
            ident = row["_ident"] if isinstance(row["_ident"], tuple) else (row["_ident"],)
            params.append(
                {**{f"v_{c}": row[c] for c in values}, **{f"k_{c}": ident[i] for i, c in enumerate(pk)}}
            )
        session.execute(stmt, params)
        for row in updates:  # later kinds (paths) validate against the rows as written
            key = index.by_id[entity.name][row["_ident"]]
            index.rows[entity.name][key].update({c: v for c, v in row.items() if c != "_ident"})


def export_rows(session: Session, kind_name: str) -> list[dict[str, Any]]:
    """Every row of a kind as file rows, sorted by natural key."""
    index = KeyIndex(session)
    index.ensure(kind_name)
    entity = KINDS[kind_name]
    rows = [index.to_file_row(entity, r) for r in index.rows[kind_name].values()]
    return sorted(rows, key=lambda r: tuple(_natural(r.get(f)) for f in entity.key))


def _natural(value: Any) -> tuple:
    # numbers in numeric order (seq 2 before seq 10), everything else as text
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))
