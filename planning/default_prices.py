"""The default price table: Gelsenkirchen, valid from 2024-01-01.

Plausible 2024 German (Ruhr area, urban) prices, all-in (material, labour, surface
restoration, traffic management), excluding VAT. They are planning figures from public
market ranges, not a quote; a city with its own tender prices imports its own table.

Why these numbers:

* Open trench in an urban pavement costs 80–200 €/m in NRW tenders 2023/24; 130 €/m
  sits in the middle for Gelsenkirchen's mostly paved side streets.
* Micro-trenching (a 10–20 cm cut milled into the asphalt) is quoted at 30–60 €/m.
* Horizontal directional drilling (under rails, the Emscher, main roads) 70–150 €/m.
* Aerial cable on existing poles 15–35 €/m (rare in the city, common at its edges).
* A free duct in an existing trench needs no civil works at all: blowing or pulling a
  cable in costs 4–10 €/m. That gap (6 vs 130 €/m) is why the planner must know ducts.
* Cable by strand count (G.652.D, duct cable, 2024 list prices): 1.10–4.50 €/m.
* A fusion splice including preparation ~25 €; an installed splice closure ~850 €;
  a building entry (core drill, wall bushing, patch panel, inside cabling) ~1,800 €.
* Re-entering an existing closure to splice spare strands (opening the manhole, the
  closure and its tray, resealing, documentation; a splicing crew's hour or two) ~250 €.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from inventory.models import LayingMethod, PriceItem, PriceItemKind, PriceTable

REGION = "Gelsenkirchen"
VALID_FROM = dt.date(2024, 1, 1)
SOURCE = "netops default: plausible 2024 NRW market prices (planning figures, not a quote)"

#: (kind, key) -> € (per metre for *_per_m kinds, per piece otherwise)
PRICES: dict[tuple[PriceItemKind, str], float] = {
    (PriceItemKind.TRENCH_PER_M, LayingMethod.OPEN_TRENCH.value): 130.0,
    (PriceItemKind.TRENCH_PER_M, LayingMethod.MICRO_TRENCH.value): 45.0,
    (PriceItemKind.TRENCH_PER_M, LayingMethod.HDD.value): 95.0,
    (PriceItemKind.TRENCH_PER_M, LayingMethod.AERIAL.value): 25.0,
    (PriceItemKind.TRENCH_PER_M, LayingMethod.EXISTING_DUCT.value): 6.0,
    (PriceItemKind.CABLE_PER_M, "12"): 1.10,
    (PriceItemKind.CABLE_PER_M, "24"): 1.40,
    (PriceItemKind.CABLE_PER_M, "48"): 2.10,
    (PriceItemKind.CABLE_PER_M, "96"): 3.20,
    (PriceItemKind.CABLE_PER_M, "144"): 4.50,
    (PriceItemKind.SPLICE, "fusion"): 25.0,
    (PriceItemKind.CLOSURE, "standard"): 850.0,
    (PriceItemKind.CLOSURE, "reentry"): 250.0,
    (PriceItemKind.BUILDING_ENTRY, "standard"): 1800.0,
}


def ensure_default_price_table(session: Session) -> PriceTable:
    """Insert the default table unless a table for its region and date exists (idempotent).

    Returns the table (the existing one when it was already there; its items are left
    as they are, since a planner may have edited them)."""
    table = session.exec(
        select(PriceTable).where(PriceTable.region == REGION, PriceTable.valid_from == VALID_FROM)
    ).first()
    if table is not None:
        return table
    table = PriceTable(region=REGION, valid_from=VALID_FROM, currency="EUR", source=SOURCE)
    session.add(table)
    session.flush()
    for (kind, key), price in PRICES.items():
        session.add(PriceItem(table_id=table.id, kind=kind, key=key, price_eur=price))
    session.flush()
    return table


def default_cost_model():
    """The default table as a cost model, without a database (tests, benchmarks)."""
    from planning.costs import CostModel

    return CostModel.from_prices(PRICES, region=REGION, valid_from=VALID_FROM, source=SOURCE)
