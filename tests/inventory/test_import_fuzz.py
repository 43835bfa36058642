"""A deterministic import fuzz: hundreds of damaged files, every entity kind, CSV and GeoJSON.

The base files are the mini city's own rows of each kind (tests/support/mini_city.py plus
a row of every other kind), which import cleanly (first test). Each damaged file breaks
exactly one thing in a base file (its encoding, its structure, one value, one path) so that
it must be refused. Run through the real CLI, each must exit 2 with an error line naming
the file, raise no exception, and leave every table as it was.

The draw is seeded (SEED): the same files on every run and on both databases; a failure
names the case (``case 0042: link_hop.geojson: path_gap``) so it can be replayed alone.
Longer random hunts belong in a separate command, not in ``make test``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import io
import json
import random
from pathlib import Path
from typing import Annotated, Any, Callable, get_args, get_origin

import pytest

from inventory.entities import KINDS, EntityKind
from inventory.models import common
from tests.inventory.conftest import dump

SEED = 1313
FILES_PER_BACKEND = 320

INJECTION = "has space'; DROP TABLE site;--"
BAD_INTS = [str(2**63), str(2**31), str(2**64 + 5), str(-(2**63) - 1), "12abc", "1.5"]
BAD_FLOATS = ["Infinity", "-Infinity", "NaN", "1e308", "-1e308", "1e400"]
FORMATS = ("csv", "geojson")


# -- what each file field is ------------------------------------------------------------

def field_category(entity: EntityKind, name: str) -> tuple[str, dict[str, Any]]:
    """(category, facts) of a file field: code, enum, int, float, str, date, json or ref."""
    info = entity.schema.model_fields.get(name)
    if info is None:
        return "ref", {"required": any(name in r.file_fields and r.required for r in entity.refs)}
    facts = {"required": info.is_required(),
             "max_length": next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)}
    args = [a for a in get_args(info.annotation) if a is not type(None)] or [info.annotation]
    validators = list(info.metadata)
    for arg in args:
        if get_origin(arg) is Annotated:
            validators += get_args(arg)[1:]
    if any(getattr(v, "func", None) is common._code for v in validators):
        return "code", facts
    base = get_args(args[0])[0] if get_origin(args[0]) is Annotated else args[0]
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return "enum", facts
    for kind_type, category in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (dt.date, "date")):
        if base is kind_type:
            return category, facts
    return "json", facts


def fields_of(entity: EntityKind, *categories: str, required: bool | None = None) -> list[str]:
    out = []
    for name in entity.file_fields:
        category, facts = field_category(entity, name)
        if category in categories and (required is None or facts["required"] == required):
            out.append(name)
    return out


# -- serialising rows ------------------------------------------------------------------------

def to_csv(rows: list[dict[str, str]], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _number_or_text(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value


def feature(entity: EntityKind, row: dict[str, Any]) -> dict[str, Any]:
    props = dict(row)
    geometry = None
    if entity.geometry == "point":
        lat, lon = props.pop("lat", ""), props.pop("lon", "")
        if lat != "" or lon != "":
            geometry = {"type": "Point", "coordinates": [_number_or_text(lon), _number_or_text(lat)]}
    elif entity.geometry == "line":
        text = props.pop("geometry", "")
        try:
            coordinates = json.loads(text)
        except ValueError:
            coordinates = text
        geometry = {"type": "LineString", "coordinates": coordinates}
    return {"type": "Feature", "geometry": geometry, "properties": props}


def to_geojson(entity: EntityKind, rows: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "netops_kind": entity.name,
                       "features": [feature(entity, r) for r in rows]}, ensure_ascii=False)


# -- damage ------------------------------------------------------------------------------------

@dataclasses.dataclass
class Base:
    entity: EntityKind
    header: list[str]
    rows: list[dict[str, str]]


@dataclasses.dataclass
class Damaged:
    content: bytes
    args: tuple[str, ...] | None = None  # CLI arguments (--kind ...); None: --kind or not, drawn


Damage = Callable[[random.Random, Base, str], "Damaged | None"]
ROW_DAMAGES: dict[str, Callable[[random.Random, Base], "list[dict] | None"]] = {}
FILE_DAMAGES: dict[str, Damage] = {}


def row_damage(fn):
    ROW_DAMAGES[fn.__name__] = fn
    return fn


def file_damage(fn):
    FILE_DAMAGES[fn.__name__] = fn
    return fn


def _set(rng: random.Random, base: Base, fields: list[str], values: list[str] | Callable[[str], str]):
    """The base rows with one field of one row changed; None when the kind has no such field."""
    if not fields:
        return None
    rows = [dict(r) for r in base.rows]
    row, name = rng.choice(rows), rng.choice(fields)
    row[name] = values(row[name]) if callable(values) else rng.choice(values)
    return rows


@row_damage
def bad_code(rng, base):
    return _set(rng, base, fields_of(base.entity, "code"), [INJECTION, "a b", "-lead", "x" * 101, "ä-umlaut"])


@row_damage
def bad_int(rng, base):
    return _set(rng, base, fields_of(base.entity, "int"), BAD_INTS)


@row_damage
def bad_float(rng, base):
    return _set(rng, base, fields_of(base.entity, "float"), BAD_FLOATS)


@row_damage
def bad_enum(rng, base):
    return _set(rng, base, fields_of(base.entity, "enum"), ["bogus", "Active", "ACTIVE", "fibre optic"])


@row_damage
def bad_date(rng, base):
    return _set(rng, base, fields_of(base.entity, "date"), ["2024-13-01", "yesterday", "2024-02-30"])


@row_damage
def missing_reference(rng, base):
    return _set(rng, base, fields_of(base.entity, "ref"), ["no-such-thing", INJECTION])


@row_damage
def required_blank(rng, base):
    return _set(rng, base, fields_of(base.entity, "code", "enum", "int", "float", "str", "ref", required=True), [""])


@row_damage
def too_long(rng, base):
    limits = {f: field_category(base.entity, f)[1]["max_length"] for f in fields_of(base.entity, "str", "code")}
    fields = [f for f, limit in limits.items() if limit]
    if not fields:
        return None
    name = rng.choice(fields)
    return _set(rng, base, [name], lambda _: "x" * (limits[name] + rng.randint(1, 5000)))


@row_damage
def control_character(rng, base):
    char = rng.choice(["\x01", "\x07", "\x1b", "\x7f", "\x00"])
    return _set(rng, base, fields_of(base.entity, "str", "code", "enum"), lambda v: v[:2] + char + v[2:])


@row_damage
def duplicate_row(rng, base):
    rows = [dict(r) for r in base.rows]
    rows.insert(rng.randrange(len(rows) + 1), dict(rng.choice(rows)))
    return rows


def _paths(base: Base) -> dict[str, list[dict[str, str]]]:
    if not base.entity.path_of:
        return {}
    parent = base.entity.key[0]
    paths: dict[str, list[dict[str, str]]] = {}
    for row in base.rows:
        paths.setdefault(row[parent], []).append(row)
    return paths


@row_damage
def path_gap(rng, base):
    if not base.entity.path_of:
        return None
    rows = [dict(r) for r in base.rows]
    row = rng.choice(rows)
    row["seq"] = str(int(row["seq"]) + rng.randint(2, 9))
    return rows


@row_damage
def path_truncated(rng, base):
    long_paths = [p for p in _paths(base).values() if len(p) >= 2]
    if not long_paths:
        return None
    dropped = rng.choice(long_paths)[-1]
    return [dict(r) for r in base.rows if r is not dropped]


@row_damage
def path_reversed(rng, base):
    long_paths = [p for p in _paths(base).values() if len(p) >= 2]
    if not long_paths:
        return None
    path = rng.choice(long_paths)
    reordered = {id(row): str(len(path) - 1 - int(row["seq"])) for row in path}
    return [{**r, "seq": reordered.get(id(r), r["seq"])} for r in base.rows]


@row_damage
def path_doubles_back(rng, base):
    paths = _paths(base)
    if not paths:
        return None
    path = rng.choice(list(paths.values()))
    step = "segment" if "segment" in base.header else "cable"
    last = path[-1]
    extra = {**last, "seq": str(int(last["seq"]) + 1)}
    if step == "cable":  # same cable back, on strands of its own
        extra.update(strand_a="23", strand_b="24")
    return [dict(r) for r in base.rows] + [extra]


@row_damage
def strand_beyond_cable(rng, base):
    if base.entity.name != "link_hop":
        return None
    return _set(rng, base, ["strand_a", "strand_b"], ["25", "99", "1729"])


def _serialise(base: Base, rows: list[dict], fmt: str) -> bytes:
    header = base.header + sorted({k for r in rows for k in r} - set(base.header))
    text = to_csv(rows, header) if fmt == "csv" else to_geojson(base.entity, rows)
    return text.encode("utf-8")


@file_damage
def foreign_encoding(rng, base, fmt):
    text = _serialise(base, base.rows, fmt).decode()
    encoding = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
    return Damaged(text.encode(encoding))


@file_damage
def latin1_or_cp1252(rng, base, fmt):
    rows = _set(rng, base, fields_of(base.entity, "str", "code"), lambda v: v + " Straße Ä €")
    if rows is None:
        return None
    text = _serialise(base, rows, fmt).decode()
    return Damaged(text.encode(rng.choice(["cp1252", "latin-1"]), errors="replace"))


@file_damage
def binary(rng, base, fmt):
    return Damaged(b"\x89PNG\r\n\x1a\n\x00\xff" + rng.randbytes(rng.randint(10, 3000)))


@file_damage
def empty(rng, base, fmt):
    return Damaged(rng.choice([b"", b"\n", b"\xef\xbb\xbf"]))


@file_damage
def wrong_kind(rng, base, fmt):
    others = [k for k in KINDS.values() if not set(base.header) <= set(k.file_fields)]
    return Damaged(_serialise(base, base.rows, fmt), ("--kind", rng.choice(others).name))


@file_damage
def unknown_kind(rng, base, fmt):
    return Damaged(_serialise(base, base.rows, fmt), ("--kind", rng.choice(["sites", "bogus", "", INJECTION])))


@file_damage
def unknown_column(rng, base, fmt):
    column = rng.choice(["colour", "id2", " ", "Code"])
    rows = [{**r, column: "x"} for r in base.rows]
    return Damaged(_serialise(base, rows, fmt))


@file_damage
def csv_cell_over_the_limit(rng, base, fmt):
    if fmt != "csv":
        return None
    rows = _set(rng, base, base.header, lambda _: "y" * rng.randint(131_073, 300_000))
    return Damaged(_serialise(base, rows, fmt))


@file_damage
def csv_truncated_row(rng, base, fmt):
    if fmt != "csv":
        return None
    text = _serialise(base, base.rows, fmt).decode().rstrip("\n")
    head, _, last = text.rpartition("\n")
    cut = last.index(",") + 1
    return Damaged((head + "\n" + last[: rng.randint(1, cut)]).encode())


@file_damage
def csv_extra_cell(rng, base, fmt):
    if fmt != "csv":
        return None
    lines = _serialise(base, base.rows, fmt).decode().splitlines()
    n = rng.randrange(1, len(lines))
    lines[n] += ",surplus"
    return Damaged(("\n".join(lines) + "\n").encode())


@file_damage
def csv_column_twice(rng, base, fmt):
    if fmt != "csv":
        return None
    lines = _serialise(base, base.rows, fmt).decode().splitlines()
    name = rng.choice(base.header)
    lines = [lines[0] + "," + name] + [line + ",1" for line in lines[1:]]
    return Damaged(("\n".join(lines) + "\n").encode())


def _doc(base: Base) -> dict[str, Any]:
    return json.loads(to_geojson(base.entity, base.rows))


@file_damage
def json_broken(rng, base, fmt):
    if fmt != "geojson":
        return None
    text = to_geojson(base.entity, base.rows)
    return Damaged(text[: rng.randint(1, len(text) - 1)].encode())


@file_damage
def json_deep(rng, base, fmt):
    if fmt != "geojson":
        return None
    depth = rng.randint(100_000, 200_000)
    return Damaged(("[" * depth + "]" * depth).encode())


@file_damage
def json_not_a_collection(rng, base, fmt):
    if fmt != "geojson":
        return None
    doc = rng.choice([[], None, "features", 42, {"type": "Feature"}, {"features": []}])
    return Damaged(json.dumps(doc).encode())


@file_damage
def json_features_wrong_type(rng, base, fmt):
    if fmt != "geojson":
        return None
    doc = _doc(base)
    doc["features"] = rng.choice([{}, "x", None, 7])
    return Damaged(json.dumps(doc).encode())


@file_damage
def json_feature_wrong_type(rng, base, fmt):
    if fmt != "geojson":
        return None
    doc = _doc(base)
    doc["features"][rng.randrange(len(doc["features"]))] = rng.choice(["a string", 3, [1, 2], None, True])
    return Damaged(json.dumps(doc).encode())


@file_damage
def json_member_wrong_type(rng, base, fmt):
    if fmt != "geojson":
        return None
    doc = _doc(base)
    member = rng.choice(["properties", "geometry"])
    rng.choice(doc["features"])[member] = rng.choice(["text", [1, 2], 5, True])
    return Damaged(json.dumps(doc).encode())


@file_damage
def json_property_wrong_type(rng, base, fmt):
    if fmt != "geojson":
        return None
    doc = _doc(base)
    props = rng.choice(doc["features"])["properties"]
    name = rng.choice(fields_of(base.entity, "str", "code", "enum", "int", "date", "ref") or list(props))
    props[name] = rng.choice([[1], {"a": 1}, True, [], {}])
    return Damaged(json.dumps(doc).encode())


@file_damage
def json_number_out_of_range(rng, base, fmt):
    fields = [f for f in fields_of(base.entity, "int", "float") if f not in ("lat", "lon")]  # lat/lon: geometry
    if fmt != "geojson" or not fields:
        return None
    doc = _doc(base)
    props = rng.choice(doc["features"])["properties"]
    name = rng.choice(fields)
    props[name] = rng.choice([2**63, 2**31, float("nan"), float("inf"), 1e308, -(2**70)])
    return Damaged(json.dumps(doc).encode())


@file_damage
def json_bad_netops_kind(rng, base, fmt):
    if fmt != "geojson":
        return None
    doc = _doc(base)
    doc["netops_kind"] = rng.choice(["bogus", ["site"], {"kind": "site"}, 1, None])
    return Damaged(json.dumps(doc).encode(), args=())  # --kind would overrule it


@file_damage
def geometry_damaged(rng, base, fmt):
    if fmt != "geojson" or base.entity.geometry is None:
        return None
    doc = _doc(base)
    feat = rng.choice([f for f in doc["features"] if f["geometry"]])
    damage = rng.choice(["no coordinates", "empty", "null", "3d", "4d", "strings", "type", "outside",
                         "none" if base.entity.geometry == "line" else "empty"])
    geometry = feat["geometry"]
    coordinates = geometry["coordinates"]
    if damage == "no coordinates":
        del geometry["coordinates"]
    elif damage in ("empty", "null"):
        geometry["coordinates"] = [] if damage == "empty" else None
    elif damage in ("3d", "4d"):
        extra = [42.0] if damage == "3d" else [42.0, 7.0]
        geometry["coordinates"] = (coordinates + extra if base.entity.geometry == "point"
                                   else [p + extra for p in coordinates])
    elif damage == "strings":
        geometry["coordinates"] = ["7.1", "51.5"] if base.entity.geometry == "point" else [["a", "b"], ["c", "d"]]
    elif damage == "type":
        geometry["type"] = rng.choice(["Polygon", "MultiPoint", "point", None])
    elif damage == "outside":
        geometry["coordinates"] = [0.0, 0.0] if base.entity.geometry == "point" else [[0.0, 0.0], [1.0, 1.0]]
    else:
        feat["geometry"] = None
    return Damaged(json.dumps(doc).encode())


def _row_level(name):
    def damage(rng, base, fmt):
        rows = ROW_DAMAGES[name](rng, base)
        return None if rows is None else Damaged(_serialise(base, rows, fmt))
    return damage


ALL_DAMAGES: dict[str, Damage] = {**{n: _row_level(n) for n in ROW_DAMAGES}, **FILE_DAMAGES}


# -- the cases ------------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    label: str
    path: Path
    args: tuple[str, ...]


@pytest.fixture(scope="module")
def bases(mini_cli, tmp_path_factory) -> dict[str, Base]:
    out = tmp_path_factory.mktemp("bases")
    result: dict[str, Base] = {}
    for name, entity in KINDS.items():
        path = out / f"{name}.csv"
        exported = mini_cli("inventory", "export", "--kind", name, "--out", str(path))
        assert exported.exit_code == 0, exported.output
        reader = csv.DictReader(path.open(encoding="utf-8", newline=""))
        result[name] = Base(entity, list(reader.fieldnames), list(reader))
        assert result[name].rows, f"the mini city has no {name} rows to damage"
    return result


def draw_cases(bases: dict[str, Base], out: Path) -> list[Case]:
    """FILES_PER_BACKEND damaged files, the same on every run."""
    rng = random.Random(SEED)
    # a damage first, then a kind and format it applies to: rare damages (paths) get drawn too
    candidates = {damage: [(kind, fmt) for kind in bases for fmt in FORMATS] for damage in ALL_DAMAGES}
    cases: list[Case] = []
    while len(cases) < FILES_PER_BACKEND:
        damage = rng.choice(sorted(candidates))
        kind, fmt = rng.choice(candidates[damage])
        damaged = ALL_DAMAGES[damage](rng, bases[kind], fmt)
        if damaged is None:
            candidates[damage].remove((kind, fmt))
            if not candidates[damage]:
                del candidates[damage]
            continue
        number = len(cases)
        folder = out / f"{number:04d}"
        folder.mkdir()
        path = folder / f"{kind}.{fmt}"
        path.write_bytes(damaged.content)
        args = damaged.args if damaged.args is not None else (("--kind", kind) if rng.random() < 0.5 else ())
        cases.append(Case(f"case {number:04d}: {kind}.{fmt}: {damage}", path, args))
    return cases


def test_base_files_import_cleanly(mini_db, mini_cli, bases, tmp_path):
    """The undamaged files of every kind and format import with nothing to change, so the
    damage alone is what the fuzz below sees refused."""
    before = dump(mini_db[1])
    for kind, base in bases.items():
        for fmt in FORMATS:
            path = tmp_path / f"{kind}.{fmt}"
            path.write_bytes(_serialise(base, base.rows, fmt))
            result = mini_cli("inventory", "import", str(path), "--json")
            assert result.exit_code == 0, (kind, fmt, result.output)
            counts = json.loads(result.stdout)[kind]
            assert counts == {"inserted": 0, "updated": 0, "unchanged": len(base.rows)}, (kind, fmt)
    assert dump(mini_db[1]) == before


def test_every_damaged_file_is_refused_and_changes_nothing(mini_db, mini_cli, bases, tmp_path):
    cases = draw_cases(bases, tmp_path)
    drawn = {(c.path.stem, c.path.suffix) for c in cases}
    assert {k for k, _ in drawn} == set(KINDS) and {s for _, s in drawn} == {".csv", ".geojson"}
    assert {c.label.rpartition(": ")[2] for c in cases} == set(ALL_DAMAGES)
    before = dump(mini_db[1])
    for case in cases:
        result = mini_cli("inventory", "import", *case.args, str(case.path))
        assert result.exit_code == 2, f"{case.label}: exit {result.exit_code}\n{result.output[:2000]}"
        first = result.stderr.splitlines()[0] if result.stderr else ""
        assert first.startswith("error: ") and str(case.path) in first, f"{case.label}: {first[:300]}"
        assert len(first) < 600, f"{case.label}: a {len(first)}-character error line"
        assert dump(mini_db[1]) == before, f"{case.label}: the database changed"
