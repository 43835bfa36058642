"""netops shared core: settings, database engine and sessions, secrets, errors.

Everything else (inventory, topology, exporters, the CLI) builds on these modules;
nothing here imports from those packages.
"""

__version__ = "0.1.0"
