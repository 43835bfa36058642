"""The generated city at the size the city quotes (issue 14): companies, homes on a PON,
the Gladbeck and Bottrop schools, ~620 km of fibre; and the planted PON weaknesses, found
here by plain arithmetic on the rows (the audits have their own tests against the manifest)."""

from __future__ import annotations

from collections import Counter, defaultdict

from inventory.models.access import POWER_BUDGET_DB, SPLITTER_LOSS_DB
from inventory.seed import real
from planning.loss_budget import ATTENUATION_DB_PER_KM, CONNECTOR_DB, SPLICE_DB


def rows_by(city, kind, key="code"):
    return {r[key]: r for r in city.rows[kind]}


def test_business_customers_sit_in_the_parks_and_centres(city):
    companies = city.rows["business_connection"]
    assert len(companies) >= 800
    buildings = rows_by(city, "building")
    sites = rows_by(city, "site")
    devices = rows_by(city, "device", "name")
    carriers, centres = Counter(), set()
    for bc in companies:
        place = sites[bc["site"]] if bc["site"] else buildings[bc["building"]]
        carrier_site = devices[bc["device"]]["site"]  # the site whose network serves its NTU
        carriers[sites[carrier_site]["kind"]] += 1
        if sites[carrier_site]["kind"] == "cabinet":
            centres.add(place["district"])
        if bc["building"]:
            assert buildings[bc["building"]]["business_units"] >= 1
            # the company's building lies near the park or cabinet that serves it
            assert abs(place["lat"] - sites[carrier_site]["lat"]) < 0.012, bc
        assert (bc["access"] == "p2p_fibre") == (bc["service_class"] == "sla_gold")
    assert carriers["business_park"] >= 550 and carriers["cabinet"] >= 200 and carriers["hospital"] == 6
    hospital_lines = [bc for bc in companies if bc["site"] and sites[bc["site"]]["kind"] == "hospital"]
    assert {bc["service_class"] for bc in hospital_lines} == {"sla_gold"}
    by_class = Counter(bc["service_class"] for bc in companies)
    assert 10 <= by_class["sla_gold"] <= 0.1 * len(companies) < by_class["business"]
    assert centres == {"Altstadt", "Buer"}


def test_homes_follow_the_stadtteil_population(city):
    homes = Counter()
    for b in city.rows["building"]:
        homes[b["district"]] += b["residential_units"]
    population = {d.name: d.population for d in real.districts() if d.population}
    assert sum(homes.values()) >= 10_000
    share = {d: homes[d] / population[d] for d in population}
    assert max(share.values()) < 2 * min(share.values())  # per head, within a factor of two
    onts = city.rows["residential_connection"]
    passed = sum(o["units"] for o in onts)
    connected = sum(o["units"] for o in onts if o["take_up"] == "connected")
    assert connected >= 5_000 and 0.3 <= connected / passed <= 0.6


def test_neighbour_towns_schools_hang_on_their_own_pop(city):
    schools = [s for s in city.rows["site"] if s["kind"] == "school" and s["city"] != "Gelsenkirchen"]
    assert Counter(s["city"] for s in schools) == {"Bottrop": 32, "Gladbeck": 21}
    assert all(s["source"] == real.SCHOOLS_SOURCE for s in schools)
    official = {r["schulnummer"]: (float(r["lat"]), float(r["lon"]))
                for town in ("Gladbeck", "Bottrop") for r in real.schools(town)}
    assert {s["external_id"]: (s["lat"], s["lon"]) for s in schools} == official
    links = rows_by(city, "link")
    for school in schools:
        uplink = links[f"{school['code']}-up1"]
        assert uplink["b_device"] == f"pop-{school['city'].lower()}-ds1"
    single = set(city.manifest["single_homed"])
    redundant = set(city.manifest["redundant"])
    assert {s["code"] for s in schools} <= single | redundant and {s["code"] for s in schools} & redundant


def test_the_city_has_about_620_km_of_fibre(city):
    cable_km = sum(c["length_m"] for c in city.rows["cable"]) / 1000
    trench_km = sum(s["length_m"] for s in city.rows["segment"]) / 1000
    assert 590 <= cable_km <= 650
    assert 0.6 * cable_km <= trench_km <= cable_km  # cables share trenches


def test_every_generated_customer_row_says_so(city):
    for kind in ("building", "business_connection", "olt_port", "splitter", "residential_connection"):
        assert city.rows[kind] and {r["source"] for r in city.rows[kind]} == {"generated"}, kind


# -- the PON, by arithmetic -------------------------------------------------------------------

def _pon(city):
    splitters = rows_by(city, "splitter")
    cables = rows_by(city, "cable")
    ports = {(p["device"], p["interface"]): p for p in city.rows["olt_port"]}

    def chain(code):
        while code:
            yield splitters[code]
            code = splitters[code]["parent"]

    losses = {}
    for ont in city.rows["residential_connection"]:
        path = list(chain(ont["splitter"]))
        first = path[-1]
        port = ports[(first["olt_device"], first["olt_interface"])]
        fibre_km = (sum(cables[s["feeder_cable"]]["length_m"] for s in path)
                    + cables[ont["drop_cable"]]["length_m"]) / 1000
        split = sum(SPLITTER_LOSS_DB[s["ratio"]] for s in path)
        losses[ont["code"]] = (split, fibre_km, POWER_BUDGET_DB[port["optics_class"]], path)
    return splitters, losses


def test_only_the_planted_pon_fails_its_budget(city):
    """Splitters plus fibre alone (at 1490 nm's 0.25 dB/km) exceed the planted PON's B+
    28 dB; every other ONT keeps 3 dB to spare with fibre at 1310 nm's 0.35 dB/km, two
    connectors and eight splices (planning/loss_budget.py's figures)."""
    _, losses = _pon(city)
    planted = city.manifest["pon_budget_fails"]
    failing = {ont for ont, (split, km, budget, _) in losses.items() if split + km * 0.25 > budget}
    assert failing == set(planted["onts"]) and planted["optics_class"] == "b_plus"
    for ont, (split, km, budget, path) in losses.items():
        if ont not in failing:
            worst = split + km * ATTENUATION_DB_PER_KM[1310] + 2 * CONNECTOR_DB + 8 * SPLICE_DB
            assert worst <= budget - 3.0, (ont, worst, budget)
        else:
            assert [s["code"] for s in path[::-1]] == planted["splitters"]


def test_splitters_keep_a_free_port_but_the_planted_one(city):
    splitters, losses = _pon(city)
    used = Counter(o["splitter"] for o in city.rows["residential_connection"])
    used.update(s["parent"] for s in splitters.values() if s["parent"])
    full = sorted(code for code, s in splitters.items() if used[code] >= s["ratio"])
    assert full == city.manifest["full_splitters"]
    onts_per_port = Counter(path[-1]["code"] for _, _, _, path in losses.values())
    assert max(onts_per_port.values()) <= 64
    waiting = city.manifest["waiting_buildings"]
    served = {o["building"] for o in city.rows["residential_connection"]}
    assert waiting and not set(waiting) & served


def test_one_feeder_cable_carries_over_a_thousand_homes(city):
    splitters, _ = _pon(city)
    homes = defaultdict(int)
    for ont in city.rows["residential_connection"]:
        first = splitters[ont["splitter"]]
        while first["parent"]:
            first = splitters[first["parent"]]
        homes[first["feeder_cable"]] += ont["units"]
    hub = city.manifest["feeder_hub"]
    assert max(homes, key=homes.get) == hub["cable"] and homes[hub["cable"]] == hub["homes_passed"] >= 1000
    runner_up = sorted(homes.values())[-2]
    assert runner_up < 0.8 * hub["homes_passed"]


def test_every_business_line_ends_on_its_own_ntu(city):
    """An NTU per line (role ntu, managed from 10.64.0.0/16): an Ethernet service patched to
    its site's switch; a gold line on two fibre links of its own to two PoP switches, on
    strand pairs of the cables along its site's two routes, sharing no trench but where
    the manifest plants it (``gold_shared_protection``)."""
    import ipaddress

    devices = rows_by(city, "device", "name")
    links_of = defaultdict(list)
    for link in city.rows["link"]:
        links_of[link["a_device"]].append(link)
    hops = defaultdict(list)
    for hop in city.rows["link_hop"]:
        hops[hop["link"]].append(hop["cable"])
    segments_of = defaultdict(set)
    for row in city.rows["cable_segment"]:
        segments_of[row["cable"]].add(row["segment"])
    planted = city.manifest["gold_shared_protection"]
    shared_lines = set()
    for bc in city.rows["business_connection"]:
        ntu = devices[bc["device"]]
        assert bc["link"] is None and ntu["role"] == "ntu" and ntu["source"] == "generated"
        assert ipaddress.ip_address(ntu["mgmt_ip"]) in ipaddress.ip_network("10.64.0.0/16")
        links = links_of[ntu["name"]]
        if bc["service_class"] != "sla_gold":
            assert [(link["b_device"], hops[link["code"]]) for link in links] == [(f"{ntu['site']}-sw1", [])]
            continue
        assert len(links) == 2 and {devices[link["b_device"]]["role"] for link in links} == {"distribution_switch"}
        assert len({link["b_device"] for link in links}) == 2  # two PoPs
        trenches = [set().union(*(segments_of[c] for c in hops[link["code"]])) for link in links]
        if trenches[0] & trenches[1]:
            shared_lines.add(bc["code"])
            assert sorted(trenches[0] & trenches[1]) == planted[bc["code"]]["segments"]
    assert shared_lines == set(planted) and 1 <= len(planted) <= 2
    assert city.manifest["gold_protection_routes"]  # a single-homed park's gold lines got a second route
