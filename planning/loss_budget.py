"""Optical loss budget of a planned fibre path, against the power budget of an optic.

    loss(λ) = length_km · α(λ) + splices · 0.1 dB + connectors · 0.5 dB
    margin  = optic power budget (Tx min − Rx sensitivity) − loss at the optic's λ

Planning values (``netops.optics``, shared with the PON audit): α is the cabled G.652.D
worst case (0.35 dB/km at 1310 nm, 0.25 dB/km at 1550 nm; datasheets promise less, aged
cables with repairs deliver more), 0.1 dB per fusion splice and 0.5 dB per mated connector
pair (the usual planning maxima in ITU-T G.671 / IEC 61753 practice). A path on spare
strands is spliced once more at each closure it passes (drop to strands, cable to cable).
A plan whose margin is below ``min_margin_db`` (default 3 dB: repairs and ageing over the
plant's life) is flagged.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

from sqlmodel import Session, select

from inventory.models import OpticType
from netops.errors import NotFoundError
from netops.optics import (
    ATTENUATION_DB_PER_KM, CONNECTOR_DB, CONNECTORS_PER_PATH, DEFAULT_MIN_MARGIN_DB, SPLICE_DB, joints_for,
)


@dataclass(frozen=True)
class Optic:
    name: str
    wavelength_nm: int
    reach_km: float
    power_budget_db: float
    rate_mbps: int | None = None  # the line rate its standard names (None: a name netops cannot read)


#: IEEE 802.3 names carry the rate: 1000BASE-LX is 1,000 Mbit/s, 10GBASE-LR 10,000, 2.5GBASE 2,500
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(G?)BASE", re.IGNORECASE)


def line_rate_mbps(standard: str) -> int | None:
    """The line rate an Ethernet optic's standard names, in Mbit/s (None when it names none)."""
    match = _RATE.match(standard)
    if match is None:
        return None
    number = float(match.group(1))
    return round(number * 1000 if match.group(2) else number)


#: used when the inventory holds no optic types (worst-case datasheet values of the standard)
STANDARD_OPTICS = (
    Optic("1000BASE-LX", 1310, 10.0, 8.0, 1000),       # Tx min −11 dBm, Rx −19 dBm
    Optic("10GBASE-LR", 1310, 10.0, 6.2, 10_000),      # Tx min −8.2 dBm, Rx −14.4 dBm
    Optic("10GBASE-ER", 1550, 40.0, 11.1, 10_000),     # Tx min −4.7 dBm, Rx −15.8 dBm
    Optic("1000BASE-ZX", 1550, 70.0, 23.0, 1000),      # Tx min 0 dBm, Rx −23 dBm
)


@dataclass(frozen=True)
class LossBudget:
    length_m: float
    splices: int
    connectors: int
    loss_1310_db: float
    loss_1550_db: float
    optic: str
    optic_wavelength_nm: int
    power_budget_db: float
    margin_db: float
    min_margin_db: float
    flagged: bool  # margin below the minimum (or beyond the optic's reach)
    reason: str
    optic_rate_mbps: int | None = None  # the optic's line rate (None: its name states none)
    #: the first-choice optic given up for this longer-reach one of a LOWER line rate (its own
    #: margin was too small): the link runs slower than that optic would (``best_budget``)
    rate_lowered_from: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def optics_from_inventory(session: Session) -> list[Optic]:
    rows = session.exec(select(OpticType)).all()
    found = [Optic(o.name, o.wavelength_nm, o.reach_km, o.power_budget_db,
                   line_rate_mbps(o.standard) or line_rate_mbps(o.name)) for o in rows]
    return found or list(STANDARD_OPTICS)


def optics_for_rate(optics: list[Optic], rate_mbps: int) -> list[Optic]:
    """The optics of the slowest line rate that carries ``rate_mbps`` (the port speed a line of
    that bandwidth gets); LookupError naming the fastest when none does (a 10 Gbit/s line is
    not planned on a 1 Gbit/s optic)."""
    fast_enough = [o for o in optics if o.rate_mbps is not None and o.rate_mbps >= rate_mbps]
    if not fast_enough:
        known = sorted((o for o in optics if o.rate_mbps is not None), key=lambda o: -o.rate_mbps)
        fastest = f"the fastest is {known[0].name}, {known[0].rate_mbps:,} Mbit/s" if known else "none names its rate"
        raise LookupError(f"no optic type carries {rate_mbps:,} Mbit/s ({fastest}): add one with "
                          "`netops inventory import --kind optic`")
    port_rate = min(o.rate_mbps for o in fast_enough)
    return [o for o in fast_enough if o.rate_mbps == port_rate]


def optics_by_preference(optics: list[Optic], length_m: float) -> list[Optic]:
    """The optics for a path, first choice first: those whose reach covers it, shortest reach
    (the cheapest kind) first; when none reaches, the one with the largest budget."""
    covering = sorted((o for o in optics if o.reach_km * 1000 >= length_m),
                      key=lambda o: (o.reach_km, -o.power_budget_db))
    return covering or [max(optics, key=lambda o: o.power_budget_db)]  # nothing reaches: loss_budget flags it


class UnknownOpticError(NotFoundError):
    """An optic type name the inventory does not hold (the CLI says which option gave it)."""


def named_optic(optics: list[Optic], name: str) -> Optic:
    """The optic type called ``name``; UnknownOpticError (one line, exit 2) naming the known ones."""
    for optic in optics:
        if optic.name == name:
            return optic
    raise UnknownOpticError(f"unknown optic {name!r}; known: {', '.join(o.name for o in optics)}")


def best_budget(length_m: float, optics: list[Optic], optic_name: str | None = None, *,
                min_margin_db: float = DEFAULT_MIN_MARGIN_DB, splices: int | None = None) -> LossBudget:
    """The budget of a path (``loss_budget``'s ``length_m`` and ``splices``) on the named optic,
    else on the first optic in order of preference (``optics_by_preference``) that keeps the
    margin (a longer-reach optic rather than a flagged plan), else on the first choice (flagged).
    A longer-reach optic of a lower line rate than the first choice (10GBASE-ER's margin too
    small, 1000BASE-ZX keeps it) says so (``rate_lowered_from``): a Kita runs fine at 1 Gbit/s,
    the planner decides (a line that needs its rate is planned with ``optics_for_rate``)."""
    if optic_name:
        return loss_budget(length_m, named_optic(optics, optic_name), min_margin_db=min_margin_db, splices=splices)
    first_choice, *others = optics_by_preference(optics, length_m)
    first = loss_budget(length_m, first_choice, min_margin_db=min_margin_db, splices=splices)
    if not first.flagged:
        return first
    for optic in others:
        budget = loss_budget(length_m, optic, min_margin_db=min_margin_db, splices=splices)
        if not budget.flagged:
            slower = None not in (optic.rate_mbps, first_choice.rate_mbps) and optic.rate_mbps < first_choice.rate_mbps
            return replace(budget, rate_lowered_from=first_choice.name) if slower else budget
    return first


def rate_note(budget: LossBudget, route: int | None = None) -> str | None:
    """What a plan says of a line rate lowered by the optic choice (``best_budget``), else None."""
    if budget.rate_lowered_from is None:
        return None
    which = f"route {route}: " if route is not None else ""
    return (f"{which}{budget.optic} ({budget.optic_rate_mbps:,} Mbit/s) instead of {budget.rate_lowered_from}, "
            f"whose margin is below {budget.min_margin_db:.2f} dB: the line runs at the lower rate")


def loss_budget(length_m: float, optic: Optic, *, min_margin_db: float = DEFAULT_MIN_MARGIN_DB,
                extra_splices: int = 0, splices: int | None = None) -> LossBudget:
    """Loss of one fibre path of ``length_m``: by default one continuous new cable (pigtail
    splices at both ends plus one per drum joint, ``extra_splices`` for existing splice
    points on the way); ``splices`` gives the count of a path with spliced spare strands
    (``planning.connect.FibrePath``)."""
    if splices is None:
        splices = 2 + joints_for(length_m) + extra_splices
    fixed = splices * SPLICE_DB + CONNECTORS_PER_PATH * CONNECTOR_DB
    loss = {wl: length_m / 1000 * alpha + fixed for wl, alpha in ATTENUATION_DB_PER_KM.items()}
    nearest_wl = min(loss, key=lambda wl: abs(wl - optic.wavelength_nm))
    margin = optic.power_budget_db - loss[nearest_wl]
    reasons = []
    if margin < min_margin_db:
        reasons.append(f"margin {margin:.2f} dB < minimum {min_margin_db:.2f} dB")
    if length_m > optic.reach_km * 1000:
        reasons.append(f"path {length_m / 1000:.2f} km beyond the optic's reach {optic.reach_km} km")
    return LossBudget(
        length_m=round(length_m, 1), splices=splices, connectors=CONNECTORS_PER_PATH,
        loss_1310_db=round(loss[1310], 2), loss_1550_db=round(loss[1550], 2),
        optic=optic.name, optic_wavelength_nm=optic.wavelength_nm,
        power_budget_db=optic.power_budget_db, margin_db=round(margin, 2),
        min_margin_db=min_margin_db, flagged=bool(reasons), reason="; ".join(reasons) or "ok",
        optic_rate_mbps=optic.rate_mbps,
    )
