"""The one compiled part of netops: the exporter's BER reader (exporters/snmp/_ber.c).

Everything else about the package is in pyproject.toml; setuptools reads both. A failed
build fails `pip install -e .` (and so `make`): the exporter has no pure-Python fallback.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("exporters.snmp._ber", ["exporters/snmp/_ber.c"],
                             extra_compile_args=["-Wall", "-Wextra", "-Wno-unused-parameter"])])
