"""CSV and GeoJSON files of one entity kind each.

CSV: one header row with the kind's file fields (``netops inventory export`` writes
them), references as natural keys, JSON columns (segment geometry) as JSON text.
GeoJSON: a FeatureCollection whose features carry the file fields as properties;
points (sites, route nodes) take lat/lon from the geometry, segments their LineString.
Exports add the foreign member ``"netops_kind"`` so that import needs no ``--kind``;
files from elsewhere (QGIS, a city GIS) are recognised by name or by their columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
from pathlib import Path
from typing import Any

from inventory.entities import KINDS, EntityKind
from inventory.store import SourceRow
from netops.errors import InputError, NetopsError, RowProblem

FORMATS = ("csv", "geojson")


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("geojson", "json"):
        return "geojson"
    if suffix == "csv":
        return "csv"
    raise NetopsError(f"{path}: unknown file type {path.suffix!r}; use .csv or .geojson")


def _kind_from_name(path: Path) -> str | None:
    stem = path.stem.lower().replace("-", "_")
    for name in sorted(KINDS, key=len, reverse=True):
        if stem == name or stem == name + "s" or stem.startswith(name + "s_") or stem.startswith(name + "_"):
            return name
    return None


def _kind_from_fields(path: Path, fields: set[str]) -> str:
    candidates = [
        (len(fields & set(k.file_fields)), name)
        for name, k in KINDS.items()
        if set(k.key) <= fields
    ]
    if not candidates:
        raise NetopsError(f"{path}: cannot tell the entity kind from the columns; pass --kind")
    return max(candidates)[1]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def write_csv(entity: EntityKind, rows: list[dict[str, Any]], out: io.TextIOBase) -> None:
    writer = csv.DictWriter(out, fieldnames=entity.file_fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({f: _cell(row.get(f)) for f in entity.file_fields})


def write_geojson(entity: EntityKind, rows: list[dict[str, Any]], out: io.TextIOBase) -> None:
    if entity.geometry is None:
        raise NetopsError(f"kind {entity.name} has no geometry; export it as CSV")
    features = []
    for row in rows:
        props = {f: _json_value(row.get(f)) for f in entity.file_fields}
        if entity.geometry == "point":
            lat, lon = props.pop("lat"), props.pop("lon")
            geometry = None if lat is None else {"type": "Point", "coordinates": [lon, lat]}
        else:
            geometry = {"type": "LineString", "coordinates": props.pop("geometry")}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    json.dump(
        {"type": "FeatureCollection", "netops_kind": entity.name, "features": features},
        out, ensure_ascii=False, indent=None, separators=(",", ":"),
    )
    out.write("\n")


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def read_file(path: Path, kind_name: str | None = None) -> tuple[str, list[SourceRow]]:
    """Read a CSV or GeoJSON file into (kind, rows); structural problems raise InputError."""
    if not path.exists():
        raise NetopsError(f"{path}: no such file")
    fmt = detect_format(path)
    text = path.read_text(encoding="utf-8-sig")
    if fmt == "csv":
        return _read_csv(path, text, kind_name)
    return _read_geojson(path, text, kind_name)


def _read_csv(path: Path, text: str, kind_name: str | None) -> tuple[str, list[SourceRow]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputError([RowProblem(str(path), 1, "(header)", "", "empty file: no header row")])
    header = [h.strip() for h in reader.fieldnames]
    reader.fieldnames = header
    name = kind_name or _kind_from_name(path) or _kind_from_fields(path, set(header))
    rows = []
    for number, record in enumerate(reader, start=2):
        if None in record:  # more cells than header columns
            raise InputError([RowProblem(str(path), number, "(row)", ",".join(record[None]),
                                         f"{len(header) + len(record[None])} cells, header has {len(header)}")])
        rows.append(SourceRow({k: v for k, v in record.items()}, str(path), number))
    return name, rows


def _read_geojson(path: Path, text: str, kind_name: str | None) -> tuple[str, list[SourceRow]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([RowProblem(str(path), exc.lineno, "(file)", "", f"not valid JSON: {exc.msg}")]) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError([RowProblem(str(path), 1, "type", str(doc.get("type") if isinstance(doc, dict) else ""),
                                     "expected a GeoJSON FeatureCollection")])
    features = doc.get("features") or []
    fields = set().union(*[set((f.get("properties") or {})) for f in features]) if features else set()
    name = kind_name or doc.get("netops_kind") or _kind_from_name(path) or _kind_from_fields(path, fields | {"lat", "lon"})
    if name not in KINDS:
        raise NetopsError(f"{path}: unknown entity kind {name!r}")
    entity = KINDS[name]
    rows = []
    for number, feature in enumerate(features, start=1):
        data = dict(feature.get("properties") or {})
        geometry = feature.get("geometry")
        if entity.geometry == "point":
            if geometry is not None:
                if geometry.get("type") != "Point":
                    raise InputError([RowProblem(str(path), number, "geometry", str(geometry.get("type")),
                                                 "expected a Point")])
                data["lon"], data["lat"] = geometry["coordinates"][:2]
        elif entity.geometry == "line":
            if not geometry or geometry.get("type") != "LineString":
                raise InputError([RowProblem(str(path), number, "geometry",
                                             str(geometry and geometry.get("type")), "expected a LineString")])
            data["geometry"] = geometry["coordinates"]
        rows.append(SourceRow(data, str(path), number))
    return name, rows
