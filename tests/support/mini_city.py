"""A hand-made town small enough to reason about, for open-data and report tests.

    PoP-N (core) ==== backbone seg-N-S ==== PoP-S (core)
      |   \\                                  |
   seg-1   seg-2                           seg-3
      |       \\                              |
  SCH-1 (school, uplinks to both PoPs through seg-1 and seg-2/seg-3: trench-disjoint)
  KITA-1 (kita, one uplink to PoP-N through seg-1: single-homed, shares seg-1)
  KITA-2 (kita, planned by plan "kita-2", no link yet; planned trench seg-9-planned to M-2)
  HOT-1 (hotspot, fibre to PoP-S through seg-3) -- radio -- HOT-2 (hotspot)
  CLINIC-1 (hospital, inventory only, not linked: not connected)
  BP-1 (business park, uplinks to both PoPs, but both cables leave through seg-5:
        two link-disjoint paths that one trench cut takes down - a "shared trench" - while
        an empty second trench seg-8 would have allowed a disjoint route)
"""

from __future__ import annotations

from sqlmodel import Session

from inventory.models import (
    Cable,
    CableSegment,
    Device,
    Interface,
    Link,
    LinkHop,
    OpticType,
    Plan,
    RouteNode,
    Site,
    TrenchSegment,
)

SRC = "test"


def build_mini_city(session: Session) -> dict[str, object]:
    """Adds the town to ``session`` (flushed, not committed) and returns its rows by code."""
    rows: dict[str, object] = {}

    def add(key: str, obj):
        session.add(obj)
        session.flush()
        rows[key] = obj
        return obj

    plan = add("plan", Plan(name="kita-2", kind="connect", total_cost_eur=48250.0, summary={"trench_m": 310}))
    add("plan-clinic", Plan(name="clinic-1-uplink", kind="connect", total_cost_eur=12000.0, summary={}))
    site_specs = [
        ("POP-N", "PoP Nord", "core", 51.560, 7.090, "Buer", "active", None),
        ("POP-S", "PoP Süd", "core", 51.500, 7.100, "Altstadt", "active", None),
        ("SCH-1", "Gesamtschule Berger Feld", "school", 51.530, 7.060, "Erle", "active", None),
        ("KITA-1", "Kita Regenbogen", "kindergarten", 51.545, 7.120, "Buer", "active", None),
        ("KITA-2", "Kita Sonnenschein", "kindergarten", 51.520, 7.130, "Altstadt", "planned", plan.id),
        ("HOT-1", "FreeWiFi Heinrich-König-Platz", "hotspot", 51.505, 7.095, "Altstadt", "active", None),
        ("HOT-2", "FreeWiFi Neumarkt", "hotspot", 51.507, 7.098, "Altstadt", "active", None),
        ("CLINIC-1", "Bergmannsheil Buer", "hospital", 51.575, 7.050, "Buer", "active", None),
        ("BP-1", "Gewerbepark Schalker Verein", "business_park", 51.525, 7.110, "Altstadt", "active", None),
    ]
    for code, name, kind, lat, lon, district, status, plan_id in site_specs:
        add(code, Site(code=code, name=name, kind=kind, lat=lat, lon=lon, district=district, borough=district,
                       address=f"{name}straße 1", postcode="45879", status=status, source=SRC, plan_id=plan_id))

    device_specs = [
        ("gk-popn-cr1", "POP-N", "core_router", "juniper_junos", "10.0.0.1"),
        ("gk-popn-ds1", "POP-N", "distribution_switch", "cisco_ios", "10.0.0.2"),
        ("gk-pops-cr1", "POP-S", "core_router", "juniper_junos", "10.0.1.1"),
        ("gk-pops-ds1", "POP-S", "distribution_switch", "cisco_ios", "10.0.1.2"),
        ("gk-sch1-as1", "SCH-1", "access_switch", "cisco_ios", "10.1.0.1"),
        ("gk-kita1-as1", "KITA-1", "access_switch", "hp_procurve", "10.2.0.1"),
        ("gk-hot1-ap1", "HOT-1", "wifi_ap", "aruba_os", "10.3.0.1"),
        ("gk-hot2-ap1", "HOT-2", "wifi_ap", "aruba_os", "10.3.0.2"),
        ("gk-clinic1-as1", "CLINIC-1", "access_switch", "cisco_ios", "10.4.0.1"),
        ("gk-bp1-as1", "BP-1", "access_switch", "cisco_ios", "10.5.0.1"),
    ]
    for name, site, role, platform, ip in device_specs:
        add(name, Device(name=name, site_id=rows[site].id, role=role, platform=platform, mgmt_ip=ip, source=SRC))

    node_specs = [
        ("E-POP-N", "site_entry", 51.560, 7.090, "POP-N"),
        ("E-POP-S", "site_entry", 51.500, 7.100, "POP-S"),
        ("E-SCH-1", "site_entry", 51.530, 7.060, "SCH-1"),
        ("E-KITA-1", "site_entry", 51.545, 7.120, "KITA-1"),
        ("E-HOT-1", "site_entry", 51.505, 7.095, "HOT-1"),
        ("M-1", "manhole", 51.545, 7.075, None),
        ("E-BP-1", "site_entry", 51.525, 7.110, "BP-1"),
        ("M-2", "manhole", 51.527, 7.105, None),
    ]
    for code, kind, lat, lon, site in node_specs:
        add(code, RouteNode(code=code, kind=kind, lat=lat, lon=lon, site_id=rows[site].id if site else None, source=SRC))
    # the plan for KITA-2: a new building entry and trench, not built yet
    add("E-KITA-2", RouteNode(code="E-KITA-2", kind="site_entry", lat=51.520, lon=7.130, site_id=rows["KITA-2"].id,
                              status="planned", source=SRC, plan_id=plan.id))

    segment_specs = [  # code, a, b, ducts_total, ducts_used
        ("seg-N-S", "E-POP-N", "E-POP-S", 4, 2),
        ("seg-1", "E-POP-N", "M-1", 2, 2),  # full
        ("seg-1b", "M-1", "E-SCH-1", 2, 1),
        ("seg-2", "M-1", "E-KITA-1", 2, 1),
        ("seg-3", "E-SCH-1", "E-POP-S", 4, 1),
        ("seg-4", "E-POP-S", "E-HOT-1", 2, 1),
        ("seg-5", "E-BP-1", "M-2", 4, 2),  # the shared trench
        ("seg-6", "M-2", "E-POP-N", 2, 2),  # full, but cutting it leaves BP-1 its southern path
        ("seg-7", "M-2", "E-POP-S", 4, 1),
        ("seg-8", "E-BP-1", "E-POP-S", 2, 0),  # a second, empty route: the plant is not the weakness
    ]
    for code, a, b, total, used in segment_specs + [("seg-9-planned", "E-KITA-2", "M-2", 2, 0)]:
        na, nb = rows[a], rows[b]
        planned = {"status": "planned", "plan_id": plan.id} if code.endswith("planned") else {}
        add(code, TrenchSegment(code=code, a_node_id=na.id, b_node_id=nb.id,
                                geometry=[[na.lon, na.lat], [nb.lon, nb.lat]], length_m=1000.0,
                                laying_method="open_trench", ducts_total=total, ducts_used=used, source=SRC,
                                **planned))

    cable_specs = [  # code, a site, b site, trench path
        ("cab-backbone", "POP-N", "POP-S", ["seg-N-S"]),
        ("cab-sch1-n", "POP-N", "SCH-1", ["seg-1", "seg-1b"]),
        ("cab-sch1-s", "SCH-1", "POP-S", ["seg-3"]),
        ("cab-kita1", "POP-N", "KITA-1", ["seg-1", "seg-2"]),
        ("cab-hot1", "POP-S", "HOT-1", ["seg-4"]),
        ("cab-bp1-n", "BP-1", "POP-N", ["seg-5", "seg-6"]),
        ("cab-bp1-s", "BP-1", "POP-S", ["seg-5", "seg-7"]),
    ]
    for code, a, b, path in cable_specs:
        cable = add(code, Cable(code=code, strands=24, a_site_id=rows[a].id, b_site_id=rows[b].id,
                                length_m=1000.0 * len(path), source=SRC))
        for seq, seg in enumerate(path):
            session.add(CableSegment(cable_id=cable.id, seq=seq, segment_id=rows[seg].id))

    link_specs = [  # code, a device, b device, medium, cable
        ("lnk-backbone", "gk-popn-cr1", "gk-pops-cr1", "fibre", "cab-backbone"),
        ("lnk-sch1-n", "gk-popn-ds1", "gk-sch1-as1", "fibre", "cab-sch1-n"),
        ("lnk-sch1-s", "gk-pops-ds1", "gk-sch1-as1", "fibre", "cab-sch1-s"),
        ("lnk-kita1", "gk-popn-ds1", "gk-kita1-as1", "fibre", "cab-kita1"),
        ("lnk-hot1", "gk-pops-ds1", "gk-hot1-ap1", "fibre", "cab-hot1"),
        ("lnk-hot2", "gk-hot1-ap1", "gk-hot2-ap1", "radio", None),
        ("lnk-bp1-n", "gk-popn-ds1", "gk-bp1-as1", "fibre", "cab-bp1-n"),
        ("lnk-bp1-s", "gk-pops-ds1", "gk-bp1-as1", "fibre", "cab-bp1-s"),
    ]
    lx = add("optic-lx", OpticType(name="1000BASE-LX-10km", standard="1000BASE-LX", wavelength_nm=1310,
                                   reach_km=10, tx_min_dbm=-9.5, rx_sensitivity_dbm=-20.0))
    for n, (code, a, b, medium, cable) in enumerate(link_specs):
        kind = "radio" if medium == "radio" else "fibre"
        optic = lx.id if cable else None
        ia = add(f"{code}:a", Interface(device_id=rows[a].id, name=f"port{n}a", kind=kind, optic_id=optic))
        ib = add(f"{code}:b", Interface(device_id=rows[b].id, name=f"port{n}b", kind=kind, optic_id=optic))
        link = add(code, Link(code=code, a_interface_id=ia.id, b_interface_id=ib.id, medium=medium, source=SRC))
        if cable:
            session.add(LinkHop(link_id=link.id, seq=0, cable_id=rows[cable].id, strand_a=2 * n + 1, strand_b=2 * n + 2))
    # the clinic exists already: its plan activates it instead of creating it (as `planning` records it)
    rows["plan-clinic"].summary = {"changes": {"activate_sites": [rows["CLINIC-1"].id]}}
    session.add(rows["plan-clinic"])
    session.flush()
    return rows
