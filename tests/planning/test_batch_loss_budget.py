"""Issue 15 item 2: the splices and closures a route passes belong in its loss budget. `plan
connect` counts them (one splice per closure passed, README); a batch site riding the same
spare strands through the same closure got no loss budget at all: no margin checked, no
optic chosen for its stored interfaces. Found by the acceptance walk of session 12; now every
route of a batch gets the budget plan connect gives it, with its options and exit code."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, create_engine, select
from typer.testing import CliRunner

from cli import app
from inventory.models import Interface, OpticType, Plan
from netops.db import session_scope
from tests.planning.grid import feeder_town_in


def run(args: list[str], code: int = 0) -> dict:
    return json.loads(invoke(args, code).stdout)


def invoke(args: list[str], code: int = 0):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    return result


def town_db(tmp_path, *, optics: tuple[OpticType, ...] = (), second_pop: bool = False) -> str:
    """The feeder town (two planned Kitas behind closure CL-X, 3 free pairs on CAB-1) with
    ``optics`` as its optic types (none: the standard ones); its database path."""
    from netops import db as dbmod

    url = f"sqlite:///{tmp_path / 'town.db'}"
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    feeder_town_in(engine, tmp_path, pairs=3, kitas=2, second_pop=second_pop)
    with session_scope(engine) as session:
        session.add_all(optics)
    engine.dispose()
    return url.removeprefix("sqlite:///")


@pytest.fixture
def town(tmp_path):
    return ["--db", town_db(tmp_path), "plan"], ["--streets", str(tmp_path / "streets.geojson"), "--dry-run", "--json"]


def test_a_single_plan_counts_the_closure_it_passes(town):
    db, options = town
    plan = run([*db, "connect", "KITA-0", *options])
    assert any(leg["kind"] == "strand" for leg in plan["routes"][0]["legs"])  # rides CAB-1 from CL-X
    (budget,) = plan["loss_budget"]
    assert budget["splices"] >= 1 and budget["optic"]


def test_a_batch_gives_each_site_its_loss_budget_with_the_closures_it_passes(town):
    db, options = town
    single = run([*db, "connect", "KITA-0", *options])["loss_budget"][0]
    batch = run([*db, "batch", "--site-kind", "kindergarten", "--status", "planned", *options])
    assert set(batch["routes"]) == {"KITA-0", "KITA-1"}
    for code, route in batch["routes"].items():
        budgets = route.get("loss_budget") or batch.get("loss_budget", {}).get(code)
        assert budgets, f"{code}: no loss budget"
        if code == "KITA-0" and route["spare_strand_m"] > 0:
            assert budgets[0]["splices"] == single["splices"]


BATCH = ["batch", "--site-kind", "kindergarten", "--status", "planned"]


def test_the_batch_budget_of_a_site_on_spare_strands_is_plan_connects(town):
    """KITA-0 rides CAB-1's spare strands from CL-X in both plans: the same route, the
    same budget, the closure's pair join counted (2 pigtail splices + 1 at CL-X)."""
    db, options = town
    single = run([*db, "connect", "KITA-0", *options])
    batch = run([*db, *BATCH, *options])
    assert batch["routes"]["KITA-0"]["spare_strand_m"] > 0
    assert {k: v for k, v in single["routes"][0].items() if k != "legs"} == batch["routes"]["KITA-0"]
    assert batch["loss_budget"]["KITA-0"] == single["loss_budget"]
    assert single["loss_budget"][0]["splices"] == 3
    assert (batch["flagged"], batch["flagged_sites"]) == (False, [])


def test_a_redundant_batch_gives_both_routes_of_every_site_a_budget(tmp_path):
    """Two routes per site, two budgets in route order: the one on spare strands counts
    CL-X's splice, the new cable all the way to the other PoP only its two pigtails."""
    db = ["--db", town_db(tmp_path, second_pop=True), "plan"]
    out = run([*db, *BATCH, "--redundant", "--streets", str(tmp_path / "streets.geojson"), "--dry-run", "--json"])
    assert set(out["loss_budget"]) == {"KITA-0", "KITA-1"}
    for code, routes in out["routes"].items():
        budgets = out["loss_budget"][code]
        assert [b["length_m"] for b in budgets] == [r["length_m"] for r in routes]
        assert [b["splices"] for b in budgets] == [3 if r["spare_strand_m"] else 2 for r in routes]
        assert any(r["spare_strand_m"] for r in routes) and not any(b["flagged"] for b in budgets)


def optic(name: str, reach_km: float) -> OpticType:
    return OpticType(name=name, standard="1000BASE-LX", wavelength_nm=1310, reach_km=reach_km, tx_min_dbm=-11,
                     rx_sensitivity_dbm=-19)


SHORT = "LX-475m", 0.475  # reaches KITA-0 (473 m) but not KITA-1 (482 m)


def test_a_site_beyond_its_optics_reach_is_flagged_the_plan_stored_and_the_exit_code_1(tmp_path):
    """As plan connect: the flagged plan is shown and stored, exit 1; the table marks the
    site in its margin column and lists every flagged route with the reason."""
    path = town_db(tmp_path, optics=(optic(*SHORT),))
    db, streets = ["--db", path, "plan"], ["--streets", str(tmp_path / "streets.geojson")]
    text = invoke([*db, *BATCH, *streets, "--dry-run"], code=1).stdout
    assert "margin dB" in text and "FLAG" in text
    assert "optical loss budget flagged at 1 of 2 site(s)" in text and "beyond" in text
    out = run([*db, *BATCH, *streets, "--json"], code=1)
    assert out["flagged"] and out["flagged_sites"] == ["KITA-1"] and out["plan_id"] == 1
    (far,), (near,) = out["loss_budget"]["KITA-1"], out["loss_budget"]["KITA-0"]
    assert far["flagged"] and "beyond the optic's reach" in far["reason"] and far["optic"] == "LX-475m"
    assert not near["flagged"] and near["reason"] == "ok"
    assert run([*db, "connect", "KITA-1", *streets, "--dry-run", "--json"], code=1)["loss_budget"] == [far]
    shown = invoke([*db, "show", "1"]).stdout  # the stored plan says so too
    assert "optical loss budget flagged at 1 of 2 site(s)" in shown


def test_min_margin_and_optic_are_plan_connects_options(town):
    db, options = town
    low = run([*db, *BATCH, *options, "--min-margin", "6"])  # both routes keep 6.53 dB on 1000BASE-LX
    assert {(b["optic"], b["min_margin_db"], b["flagged"]) for s in low["loss_budget"].values() for b in s} == {
        ("1000BASE-LX", 6.0, False)}
    # 7 dB: a longer-reach optic that keeps it rather than a flagged plan (10GBASE-LR keeps 4.73)
    high = run([*db, *BATCH, *options, "--min-margin", "7"])
    assert {b["optic"] for s in high["loss_budget"].values() for b in s} == {"10GBASE-ER"}
    assert high["loss_budget"]["KITA-1"] == run([*db, "connect", "KITA-1", *options, "--min-margin", "7"])[
        "loss_budget"]
    lx = run([*db, *BATCH, *options, "--min-margin", "7", "--optic", "1000BASE-LX"], code=1)
    assert lx["flagged_sites"] == ["KITA-0", "KITA-1"]
    assert all(b["reason"] == "margin 6.53 dB < minimum 7.00 dB" for s in lx["loss_budget"].values() for b in s)
    zx = run([*db, *BATCH, *options, "--optic", "1000BASE-ZX"])
    assert zx["loss_budget"]["KITA-0"] == run([*db, "connect", "KITA-0", *options, "--optic", "1000BASE-ZX"])[
        "loss_budget"]
    assert {b["optic"] for s in zx["loss_budget"].values() for b in s} == {"1000BASE-ZX"}


@pytest.mark.parametrize("command", [BATCH, ["connect", "KITA-0"]], ids=["batch", "connect"])
def test_an_unknown_optic_is_one_line_and_exit_2(town, command):
    db, options = town
    result = invoke([*db, *command, *options, "--optic", "1000BASE-XX"], code=2)
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: --optic: unknown optic '1000BASE-XX'; known: 1000BASE-LX, 10GBASE-LR, 10GBASE-ER, 1000BASE-ZX"]


def test_apply_gives_the_batch_interfaces_the_optic_of_their_budget(tmp_path):
    path = town_db(tmp_path, optics=(optic("1000BASE-LX", 10), optic(*SHORT)))
    db = ["--db", path, "plan"]
    out = run([*db, *BATCH, "--streets", str(tmp_path / "streets.geojson"), "--json"])
    assert {b["optic"]: code for code, (b,) in out["loss_budget"].items()} == {"LX-475m": "KITA-0",
                                                                               "1000BASE-LX": "KITA-1"}
    engine = create_engine(f"sqlite:///{path}")

    def interfaces(where) -> dict[int, tuple[str, int | None]]:
        with Session(engine) as session:
            return {i.id: (i.description, i.optic_id) for i in session.exec(select(Interface).where(where)).all()}

    drafted = interfaces(Interface.plan_id == out["plan_id"])
    invoke([*db, "apply", str(out["plan_id"])])
    with Session(engine) as session:
        short, lx = (session.exec(select(OpticType.id).where(OpticType.name == n)).one() for n in ("LX-475m",
                                                                                                   "1000BASE-LX"))
        assert session.get(Plan, out["plan_id"]).state == "applied"
    assert interfaces(Interface.id.in_(drafted)) == drafted  # built, they keep the optic
    engine.dispose()
    assert sorted(drafted.values()) == [("to KITA-0", short), ("to KITA-1", lx),  # both ends of each link
                                        ("uplink to POP-0", lx), ("uplink to POP-0", short)]


@pytest.mark.parametrize("command", [["connect", "KITA-0"], BATCH, ["fixes"]])
def test_a_negative_minimum_margin_is_refused(town, command):
    """A margin below 0 dB is a link whose loss is over its optic's power budget: --min-margin
    -5 passed it as 'ok' (plan connect, batch and fixes alike, exit 0). Usage, one line, exit 2."""
    db, options = town
    options = [o for o in options if command != ["fixes"] or o != "--dry-run"]  # fixes stores only when told
    result = invoke([*db, *command, *options, "--min-margin", "-0.5"], code=2)
    assert "--min-margin" in result.output and len(result.output.strip().splitlines()) == 1
    if command != ["fixes"]:
        assert run([*db, *command, *options, "--min-margin", "0"])["flagged"] is False


def test_a_batch_route_through_a_new_mid_span_closure_counts_it_as_plan_connect_does(tmp_path):
    """Both Kitas beside CAB-1 get a new closure opened mid-span (no closure there yet): the
    batch's budget counts that closure's splice as plan connect's does (2 pigtails + 1)."""
    from netops import db as dbmod
    from tests.planning.test_midspan import BESIDE_MH_0_2, BESIDE_MH_0_4

    engine = dbmod.make_engine(f"sqlite:///{tmp_path / 'mid.db'}")
    dbmod.upgrade(engine)
    feeder_town_in(engine, tmp_path, pairs=3, sites=(BESIDE_MH_0_2, BESIDE_MH_0_4), kitas=2)
    engine.dispose()
    db, options = ["--db", str(tmp_path / "mid.db"), "plan"], ["--streets", str(tmp_path / "streets.geojson"),
                                                               "--dry-run", "--json"]
    batch = run([*db, *BATCH, *options])
    assert any(line["item"].startswith("splice closure, new") for line in batch["bom"])
    for code, budgets in batch["loss_budget"].items():
        single = run([*db, "connect", code, *options])
        assert any(line["item"].startswith("splice closure, new") for line in single["bom"])
        assert [b["splices"] for b in budgets] == [b["splices"] for b in single["loss_budget"]] == [3]
