"""The layers the city may publish as open data, written from the inventory.

What is public: where the FreeWiFi hotspots are, and which public buildings (schools,
Kitas, clinics, town-hall buildings, business parks) are on the city's fibre. What is
not: everything an attacker or a competitor could use — management IPs, hostnames,
internal site codes, trench and cable routes, duct occupancy, plans not yet built.

Publishing is an allow-list: each layer names the few columns it copies, so a column
added to ``Site`` later never leaks by default. Coordinates are rounded to 5 decimals
(about 1 m), which is what the city's own portal publishes for buildings.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from inventory.files import escape_cell
from netops.textfile import write_file_set
from inventory.models import Device, Interface, Link, Site, SiteKind, Status
from netops.errors import NetopsError

#: site kinds published as "connected public buildings" and their public category name
PUBLIC_BUILDING_KINDS: dict[SiteKind, str] = {
    SiteKind.SCHOOL: "school",
    SiteKind.KINDERGARTEN: "kita",
    SiteKind.HOSPITAL: "clinic",
    SiteKind.PUBLIC_BUILDING: "public_building",
    SiteKind.BUSINESS_PARK: "business_park",
}

#: the only site columns that leave the house, in output order
HOTSPOT_FIELDS = ("name", "district", "borough", "city", "lat", "lon")
BUILDING_FIELDS = ("name", "category", "address", "postcode", "city", "district", "borough", "lat", "lon")

COORD_DECIMALS = 5

#: the published layers, one GeoJSON and one CSV file each
LAYER_NAMES = ("freewifi_hotspots", "connected_public_buildings")


def connected_site_ids(session: Session) -> set[int]:
    """Ids of active sites with at least one active device on an active link.

    "Connected" means traffic can flow today: a site whose uplink is only planned, or
    whose switch is in the inventory but not yet linked, does not count.
    """
    connected: set[int] = set()
    for end in ("a_interface_id", "b_interface_id"):
        iface, device = aliased(Interface), aliased(Device)
        rows = session.exec(
            select(Site.id)
            .join(device, device.site_id == Site.id)
            .join(iface, iface.device_id == device.id)
            .join(Link, getattr(Link, end) == iface.id)
            .where(Site.status == Status.ACTIVE, device.status == Status.ACTIVE, Link.status == Status.ACTIVE)
            .distinct()
        )
        connected.update(rows)
    return connected


@dataclass(frozen=True)
class OpenDataLayer:
    name: str  # file stem: <name>.geojson and <name>.csv
    fields: tuple[str, ...]
    rows: list[dict]


def open_data_layers(session: Session) -> list[OpenDataLayer]:
    """The publishable layers, rows sorted by name (stable files make reviewable diffs)."""
    connected = connected_site_ids(session)
    sites = [s for s in session.exec(select(Site).where(Site.status == Status.ACTIVE)) if s.lat is not None]
    hotspots = [_public_row(s, HOTSPOT_FIELDS) for s in sites if s.kind == SiteKind.HOTSPOT and s.id in connected]
    buildings = [
        _public_row(s, BUILDING_FIELDS, category=PUBLIC_BUILDING_KINDS[SiteKind(s.kind)])
        for s in sites
        if s.kind in PUBLIC_BUILDING_KINDS and s.id in connected
    ]
    hotspot_layer, building_layer = LAYER_NAMES
    return [
        OpenDataLayer(hotspot_layer, HOTSPOT_FIELDS, sorted(hotspots, key=_sort_key)),
        OpenDataLayer(building_layer, BUILDING_FIELDS, sorted(buildings, key=_sort_key)),
    ]


def _layer_files(name: str) -> tuple[str, str]:
    return f"{name}.geojson", f"{name}.csv"


def check_open_data_dir(out_dir: Path) -> None:
    """Open data goes into a directory of its own: a new one, or one that holds nothing but
    earlier layer files. ``--open-data /`` or a home directory is refused before anything
    is written, and no other file is ever overwritten."""
    if out_dir.exists() and not out_dir.is_dir():
        raise NetopsError(f"{out_dir}: is a file; --open-data names a directory")
    if not out_dir.is_dir():
        return
    ours = {f for name in LAYER_NAMES for f in _layer_files(name)}
    try:
        others = sorted(p.name for p in out_dir.iterdir() if p.name not in ours)
    except OSError as exc:
        raise NetopsError(f"{out_dir}: cannot read: {exc.strerror}") from None
    if others:
        raise NetopsError(f"{out_dir}: holds other files ({others[0]}, ...); open data goes into a "
                          "directory of its own (new, or holding only earlier open-data layers)")


def write_open_data(session: Session, out_dir: Path) -> list[Path]:
    """Write every layer as GeoJSON (RFC 7946, WGS84) and CSV (UTF-8, header row) into
    ``out_dir``; returns the written paths. The directory switches from the old set to the
    new one in one step (see :func:`netops.textfile.write_file_set`)."""
    check_open_data_dir(out_dir)
    texts: dict[Path, str] = {}
    for layer in open_data_layers(session):
        geojson_name, csv_name = _layer_files(layer.name)
        texts[out_dir / geojson_name] = json.dumps(_feature_collection(layer), ensure_ascii=False, indent=1) + "\n"
        table = io.StringIO(newline="")
        writer = csv.DictWriter(table, fieldnames=layer.fields)
        writer.writeheader()
        writer.writerows({k: escape_cell(v) if isinstance(v, str) else v for k, v in row.items()} for row in layer.rows)
        texts[out_dir / csv_name] = table.getvalue()
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NetopsError(f"{out_dir.parent}: cannot create the directory: {exc.strerror}") from None
    # all layers switched in one step: a published set never mixes two exports
    write_file_set(out_dir, {path.name: text for path, text in texts.items()})
    return list(texts)


def _public_row(site: Site, fields: tuple[str, ...], **extra: str) -> dict:
    values = {field: getattr(site, field, None) for field in fields if field not in extra}
    values.update(extra)
    values["lat"] = round(site.lat, COORD_DECIMALS)
    values["lon"] = round(site.lon, COORD_DECIMALS)
    return {field: values[field] for field in fields}


def _sort_key(row: dict) -> tuple:
    return (row["name"], row["lat"], row["lon"])


def _feature_collection(layer: OpenDataLayer) -> dict:
    return {
        "type": "FeatureCollection",
        "name": layer.name,
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                "properties": {k: v for k, v in row.items() if k not in ("lat", "lon")},
            }
            for row in layer.rows
        ],
    }
