from __future__ import annotations

import pytest

from netops import db as dbmod
from netops.secrets import SecretStore, env_name
from tests.ssh import lab
from tests.support.fakenos_fleet import Fleet
from tests.support.procs import free_port


@pytest.fixture(scope="session")
def fleet():
    """One fakenos fleet for the whole test session (starting one costs seconds)."""
    fleet = Fleet(lab.fleet_specs()).start()
    yield fleet
    fleet.stop()


@pytest.fixture(scope="session")
def address_map(fleet) -> dict[str, tuple[str, int]]:
    mapping = fleet.address_map()
    mapping["s4-sw"] = ("127.0.0.1", free_port())  # nothing listens there
    return mapping


@pytest.fixture
def secrets() -> SecretStore:
    environ = {
        env_name("ssh", "switches", "password"): lab.PASSWORD,
        env_name("ssh", "slow", "password"): lab.PASSWORD,
        env_name("ssh", "wrong-pw", "password"): lab.WRONG_PASSWORD,
    }
    return SecretStore(path=None, environ=environ)


@pytest.fixture
def lab_engine(tmp_path):
    engine = dbmod.make_engine(f"sqlite:///{tmp_path / 'lab.db'}")
    dbmod.upgrade(engine)
    with dbmod.session_scope(engine) as session:
        lab.build_inventory(session)
    yield engine
    engine.dispose()


def pytest_collection_modifyitems(items):
    # fakenos server threads print tracebacks on refused logins and early stops (noise,
    # see fakenos.md); they are not failures of the code under test
    for item in items:
        if "tests/ssh/" in str(item.fspath):
            item.add_marker(pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"))
