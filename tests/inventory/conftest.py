import pytest
from typer.testing import CliRunner

from inventory.seed import generate


@pytest.fixture(scope="session")
def city():
    """The generated city, once per run (generation is deterministic)."""
    return generate()


@pytest.fixture
def run_cli(db_url):
    """Run `netops` against the test database; returns the click Result."""
    from cli import app

    runner = CliRunner()

    def run(*args: str, **kwargs):
        return runner.invoke(app, ["--db", db_url, *args], catch_exceptions=False, **kwargs)

    return run
