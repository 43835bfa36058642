from sqlalchemy import inspect

from inventory.models import metadata
from netops import db as dbmod


def test_upgrade_from_empty_creates_every_model_table(db_url):
    engine = dbmod.make_engine(db_url)
    assert dbmod.current_revision(engine) is None
    dbmod.upgrade(engine)
    assert dbmod.current_revision(engine) == dbmod.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables


def test_migrations_match_models(db_url):
    """Autogenerate finds nothing to do after upgrade: the migrations describe the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_downgrade_to_base_and_back(db_url):
    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    dbmod.downgrade(engine, "base")
    assert "site" not in inspect(engine).get_table_names()
    dbmod.upgrade(engine)
    assert "site" in inspect(engine).get_table_names()
