"""Customers of the mini town (tests/support/mini_city.py), as import file rows::

    POP-N: OLT gk-popn-olt1
      pon0/1 (B+) -feeder cab-kita1 #20-> SPL-1 1:8 in cabinet C-1
                                            |- port 1 -> SPL-2 1:32 at closure cl-M-1 (node M-1)
                                            |               |- port 1 -> ONT-1 in B-1, 12 units, connected
                                            |               '- port 2 -> ONT-2 in B-1, 12 units, passed
                                            '- port 2 -> ONT-3 in B-2, 8 units, connected
      pon0/2 (C+) ------------------------> SPL-3 1:8 in cabinet C-1 (nothing on it yet)

    buildings: B-1 30 homes, B-2 8 homes + 1 business, B-3 offices (10 businesses)
    BC-1 Stadtwerke (B-3, sla_gold, p2p fibre on lnk-bp1-n)
    BC-2 Logistik Schalke (site BP-1, business, Ethernet on gk-bp1-as1)
    BC-3 Bäckerei (B-2, best_effort, Ethernet on gk-popn-ds1)

Needs the closure cl-M-1 at M-1 (``MINI_EXTRAS`` in tests/inventory/conftest.py).
"""

SRC = "test"

PON_ROWS: dict[str, list[dict[str, str]]] = {
    "device": [{"name": "gk-popn-olt1", "site": "POP-N", "role": "olt", "platform": "huawei_olt",
                "mgmt_ip": "10.0.0.9", "source": SRC}],
    "interface": [{"device": "gk-popn-olt1", "name": f"pon0/{n}", "kind": "fibre"} for n in (1, 2)],
    "route_node": [{"code": "C-1", "kind": "cabinet", "lat": "51.552", "lon": "7.082", "source": SRC}],
    "building": [
        {"code": "B-1", "name": "Hochhaus Buer", "address": "Hochstraße 1", "district": "Buer",
         "lat": "51.551", "lon": "7.081", "residential_units": "30", "business_units": "0", "source": SRC},
        {"code": "B-2", "address": "Hochstraße 3", "district": "Buer", "lat": "51.552", "lon": "7.083",
         "residential_units": "8", "business_units": "1", "source": SRC},
        {"code": "B-3", "name": "Stadtwerke", "address": "Ebertstraße 30", "district": "Altstadt",
         "lat": "51.506", "lon": "7.101", "residential_units": "0", "business_units": "10", "source": SRC},
    ],
    "olt_port": [
        {"device": "gk-popn-olt1", "interface": "pon0/1", "optics_class": "b_plus", "source": SRC},
        {"device": "gk-popn-olt1", "interface": "pon0/2", "optics_class": "c_plus", "source": SRC},
    ],
    "splitter": [  # the cascade's child first: the import orders a cascade itself
        {"code": "SPL-2", "ratio": "32", "node": "M-1", "parent": "SPL-1", "parent_port": "1", "source": SRC},
        {"code": "SPL-1", "ratio": "8", "node": "C-1", "olt_device": "gk-popn-olt1", "olt_interface": "pon0/1",
         "feeder_cable": "cab-kita1", "feeder_strand": "20", "source": SRC},
        {"code": "SPL-3", "ratio": "8", "node": "C-1", "olt_device": "gk-popn-olt1", "olt_interface": "pon0/2",
         "source": SRC},
    ],
    "residential_connection": [
        {"code": "ONT-1", "building": "B-1", "splitter": "SPL-2", "splitter_port": "1", "units": "12",
         "take_up": "connected", "drop_cable": "cab-kita1", "drop_strand": "21", "source": SRC},
        {"code": "ONT-2", "building": "B-1", "splitter": "SPL-2", "splitter_port": "2", "units": "12",
         "take_up": "passed", "source": SRC},
        {"code": "ONT-3", "building": "B-2", "splitter": "SPL-1", "splitter_port": "2", "units": "8",
         "take_up": "connected", "source": SRC},
    ],
    "business_connection": [
        {"code": "BC-1", "company": "Stadtwerke Gelsenkirchen", "building": "B-3", "service_class": "sla_gold",
         "access": "p2p_fibre", "bandwidth_mbps": "1000", "link": "lnk-bp1-n", "source": SRC},
        {"code": "BC-2", "company": "Logistik Schalke", "site": "BP-1", "service_class": "business",
         "access": "ethernet_service", "bandwidth_mbps": "100", "device": "gk-bp1-as1", "source": SRC},
        {"code": "BC-3", "company": "Bäckerei Buer", "building": "B-2", "service_class": "best_effort",
         "access": "ethernet_service", "bandwidth_mbps": "50", "device": "gk-popn-ds1", "source": SRC},
    ],
}
