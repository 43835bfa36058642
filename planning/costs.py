"""The cost model of a plan, read from a dated, regional price table.

Two kinds of cost matter for joint planning: *fixed* costs are paid once per trench
(civil works: the excavator does not care how many cables go into the duct), *per-cable*
costs are paid for every cable laid along a metre (the cable itself, or pulling it into
a free duct of an existing trench).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, select

from inventory.models import LayingMethod, PriceItem, PriceItemKind, PriceTable
from netops.errors import ConfigError, NotFoundError
from planning.default_prices import PRICES, ensure_default_price_table

#: price items added after tables were imported: a table without them is priced at the
#: default table's figure, and the plan names them (``CostModel.defaulted``)
LATER_ITEMS = ((PriceItemKind.CLOSURE, "reentry"),)
REENTRY_DEFAULT_EUR = PRICES[(PriceItemKind.CLOSURE, "reentry")]


@dataclass(frozen=True)
class CostModel:
    table_id: int | None
    region: str
    valid_from: dt.date
    currency: str
    source: str
    trench_per_m: dict[str, float]  # LayingMethod value -> €/m of civil works
    cable_per_m: dict[int, float]  # strand count -> €/m
    splice_eur: float
    closure_eur: float
    building_entry_eur: float
    closure_reentry_eur: float = REENTRY_DEFAULT_EUR  # opening an existing closure to splice in it
    defaulted: tuple[str, ...] = ()  # items the table lacks, priced at the default table's figure

    @classmethod
    def from_prices(cls, prices: dict[tuple[PriceItemKind, str], float], *, region: str,
                    valid_from: dt.date, source: str, currency: str = "EUR",
                    table_id: int | None = None) -> "CostModel":
        by_kind: dict[str, dict[str, float]] = {}
        defaulted = tuple(f"{kind.value}/{key}" for kind, key in LATER_ITEMS if (kind, key) not in prices)
        for (kind, key), price in {**{item: PRICES[item] for item in LATER_ITEMS}, **prices}.items():
            by_kind.setdefault(str(kind), {})[key] = price
        try:
            return cls(
                table_id=table_id, region=region, valid_from=valid_from, currency=currency,
                source=source, trench_per_m=dict(by_kind[PriceItemKind.TRENCH_PER_M]),
                cable_per_m={int(k): v for k, v in by_kind[PriceItemKind.CABLE_PER_M].items()},
                splice_eur=by_kind[PriceItemKind.SPLICE]["fusion"],
                closure_eur=by_kind[PriceItemKind.CLOSURE]["standard"],
                building_entry_eur=by_kind[PriceItemKind.BUILDING_ENTRY]["standard"],
                closure_reentry_eur=by_kind[PriceItemKind.CLOSURE]["reentry"], defaulted=defaulted,
            )
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"price table {region} {valid_from} is incomplete: "
                              f"missing or bad item {exc}") from None

    @property
    def label(self) -> str:
        return f"{self.region}, valid from {self.valid_from.isoformat()} ({self.currency})"

    def trench_price(self, method: str) -> float:
        try:
            return self.trench_per_m[str(method)]
        except KeyError:
            raise ConfigError(
                f"price table {self.label} has no trench_per_m price for laying method {method!r}"
            ) from None

    def cable_strands(self, needed: int) -> int:
        """The smallest tabled cable with at least ``needed`` strands."""
        fitting = [s for s in self.cable_per_m if s >= needed]
        if not fitting:
            raise ConfigError(f"price table {self.label} has no cable with >= {needed} strands")
        return min(fitting)

    def cable_price(self, strands: int) -> float:
        return self.cable_per_m[self.cable_strands(strands)]

    def per_cable_per_m(self, *, existing_duct: bool, strands: int) -> float:
        """€/m paid for each cable: the cable, plus pulling it in when the duct exists."""
        pulling = self.trench_price(LayingMethod.EXISTING_DUCT) if existing_duct else 0.0
        return self.cable_price(strands) + pulling


def cost_model(session: Session, *, region: str | None = None, on: dt.date | None = None,
               seed_default: bool = True) -> CostModel:
    """The price table in force on ``on`` (default today) for ``region`` (default any).

    With no price table at all in the database and ``seed_default``, the documented
    default Gelsenkirchen table is inserted first (see ``planning.default_prices``)."""
    on = on or dt.date.today()
    if seed_default and session.exec(select(PriceTable.id)).first() is None:
        ensure_default_price_table(session)
    query = select(PriceTable).where(PriceTable.valid_from <= on)
    if region:
        query = query.where(PriceTable.region == region)
    table = session.exec(query.order_by(PriceTable.valid_from.desc(), PriceTable.id.desc())).first()
    if table is None:
        raise NotFoundError(f"no price table for region {region or 'any'} valid on {on.isoformat()}")
    items = session.exec(select(PriceItem).where(PriceItem.table_id == table.id)).all()
    return CostModel.from_prices(
        {(PriceItemKind(item.kind), item.key): item.price_eur for item in items},
        region=table.region, valid_from=table.valid_from, currency=table.currency,
        source=table.source, table_id=table.id)
