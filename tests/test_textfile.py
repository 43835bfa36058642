"""netops.textfile's writer gives a new file the mode open() would have given (0666 less the
umask) and reads the umask without setting it: setting it, even for a moment, gives files
another thread creates meanwhile the wrong mode."""

from __future__ import annotations

import os
import stat

import pytest

from netops import textfile


@pytest.fixture
def umask_set():
    """Set the process's umask for one test, and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _never_set_the_umask(monkeypatch):
    def refuse(_mask):
        raise AssertionError("the umask was set (process-wide) to read it")
    monkeypatch.setattr(os, "umask", refuse)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o027])
@pytest.mark.parametrize("proc", ["/proc/self/status", "no /proc"])
def test_a_new_file_gets_0666_less_the_umask_read_without_setting_it(mask, proc, umask_set, monkeypatch, tmp_path):
    umask_set(mask)
    if proc == "no /proc":  # another OS, or /proc not mounted: a child shell says it
        monkeypatch.setattr(textfile, "PROC_STATUS", tmp_path / "no-such-status")
    _never_set_the_umask(monkeypatch)
    assert textfile.umask() == mask
    path = tmp_path / "out" / "new.txt"
    textfile.write_text(path, "x\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert path.read_text() == "x\n"


def test_an_existing_file_keeps_its_mode(umask_set, monkeypatch, tmp_path):
    umask_set(0o077)
    path = tmp_path / "kept.txt"
    path.write_text("old\n")
    path.chmod(0o640)
    textfile.write_text(path, "new\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_text() == "new\n"
