import json

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
    # the city quotes ~620 km across three towns; the generated plant covers Gelsenkirchen
    # and the ring to Gladbeck and Bottrop (see inventory/data/GENERATED.md)
    assert 350 <= km <= 800


def test_stats_json_from_cli(run_cli):
    assert run_cli("inventory", "seed").exit_code == 0
    result = run_cli("inventory", "stats", "--json")
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    kinds = stats["sites_by_kind"]
    assert kinds["school"] >= 80 and kinds["kindergarten"] == 123 and kinds["hotspot"] >= 260
    assert kinds["hospital"] == 6 and kinds["business_park"] == 12
    assert 350_000 <= stats["cable_length_m"] <= 800_000


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
