import os
import logging

import pytest

from netops.errors import ConfigError
from netops.secrets import MASK, Secret, SecretStore, env_name, scrub


def write_secrets(path, mode=0o600):
    path.write_text('[snmp.city_v3]\nauth_key = "file-auth-k3y"\npriv_key = "file-priv-k3y"\n')
    os.chmod(path, mode)
    return path


def test_file_secret_is_read_and_masked(tmp_path, caplog):
    store = SecretStore(path=write_secrets(tmp_path / "s.toml"), environ={})
    secret = store.require("snmp", "city_v3", "auth_key")
    assert secret.reveal() == "file-auth-k3y"
    logging.getLogger("t").warning("using %s in %r and %s", secret, secret, f"{secret}")
    assert "file-auth-k3y" not in caplog.text
    assert MASK in caplog.text


def test_environment_wins_over_file(tmp_path):
    env = {env_name("snmp", "city_v3", "auth_key"): "env-k3y"}
    store = SecretStore(path=write_secrets(tmp_path / "s.toml"), environ=env)
    assert env_name("snmp", "city-v3", "auth_key") == "NETOPS_SNMP_CITY_V3_AUTH_KEY"
    assert store.require("snmp", "city_v3", "auth_key").reveal() == "env-k3y"
    assert store.require("snmp", "city_v3", "priv_key").reveal() == "file-priv-k3y"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_readable_secrets_file_is_refused(tmp_path, mode):
    store = SecretStore(path=write_secrets(tmp_path / "s.toml", mode), environ={})
    with pytest.raises(ConfigError) as err:
        store.get("snmp", "city_v3", "auth_key")
    assert "chmod 600" in str(err.value)
    assert "file-auth-k3y" not in str(err.value)


def test_missing_secret_names_where_to_put_it(tmp_path):
    store = SecretStore(path=tmp_path / "absent.toml", environ={})
    with pytest.raises(ConfigError, match="NETOPS_SSH_SWITCHES_PASSWORD"):
        store.require("ssh", "switches", "password")


def test_scrub_removes_values_from_library_messages():
    message = "auth failed for user admin with password hunter2 on 10.0.0.1"
    assert "hunter2" not in scrub(message, [Secret("hunter2")])
