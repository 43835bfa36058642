"""The topology half of the exporter's inventory/audit gauges, run in a short-lived child.

The gauges need the topology (networkx, scipy and the city graph: about 60 MiB, most of
the exporter's memory if it lived there), but only a few numbers come out of it. So the
exporter runs ``python -m report.audit_summary`` every few minutes with the database URL in
``NETOPS_DB_URL`` and reads one JSON line: ``report.collector`` turns it into gauges, and
the exporter process never imports the topology.

    {"sites": [{"site": "SCH-1", "kind": "school", "district": "Erle",
                "logical": 2, "physical": 1, "trench_disjoint": 1}, ...],
     "findings": [{"audit": "shared_trench", "severity": "warning", "count": 1}, ...],
     "single_points_of_failure": {"critical": 3, ...},
     "customers": [{"site": "POP-N", "kind": "core", "district": "Buer",
                    "companies": 2, "residential_units": 640}, ...]}

``customers``: for each site a customer hangs on (an OLT's PoP, a company's switch, a link end),
the companies and homes cut off while that site's devices are down (``netops audit cut site:X``).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter

from sqlalchemy.engine import Engine
from sqlmodel import select

from inventory.models import Site, Status
from netops.db import make_engine, redact_url, session_scope
from netops.settings import DB_ENV
from topology.audits import blast_radius, path_diversity, run_audits, single_points_of_failure
from topology.network import FailureSet, Network, audit_network


def summary(engine: Engine) -> dict:
    with session_scope(engine) as session:
        net = audit_network(session)
        districts = {s.code: s.district or "" for s in session.exec(select(Site).where(Site.status == Status.ACTIVE))}
    sites = [dict(site=row.site, kind=row.kind, district=districts.get(row.site, ""), logical=row.logical_paths,
                  physical=row.physical_paths,
                  # link-disjoint paths that one trench cut takes down count as one
                  trench_disjoint=min(row.logical_paths, 1) if row.trench_cuts else row.logical_paths)
             for row in path_diversity(net)]
    findings = Counter((f.audit, str(f.severity)) for f in run_audits(net).findings)
    spof = Counter(str(f.severity) for f in single_points_of_failure(net))
    return dict(sites=sites,
                findings=[dict(audit=audit, severity=severity, count=count)
                          for (audit, severity), count in sorted(findings.items())],
                single_points_of_failure=dict(sorted(spof.items())),
                customers=site_customers(net, districts),
                device_customers=device_customers(net, districts))


def site_customers(net: Network, districts: dict[str, str]) -> list[dict]:
    """Companies and homes cut off when a site's devices are down, for the sites where that
    is any (only sites with a device a customer depends on are tried)."""
    watched = net.customers.watched_devices
    devices_of: dict[int, set[int]] = {}
    for device_id, device in net.devices.items():
        devices_of.setdefault(device.site_id, set()).add(device_id)
    return _customers_cut(net, districts, (({}, site_id, frozenset(devices)) for site_id, devices in devices_of.items()
                                           if devices & watched))


def device_customers(net: Network, districts: dict[str, str]) -> list[dict]:
    """Companies and homes cut off when one device is down, for the devices where that is any
    (those a customer depends on: an OLT, a company's NTU or switch, a link end); a PoP's
    core router or WLC going down cuts off no one its OLT serves."""
    return _customers_cut(net, districts, (({"device": net.devices[d].name}, net.devices[d].site_id, frozenset({d}))
                                           for d in net.customers.watched_devices))


def _customers_cut(net: Network, districts: dict[str, str], groups) -> list[dict]:
    """For each group of devices failing together, (its labels, its site id, its devices), the
    companies and homes cut off, where that is any; sorted by the labels, then the site."""
    rows = []
    for labels, site_id, devices in groups:
        site = net.sites.get(site_id)
        if site is None:
            continue
        cut = blast_radius(net, FailureSet(devices=devices))
        if cut.companies_cut or cut.residential_units_cut:
            rows.append(dict(**labels, site=site.code, kind=str(site.kind), district=districts.get(site.code, ""),
                             companies=len(cut.companies_cut), residential_units=cut.residential_units_cut))
    return sorted(rows, key=lambda row: (row.get("device", ""), row["site"]))


def main() -> None:
    """The summary on stdout; any failure one line on stderr (the exporter logs it), with the
    database password masked, and exit 1."""
    url = os.environ.get(DB_ENV, "")
    try:
        engine = make_engine(os.environ[DB_ENV])
        try:
            json.dump(summary(engine), sys.stdout)
        finally:
            engine.dispose()
    except Exception as exc:  # the line never shows the password, whatever the message echoes
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.exit(redact_url(f"{type(exc).__name__}: {first}", url))


if __name__ == "__main__":
    main()
