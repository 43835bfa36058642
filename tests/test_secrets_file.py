"""A secrets file that is not what netops expects: a ConfigError (exit 4) naming the file
and the key, never a traceback and never the value."""

from __future__ import annotations

import os

import pytest

from netops.errors import ConfigError
from netops.secrets import SecretStore

VALUE = "s3cret-value"


def store_for(path) -> SecretStore:
    if path.is_file():
        os.chmod(path, 0o600)
    return SecretStore(path=path, environ={})


@pytest.mark.parametrize("content, named", [
    (f'snmp = "{VALUE}"\n', "snmp must be a table"),
    (f'[snmp]\ncity_v3 = "{VALUE}"\n', "snmp.city_v3 must be a table"),
    (f'[snmp.city_v3]\nauth_key = ["{VALUE}"]\n', "snmp.city_v3.auth_key must be a string"),
    ('[snmp.city_v3]\nauth_key = { nested = "x" }\n', "snmp.city_v3.auth_key must be a string"),
    ("[snmp.city_v3]\nauth_key = true\n", "snmp.city_v3.auth_key must be a string"),
])
def test_wrong_shape_names_the_key_not_the_value(tmp_path, content, named):
    path = tmp_path / "secrets.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as err:
        store_for(path).get("snmp", "city_v3", "auth_key")
    assert named in str(err.value) and str(path) in str(err.value)
    assert VALUE not in str(err.value)


def test_invalid_utf8(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_bytes(b'[snmp.city_v3]\nauth_key = "\xff\xfe caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        store_for(path).get("snmp", "city_v3", "auth_key")


def test_directory_as_secrets_file(tmp_path):
    path = tmp_path / "secrets.toml"
    path.mkdir()
    with pytest.raises(ConfigError, match="directory"):
        store_for(path).require("ssh", "switches", "password")


def test_well_formed_file_still_reads(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text(f'[snmp.city_v3]\nauth_key = "{VALUE}"\n[ssh.switches]\npassword = 1234\n')
    store = store_for(path)
    assert store.require("snmp", "city_v3", "auth_key").reveal() == VALUE
    assert store.require("ssh", "switches", "password").reveal() == "1234"
