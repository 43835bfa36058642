"""The words netops uses, in one place: every command group, table and JSON document
speaks them, so an engineer learns them once.

element kinds   what the inventory holds, named as import and export name them
                (``segment``, ``route_node``, ``link_hop``...), never a table name
site kinds      what a site is (``school``, ``kindergarten``...), in order of importance
device roles    what a device does
severities      critical > warning > info, for topology audits, config rules and LLDP

Standard library only: the CLI reads this module to build its help screens, and
``netops --help`` must not pay for the database or the topology code.
"""

from __future__ import annotations

import difflib
from enum import StrEnum
from typing import Iterable

#: the inventory's element kinds in dependency order (a kind references only kinds before
#: it); ``inventory.entities.KINDS`` describes each, tests keep the two equal
ELEMENT_KINDS: tuple[str, ...] = (
    "snmp_profile", "ssh_profile", "optic", "price_table", "price_item", "site", "device",
    "interface", "route_node", "segment", "closure", "cable", "cable_segment", "link", "link_hop",
    "building", "business_connection", "olt_port", "splitter", "residential_connection",
)

#: the audits' names for the elements that fail, as element kinds (the graphs call a trench
#: segment a trench and a route node a node)
AUDIT_ELEMENT_KINDS: dict[str, str] = {"trench": "segment", "node": "route_node"}


#: the audits, as ``netops audit`` sub-commands name them (with ``-`` for ``_``)
AUDIT_NAMES: tuple[str, ...] = ("reachability", "spof", "shared_risk", "capacity", "consistency", "pon")


def audit_of_check(check: str) -> str:
    """The audit a finding's check belongs to: the shared-risk audit checks trenches, route
    nodes, street corridors and buildings (``shared_trench``...), the PON audit budgets,
    capacity and chains (``pon_budget``...); the others check one thing."""
    for prefix, audit in (("shared_", "shared_risk"), ("pon_", "pon")):
        if check.startswith(prefix):
            return audit
    return check


class SiteKind(StrEnum):
    CORE = "core"  # a PoP on the backbone ring
    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    HOSPITAL = "hospital"
    BUSINESS_PARK = "business_park"
    HOTSPOT = "hotspot"
    CABINET = "cabinet"
    PUBLIC_BUILDING = "public_building"
    SMALL_CELL = "small_cell"


#: criticality weight of a site kind: what cutting one off costs (``netops audit --weight``)
SITE_WEIGHTS: dict[str, float] = {
    "hospital": 10.0,
    "school": 5.0,
    "kindergarten": 4.0,
    "business_park": 3.0,
    "public_building": 2.0,
    "hotspot": 1.0,
    "small_cell": 1.0,
    "cabinet": 1.0,
    "core": 0.0,
}

#: criticality weight of a customer cut off, on the same scale as ``SITE_WEIGHTS`` (``netops
#: audit --weight``): a company line by its service class, a home per residential unit. A
#: gold-SLA line weighs as much as a hospital (contract penalties, often a clinic or the
#: utilities behind it), a business line as a business park, a best-effort company as a
#: hotspot; 100 homes weigh a hospital. The weights rank findings and measure a mass outage
#: (``MASS_OUTAGE_WEIGHT``); what makes a finding critical or a warning on its own is
#: ``SERVICE_CLASS_SEVERITY`` and ``SITE_CRITICALITY_SEVERITY``. Only connected units
#: count: a home passed has no service to lose.
CUSTOMER_WEIGHTS: dict[str, float] = {
    "sla_gold": 10.0,
    "business": 3.0,
    "best_effort": 1.0,
    "residential_unit": 0.1,
}

#: site kinds single-homed by design (a hotspot on a lamp post has one spur): their single
#: points of failure are information, listed only when asked for (``netops audit --all``)
SINGLE_HOMED_BY_DESIGN: tuple[str, ...] = ("hotspot", "small_cell")

#: a PON is an unprotected tree by design (GPON without type B protection), feeders carrying
#: several PONs included: an element whose failure cuts off only homes is a single point of
#: failure by design up to this many homes (information); beyond it the homes concentrate on
#: one element (the generator's planted feeder hub carries 1,465): a capacity and design fact,
#: a warning, critical only as a mass outage (``MASS_OUTAGE_WEIGHT``)
PON_TREE_BY_DESIGN_MAX_HOMES = 1000

#: site kinds most important first: how site lists are ordered (hotspots after the schools)
SITE_IMPORTANCE: tuple[str, ...] = tuple(SITE_WEIGHTS)


class DeviceRole(StrEnum):
    CORE_ROUTER = "core_router"
    DISTRIBUTION_SWITCH = "distribution_switch"
    ACCESS_SWITCH = "access_switch"
    WIFI_AP = "wifi_ap"
    WLC = "wlc"
    FIREWALL = "firewall"
    OLT = "olt"  # optical line terminal: the PON head end at a PoP
    NTU = "ntu"  # network termination unit: the carrier's device at a business customer's premises


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self]


#: how bad a severity is, for sorting and ``--fail-on`` (built once: findings are sorted by it)
SEVERITY_RANK: dict[str, int] = {Severity.CRITICAL: 2, Severity.WARNING: 1, Severity.INFO: 0}

# -- the severity of what a failure cuts off (``topology.findings.impact_severity``) --------------
# One rule for spof, shared-risk, rank, cut and the report, the way a network operations centre
# triages an outage: page for what cannot wait (a hospital, a gold-SLA line, a mass outage),
# open a ticket for what matters but can wait for the working day (a school, a Kita, a
# business line, a feeder concentrating homes), note what is so by design (a hotspot, a
# best-effort line, the homes of a PON tree). The worst thing cut off sets the severity;
# summed small things escalate only as a mass outage.

#: a site cut off, by its criticality (the site's own ``criticality``, else its kind's default
#: in ``inventory.models.sites.DEFAULT_CRITICALITY``: hospitals critical, schools and Kitas
#: high, business parks, public buildings and cabinets medium, hotspots low)
SITE_CRITICALITY_SEVERITY: dict[str, Severity] = {
    "critical": Severity.CRITICAL, "high": Severity.WARNING, "medium": Severity.WARNING, "low": Severity.INFO,
}

#: a company cut off, by its service class (an unknown class counts as a business line)
SERVICE_CLASS_SEVERITY: dict[str, Severity] = {
    "sla_gold": Severity.CRITICAL, "business": Severity.WARNING, "best_effort": Severity.INFO,
}

#: a failure cutting off at least this much weight (``SITE_WEIGHTS``, ``CUSTOMER_WEIGHTS``) is a
#: mass outage, critical whatever it is made of (``netops audit --critical-weight``): 2,000
#: homes, 20 hospitals' worth, 40 schools, 200 hotspots, about 67 business lines: a PoP, an
#: OLT or a trunk, not a street. Below it, hundreds of homes or dozens of hotspots are what
#: they are one by one.
MASS_OUTAGE_WEIGHT = 200.0


#: the words of the first config-rule format, still accepted in rule files and for --fail-on
SEVERITY_ALIASES = {"high": Severity.CRITICAL, "medium": Severity.WARNING, "low": Severity.INFO}


def parse_severity(word: str) -> Severity:
    """A severity (critical, warning, info), or an old word (high, medium, low) for it."""
    folded = str(word).strip().lower()
    if folded in SEVERITY_ALIASES:
        return SEVERITY_ALIASES[folded]
    try:
        return Severity(folded)
    except ValueError:
        raise ValueError(unknown("severity", word, [*Severity, *SEVERITY_ALIASES],
                                 listing="use critical, warning or info (or high, medium, low)")) from None


def unknown(what: str, value: object, known: Iterable[object], listing: str | None = None) -> str:
    """One line for an unknown word: the closest known ones ("did you mean"), else the
    ``listing`` or the known words."""
    words = [str(k) for k in known]
    hint = did_you_mean(value, words)
    if hint:
        return f"unknown {what} {value!r}{hint}"
    if listing is None:
        listing = "known: " + ", ".join(words[:20]) + (f" ... ({len(words)} in all)" if len(words) > 20 else "")
    return f"unknown {what} {value!r}; {listing}"


def site_order(kind: str | None) -> int:
    """Sort key of a site kind: most important first, unknown kinds last."""
    return SITE_IMPORTANCE.index(kind) if kind in SITE_IMPORTANCE else len(SITE_IMPORTANCE)


def did_you_mean(value: object, known: Iterable[object]) -> str:
    """"; did you mean X or Y?" naming up to three known words closest to a mistyped one
    (difflib's similarity, at least 0.6; equal ones in name order: difflib's own
    get_close_matches prefers the larger name, so a missing zero in bldg-x-0001 would
    suggest bldg-x-00051 before bldg-x-00001), or ""."""
    close = close_matches(str(value), {str(k) for k in known})
    return f"; did you mean {' or '.join(close)}?" if close else ""


def close_matches(word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The ``n`` candidates closest to ``word`` (difflib's ratio >= ``cutoff``), equal scores
    in name order; the quick upper bounds first, so a city's codes are cheap to search."""
    matcher = difflib.SequenceMatcher(b=word)
    scored = []
    for candidate in candidates:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            ratio = matcher.ratio()
            if ratio >= cutoff:
                scored.append((-ratio, candidate))
    return [candidate for _, candidate in sorted(scored)[:n]]
