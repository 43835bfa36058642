import json

import pytest
from sqlalchemy import func, select

from inventory.models import Cable, Site
from inventory.seed import generate, seed
from inventory.seed.city import generate as generate_again
from netops.db import session_scope
from netops.geo import distance_m


def test_generation_is_deterministic(city):
    again = generate_again()
    assert again.rows == city.rows
    assert again.manifest == city.manifest


def test_city_has_what_the_city_counts(city):
    kinds = {}
    for site in city.rows["site"]:
        kinds[site["kind"]] = kinds.get(site["kind"], 0) + 1
    assert kinds["school"] >= 80 and kinds["kindergarten"] == 123 and kinds["hotspot"] >= 260
    assert kinds["hospital"] == 6 and kinds["business_park"] == 12
    hotspots = [s for s in city.rows["site"] if s["kind"] == "hotspot"]
    radio = set(city.manifest["radio_hotspots"])
    assert 0.05 <= len(radio) / len(hotspots) <= 0.15  # about 90 % fibre-fed


def test_every_row_says_real_or_generated(city):
    for site in city.rows["site"]:
        assert site["source"] == "generated" or "(" in site["source"], site
    real = [s for s in city.rows["site"] if s["kind"] == "school"]
    assert all(s["source"].startswith("schulgrunddaten-nrw-2022") for s in real)


def test_links_ride_connected_cables(city):
    """Each link's cables chain end to end: from the a-end site to the b-end's PoP site."""
    cables = {c["code"]: c for c in city.rows["cable"]}
    closure_node = {c["code"]: c["node"] for c in city.rows["closure"]}
    device_site = {d["name"]: d["site"] for d in city.rows["device"]}
    hops: dict[str, list] = {}
    for hop in city.rows["link_hop"]:
        hops.setdefault(hop["link"], []).append(hop)

    def ends(cable):
        return [cable[f"{e}_site"] and f"entry-{cable[f'{e}_site']}" or closure_node[cable[f"{e}_closure"]]
                for e in "ab"]

    checked = 0
    for link in city.rows["link"]:
        path = sorted(hops.get(link["code"], []), key=lambda h: h["seq"])
        if not path:
            continue
        here = f"entry-{device_site[link['a_device']]}"
        for hop in path:
            a, b = ends(cables[hop["cable"]])
            assert here in (a, b), (link["code"], hop)
            here = b if here == a else a
        assert here == f"entry-{device_site[link['b_device']]}"
        checked += 1
    assert checked > 400


def test_segment_lengths_match_geometry_except_the_planted_one(city):
    from netops.geo import line_length_m

    off = [s["code"] for s in city.rows["segment"]
           if abs(s["length_m"] - line_length_m(s["geometry"])) > 0.2 * line_length_m(s["geometry"]) + 5]
    assert off == city.manifest["length_mismatch"]


def test_sites_lie_in_the_region(city):
    for site in city.rows["site"]:
        if site["lat"] is not None:
            assert distance_m(site["lat"], site["lon"], 51.54, 7.05) < 20_000, site["code"]


def test_seed_is_idempotent_and_stats_plausible(engine, city):
    with session_scope(engine) as session:
        first = seed(session, city)
    with session_scope(engine) as session:
        second = seed(session, city)
    assert first.changed > 10_000
    assert second.changed == 0
    with session_scope(engine) as session:
        assert session.execute(select(func.count()).select_from(Site)).scalar_one() == len(city.rows["site"])
        km = session.execute(select(func.sum(Cable.length_m))).scalar_one() / 1000
    # the city quotes ~620 km of fibre across three towns (see inventory/data/GENERATED.md)
    assert 590 <= km <= 650


def test_stats_json_from_cli(run_cli):
    assert run_cli("inventory", "seed").exit_code == 0
    result = run_cli("inventory", "stats", "--json")
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    kinds = stats["sites_by_kind"]
    assert kinds["school"] >= 80 and kinds["kindergarten"] == 123 and kinds["hotspot"] >= 260
    assert kinds["hospital"] == 6 and kinds["business_park"] == 12
    assert 590_000 <= stats["cable_length_m"] <= 650_000
    customers = stats["customers"]
    assert customers["business_connections"] >= 800 and customers["residential_units_connected"] >= 5_000
    # "more than 800 companies": every generated line is its own company (names do not collide)
    assert customers["companies"] == customers["business_connections"]
    assert customers["residential_units_connected"] < customers["residential_units_passed"] <= customers[
        "residential_units"]
    assert stats["devices_by_role"]["olt"] == 5 and kinds["school"] == 80 + 53


def test_scaled_city_has_n_times_the_sites(city):
    bigger = generate(3)
    assert len(bigger.rows["site"]) == 3 * len(city.rows["site"])
    codes = [s["code"] for s in bigger.rows["site"]]
    assert len(set(codes)) == len(codes)
    ips = [d["mgmt_ip"] for d in bigger.rows["device"] if d["mgmt_ip"]]
    assert len(set(ips)) == len(ips)


def test_scaled_city_loads_with_tiles_joined(engine):
    """Every tile's references resolve, and the tiles are joined PoP to PoP."""
    from inventory.models import Link

    bigger = generate(2)
    with session_scope(engine) as session:
        report = seed(session, bigger)
        assert report.changed == sum(len(rows) for rows in bigger.rows.values())
        assert session.execute(select(Link.code).where(Link.code == "tile-1")).scalar_one() == "tile-1"


# -- a re-seed lives together with plans and imports --------------------------------------


def _site(session, code):
    return session.execute(select(Site).where(Site.code == code)).scalar_one()


def test_reseed_keeps_what_plans_and_imports_changed(engine, city):
    """Rows a plan or an import changed stay as they are (and are named); rows still as the
    seed wrote them follow the generator; nothing is reverted."""
    import copy

    from inventory.models import Status, TrenchSegment
    from inventory.store import SourceRow, write

    kitas = [s["code"] for s in city.rows["site"] if s["kind"] == "kindergarten" and s["status"] == "planned"]
    planned_kita, imported_kita, untouched_kita = kitas[:3]
    trench = city.rows["segment"][0]["code"]
    with session_scope(engine) as session:
        seed(session, city)
    with session_scope(engine) as session:
        # what `plan apply` does to rows it does not own, and what an import does
        _site(session, planned_kita).status = Status.ACTIVE
        segment = session.execute(select(TrenchSegment).where(TrenchSegment.code == trench)).scalar_one()
        segment.ducts_used += 1
        ducts = segment.ducts_used
        imported = dict(next(s for s in city.rows["site"] if s["code"] == imported_kita), name="Kita Sonnenschein")
        write(session, [("site", [SourceRow(imported, "kitas.csv", 2)])])

    newer = copy.deepcopy(city)  # a newer generator renames every Kita
    for site in newer.rows["site"]:
        if site["code"] in (planned_kita, imported_kita, untouched_kita):
            site["name"] = f"{site['name']} (neu)"
    with session_scope(engine) as session:
        report = seed(session, newer)
    assert sorted(report.kept["site"]) == sorted([planned_kita, imported_kita])
    assert report.kept["segment"] == [trench]
    assert report.updated["site"] == 1
    with session_scope(engine) as session:
        assert _site(session, planned_kita).status == Status.ACTIVE
        assert not _site(session, planned_kita).name.endswith("(neu)")
        assert _site(session, imported_kita).name == "Kita Sonnenschein"
        assert _site(session, untouched_kita).name.endswith("(neu)")
        assert session.execute(select(TrenchSegment.ducts_used).where(TrenchSegment.code == trench)).scalar_one() == ducts
    with session_scope(engine) as session:
        again = seed(session, newer)
    assert again.changed == 0 and sorted(again.kept["site"]) == sorted([planned_kita, imported_kita])


def test_prune_removes_only_what_the_seed_wrote_unchanged(engine, city):
    import copy

    from inventory.models import Link, LinkHop, Status

    hops_of = {}
    for hop in city.rows["link_hop"]:
        hops_of.setdefault(hop["link"], []).append(hop)
    dropped, changed = [code for code, hops in hops_of.items() if len(hops) >= 2][:2]
    with session_scope(engine) as session:
        seed(session, city)
    with session_scope(engine) as session:
        session.execute(select(Link).where(Link.code == changed)).scalar_one().status = Status.DECOMMISSIONED
    smaller = copy.deepcopy(city)
    smaller.rows["link"] = [r for r in city.rows["link"] if r["code"] not in (dropped, changed)]
    smaller.rows["link_hop"] = [r for r in city.rows["link_hop"] if r["link"] not in (dropped, changed)]

    def links(session):
        return set(session.execute(select(Link.code).where(Link.code.in_([dropped, changed]))).scalars())

    with session_scope(engine) as session:
        report = seed(session, smaller)
        assert sorted(report.stale["link"]) == sorted([dropped, changed]) and links(session) == {dropped, changed}
    with session_scope(engine) as session:
        report = seed(session, smaller, prune=True)
        assert report.pruned["link"] == 1 and report.pruned["link_hop"] == len(hops_of[dropped])
        assert report.stale["link"] == [changed] and links(session) == {changed}
        dropped_hops = select(LinkHop).join(Link, Link.id == LinkHop.link_id).where(Link.code == dropped)
        assert session.execute(dropped_hops).first() is None


@pytest.mark.slow
def test_seed_plan_apply_seed_then_audit_report_and_gauges(run_cli, db_url, tmp_path):
    """`make demo` twice around a plan: the second seed keeps the plan's changes, and audit,
    report and the exporter's inventory/audit gauges still work."""
    from report.collector import InventoryAuditCollector
    from netops import db as dbmod

    streets = str(tmp_path / "streets.geojson")
    assert run_cli("inventory", "seed", "--streets", streets).exit_code == 0
    plan = run_cli("plan", "connect", "kita-001", "--streets", streets, "--json")
    assert plan.exit_code in (0, 1), plan.output
    assert run_cli("plan", "apply", str(json.loads(plan.stdout)["plan_id"])).exit_code == 0
    reseed = run_cli("inventory", "seed", "--json")
    assert reseed.exit_code == 0
    assert json.loads(reseed.stdout)["site"]["kept"] == 1 and "kita-001" in reseed.stderr
    stats = json.loads(run_cli("inventory", "show", "kita-001", "--json").stdout)
    assert stats["site"]["status"] == "active"
    for args in (["audit"], ["audit", "--json"], ["report", "--out", str(tmp_path / "r.html")],
                 ["report", "--json", "--out", str(tmp_path / "r2.html")]):
        result = run_cli(*args)
        assert result.exit_code in (0, 1), (args, result.output)
    findings = json.loads(run_cli("audit", "--json").stdout)
    assert findings["counts"]["critical"] >= 1
    engine = dbmod.make_engine(db_url)
    collector = InventoryAuditCollector(engine)
    collector.wait_for_audits()
    names = {family.name for family in collector.collect()}
    engine.dispose()
    assert {"netops_site_trench_disjoint_paths", "netops_audit_findings", "netops_inventory_device_info"} <= names
