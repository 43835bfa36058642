"""Loaders for the real public data shipped in ``inventory/data/real/`` (see SOURCES.md there).

Each loader returns plain records; nothing here invents data. Where the generator has to
approximate (districts without an official point, business parks without coordinates),
it says so in the generated rows' ``source`` and ``notes``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "real"

SCHOOLS_SOURCE = "schulgrunddaten-nrw-2022 (dl-de/by-2-0, MSB NRW)"
HOSPITALS_SOURCE = "eurostat-gisco-healthcare-2020 (demo only, licence for DE rows unclear)"
BUSINESS_PARKS_SOURCE = "press/city pages (names only; coordinates generated)"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class District:
    name: str  # Stadtteil
    borough: str  # Stadtbezirk
    lat: float | None
    lon: float | None
    population: int | None
    plz: str | None


@lru_cache(maxsize=1)
def districts() -> tuple[District, ...]:
    return tuple(
        District(
            r["stadtteil"], r["stadtbezirk"],
            float(r["lat"]) if r["lat"] else None, float(r["lon"]) if r["lon"] else None,
            int(r["population"]) if r["population"] else None, r["plz"] or None,
        )
        for r in _rows("stadtteile.csv")
    )


@lru_cache(maxsize=1)
def borough_populations() -> dict[str, int]:
    return {r["stadtbezirk"]: int(r["population"]) for r in _rows("stadtbezirke.csv")}


@lru_cache(maxsize=1)
def plz_centroids() -> dict[str, tuple[float, float, str]]:
    return {r["plz"]: (float(r["lat"]), float(r["lon"]), r["city_assumed"]) for r in _rows("plz_centroids.csv")}


def schools(gemeinde: str = "Gelsenkirchen") -> list[dict[str, str]]:
    return [r for r in _rows("schools_nrw_2022.csv") if r["gemeinde"] == gemeinde]


def hospitals(city: str = "Gelsenkirchen") -> list[dict[str, str]]:
    return [r for r in _rows("hospitals_eurostat_gisco_2020.csv") if r["city"] == city]


def business_parks() -> list[dict[str, str]]:
    return _rows("gewerbegebiete_named.csv")
