"""CSV and GeoJSON files of one entity kind each.

CSV: one header row with the kind's file fields (``netops inventory export`` writes
them), references as natural keys, JSON columns (segment geometry) as JSON text.
GeoJSON: a FeatureCollection whose features carry the file fields as properties;
points (sites, route nodes) take lat/lon from the geometry, segments their LineString.
Exports add the foreign member ``"netops_kind"`` so that import needs no ``--kind``;
files from elsewhere (QGIS, a city GIS) are recognised by name or by their columns.

Files are UTF-8 (a byte-order mark is accepted); anything else is refused with the line
of the first bad byte, never guessed. CSV text cells that a spreadsheet would evaluate
as a formula (starting with ``= + - @``, tab or CR) are written with a leading ``'``
(OWASP's advice against CSV injection) and read back without it, so a round trip is
lossless; see ``escape_cell``. Exports appear whole or not at all (``atomic_text``).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import re
from pathlib import Path
from typing import Any, Callable, TextIO

from inventory.entities import KINDS, EntityKind
from inventory.store import SourceRow
from netops.errors import InputError, NetopsError, RowProblem
from netops.textfile import file_problem, parse_json, read_text

FORMATS = ("csv", "geojson")

# a cell a spreadsheet would run as a formula, possibly behind quotes we added before
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")


def escape_cell(text: str) -> str:
    """``=cmd|' /C calc'!A0`` → ``'=cmd|' /C calc'!A0``; ``'=x`` → ``''=x`` (so that
    ``unescape_cell`` can undo exactly what this did); other text is left alone."""
    return "'" + text if _FORMULA.match(text) else text


def unescape_cell(text: str) -> str:
    return text[1:] if text.startswith("'") and _FORMULA.match(text) else text


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


def _checked_kind(path: Path, name: Any, origin: str) -> str:
    if not isinstance(name, str) or name not in KINDS:
        shown = RowProblem.shorten(str(name))
        raise NetopsError(f"{path}: {origin} {shown!r} is not an entity kind; known: {', '.join(KINDS)}")
    return name


# -- export -------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return escape_cell(str(value.value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, str):
        return escape_cell(value)
    return str(value)  # numbers stay numbers: -1.5 is a value, not a formula


def write_csv(entity: EntityKind, rows: list[dict[str, Any]], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=entity.file_fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({f: _cell(row.get(f)) for f in entity.file_fields})


def write_geojson(entity: EntityKind, rows: list[dict[str, Any]], out: TextIO) -> None:
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


Writer = Callable[[EntityKind, list[dict[str, Any]], TextIO], None]


def writer_for(entity: EntityKind, fmt: str) -> Writer:
    """The writer of a format, refused before anything is read or written."""
    if fmt not in FORMATS:
        raise NetopsError(f"--format must be one of {', '.join(FORMATS)}, not {RowProblem.shorten(fmt)!r}")
    if fmt == "geojson" and entity.geometry is None:
        raise NetopsError(f"kind {entity.name} has no geometry; export it as CSV")
    return write_csv if fmt == "csv" else write_geojson


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


# -- import -------------------------------------------------------------------------------

def read_file(path: Path, kind_name: str | None = None) -> tuple[str, list[SourceRow]]:
    """Read a CSV or GeoJSON file into (kind, rows); structural problems raise InputError."""
    if kind_name is not None:
        _checked_kind(path, kind_name, "--kind")
    text = read_text(path)
    if detect_format(path) == "csv":
        return _read_csv(path, text, kind_name)
    return _read_geojson(path, text, kind_name)


def _read_csv(path: Path, text: str, kind_name: str | None) -> tuple[str, list[SourceRow]]:
    records = csv.reader(io.StringIO(text, newline=""))
    number = 0  # spreadsheet row of the last record read: the header is row 1
    try:
        header = [h.strip() for h in next(records, [])]
        number = 1
        if not any(header):
            raise InputError([RowProblem(str(path), 1, "(header)", "", "empty file: no header row")])
        doubled = sorted({h for h in header if header.count(h) > 1})
        if doubled:
            raise InputError([RowProblem(str(path), 1, "(header)", doubled[0], "column given twice")])
        name = kind_name or _kind_from_name(path) or _kind_from_fields(path, set(header))
        rows = []
        for number, cells in enumerate(records, start=2):
            if not cells:
                continue  # a blank line
            if len(cells) != len(header):
                raise InputError([RowProblem(str(path), number, "(row)", ",".join(cells),
                                             f"{len(cells)} cells, header has {len(header)}")])
            rows.append(SourceRow({h: unescape_cell(v) for h, v in zip(header, cells)}, str(path), number))
    except csv.Error as exc:
        # e.g. a cell over csv's field size limit (131,072 characters)
        raise file_problem(path, number + 1, "", f"not readable as CSV: {exc}") from None
    return name, rows


def _read_geojson(path: Path, text: str, kind_name: str | None) -> tuple[str, list[SourceRow]]:
    doc = parse_json(path, text)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError([RowProblem(str(path), 1, "type", str(doc.get("type") if isinstance(doc, dict) else ""),
                                     "expected a GeoJSON FeatureCollection")])
    features = doc.get("features")
    if not isinstance(features, list):
        raise InputError([RowProblem(str(path), 1, "features", str(features),
                                     "expected a list of features")])
    problems: list[RowProblem] = []
    parsed: list[tuple[int, dict, Any]] = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            problems.append(RowProblem(str(path), number, "(feature)", str(feature), "expected a GeoJSON Feature"))
            continue
        props, geometry = feature.get("properties"), feature.get("geometry")
        if not isinstance(props, (dict, type(None))):
            problems.append(RowProblem(str(path), number, "properties", str(props), "expected an object"))
        elif not isinstance(geometry, (dict, type(None))):
            problems.append(RowProblem(str(path), number, "geometry", str(geometry), "expected an object"))
        else:
            parsed.append((number, dict(props or {}), geometry))
    if problems:
        raise InputError(problems)
    if kind_name:
        name = kind_name
    elif "netops_kind" in doc:
        name = _checked_kind(path, doc["netops_kind"], "netops_kind")
    else:
        fields = set().union(*[set(props) for _, props, _ in parsed])
        name = _kind_from_name(path) or _kind_from_fields(path, fields | {"lat", "lon"})
    entity = KINDS[name]
    rows = []
    for number, data, geometry in parsed:
        problem = _take_geometry(entity, data, geometry)
        if problem:
            problems.append(RowProblem(str(path), number, "geometry", *problem))
        rows.append(SourceRow(data, str(path), number))
    if problems:
        raise InputError(problems)
    return name, rows


def _take_geometry(entity: EntityKind, data: dict[str, Any], geometry: dict | None) -> tuple[str, str] | None:
    """Moves a feature's geometry into its file row; (value, reason) when it is unusable."""
    if entity.geometry is None or (geometry is None and entity.geometry == "point"):
        return None  # a site or node without a location is allowed
    expected = "Point" if entity.geometry == "point" else "LineString"
    if geometry is None or geometry.get("type") != expected:
        return str(geometry and geometry.get("type")), f"expected a {expected}"
    coordinates = geometry.get("coordinates")
    if entity.geometry == "line":
        if not isinstance(coordinates, list):
            return str(coordinates), "a LineString needs a list of [lon, lat] positions"
        data["geometry"] = coordinates  # checked by the model: 2D, in the region
        return None
    if not (isinstance(coordinates, list) and len(coordinates) == 2
            and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coordinates)):
        return str(coordinates), "a Point needs [lon, lat]: two numbers (2D WGS84, no height)"
    data["lon"], data["lat"] = coordinates
    return None
