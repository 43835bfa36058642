"""The CLI's list of element kinds (netops.vocabulary, which the core may import) is a twin of
the inventory's own table (inventory.entities); the help texts and completion read the first."""

from inventory import entities
from netops.vocabulary import ELEMENT_KINDS


def test_element_kinds_are_the_inventorys_kinds_in_its_order():
    assert list(ELEMENT_KINDS) == entities.ORDER


def test_export_help_names_every_kind(run_cli):
    result = run_cli("inventory", "export", "--help", env={"COLUMNS": "1000"})
    for name in entities.ORDER:
        assert name in result.output
