"""Device configurations: backup into git, secret scrubbing, compliance audit, intended
configs for planned devices, and LLDP/CDP verification against the documented links.

Builds on ``netops.access`` (SSH sessions) and ``inventory`` (which devices, which links);
never on topology or exporters. The exporter may register :mod:`configs.metrics`.
"""
