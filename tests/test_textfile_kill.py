"""netops.textfile.write_file_set switches a set of files in one step, tested the way it
fails: a child process writes the set and SIGKILLs itself before its N-th file system step
(every mkdir, open, chmod, fsync, rename, swap, unlink, rmdir), for every N until a run
finishes. After each kill the directory holds the whole old set or the whole new set, never
files of both, and the next run removes what the killed one left beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netops import textfile

#: the child: every file system step of write_file_set counts; the N-th kills the process
CHILD = r"""
import builtins, json, os, signal, sys
from pathlib import Path
from netops import textfile
spec = json.loads(sys.argv[1])
steps = 0

def counted(step):
    def run(*args, **kwargs):
        global steps
        steps += 1
        if steps == spec["kill_at"]:
            os.kill(os.getpid(), signal.SIGKILL)
        return step(*args, **kwargs)
    return run

for name in ("mkdir", "chmod", "fsync", "rename", "replace", "unlink", "rmdir"):
    setattr(os, name, counted(getattr(os, name)))
builtins.open = counted(builtins.open)
textfile._exchange = counted(textfile._exchange)
textfile.write_file_set(Path(spec["dir"]), spec["texts"])
print(steps)
"""

OLD = {"hotspots.geojson": "old hotspots\n", "hotspots.csv": "old,csv\n", "buildings.csv": "old buildings\n"}
NEW = {"hotspots.geojson": "new hotspots\n", "hotspots.csv": "new,csv\n", "buildings.csv": "new buildings\n"}
THIRD = {name: text.replace("new", "third") for name, text in NEW.items()}
#: an older set with a file the newer sets no longer have (a layer since retired)
RETIRED = OLD | {"retired.csv": "old retired\n"}


def write_in_child(directory: Path, texts: dict[str, str], kill_at: int) -> subprocess.CompletedProcess:
    spec = json.dumps({"dir": str(directory), "texts": texts, "kill_at": kill_at})
    return subprocess.run([sys.executable, "-c", CHILD, spec], capture_output=True, text=True, timeout=60)


def files_of(directory: Path) -> dict[str, str] | None:
    if not directory.exists():
        return None
    return {p.name: p.read_text() for p in directory.iterdir()}


@pytest.mark.parametrize("before", ["an older set", "an older set with a retired file", "no directory"])
def test_a_kill_at_any_step_leaves_one_whole_set(tmp_path, before):
    out = tmp_path / "open-data"
    old = {"an older set": OLD, "an older set with a retired file": RETIRED}.get(before)
    kills = 0
    for kill_at in range(1, 200):
        if old is not None:
            textfile.write_file_set(out, old)
            out.chmod(0o750)
        done = write_in_child(out, NEW, kill_at)
        seen = files_of(out)
        if done.returncode == 0:
            assert seen == NEW
            break
        assert done.returncode == -9, done.stderr
        kills += 1
        assert seen in (old, NEW), f"killed before step {kill_at}: {seen}"
        # the next run cleans up whatever the killed one left beside the directory
        textfile.write_file_set(out, THIRD)
        assert files_of(out) == THIRD and os.listdir(tmp_path) == ["open-data"], (kill_at, os.listdir(tmp_path))
        assert before == "no directory" or out.stat().st_mode & 0o777 == 0o750
        if old is None:
            for path in out.iterdir():
                path.unlink()
            out.rmdir()
    else:
        pytest.fail("the child never finished")
    assert kills >= 10  # every write, sync and the switch itself were tried
    assert os.listdir(tmp_path) == ["open-data"]


def test_the_switch_keeps_modes_and_a_symlink(tmp_path):
    real = tmp_path / "published"
    textfile.write_file_set(real, OLD)
    real.chmod(0o750)
    (real / "hotspots.csv").chmod(0o640)
    link = tmp_path / "open-data"
    link.symlink_to(real)
    textfile.write_file_set(link, NEW)
    assert link.is_symlink() and files_of(real) == NEW
    assert real.stat().st_mode & 0o777 == 0o750 and (real / "hotspots.csv").stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["open-data", "published"]


def test_files_the_new_set_lacks_are_removed_not_stranded(tmp_path):
    """The directory holds the new set and nothing else: files of the old one whose names the
    new set lacks go with the old set (session 9 left them in a hidden ``.open-data.netops-XXXX``
    sibling, one more for every such run)."""
    out = tmp_path / "open-data"
    textfile.write_file_set(out, RETIRED)
    (out / "mine.txt").write_text("put in by hand\n")
    textfile.write_file_set(out, NEW)
    assert files_of(out) == NEW and os.listdir(tmp_path) == ["open-data"]
    textfile.write_file_set(out, THIRD)
    assert files_of(out) == THIRD and os.listdir(tmp_path) == ["open-data"]


def test_a_mount_point_is_replaced_file_by_file(tmp_path):
    """A directory that cannot trade places (here a mount point) gets its files one by one."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace (needs CAP_SYS_ADMIN)")
    out = tmp_path / "open-data"
    out.mkdir()
    script = (f"mount -t tmpfs -o size=1m tmpfs {out} && "
              f"{sys.executable} -c 'import sys, json; from pathlib import Path; from netops import textfile; "
              f"textfile.write_file_set(Path(sys.argv[1]), json.loads(sys.argv[2]))' {out} '{json.dumps(NEW)}' && "
              f"cat {out}/hotspots.csv && ls -A {tmp_path}")
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["new,csv", "open-data"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (to write another user's directory)")
def test_root_leaves_a_users_directory_theirs(tmp_path):
    out = tmp_path / "open-data"
    textfile.write_file_set(out, OLD)
    os.chown(out, 65534, 65534)
    textfile.write_file_set(out, NEW)
    assert (out.stat().st_uid, out.stat().st_gid) == (65534, 65534) and files_of(out) == NEW


def test_a_file_where_the_directory_should_be_is_refused(tmp_path):
    out = tmp_path / "open-data"
    out.write_text("mine\n")
    with pytest.raises(textfile.NetopsError, match="is a file"):
        textfile.write_file_set(out, NEW)
    assert out.read_text() == "mine\n" and os.listdir(tmp_path) == ["open-data"]


def test_a_file_put_there_while_the_run_waits_for_the_lock_is_kept(monkeypatch, tmp_path):
    """The guard ran before the lock: a file another process put at the directory's path
    while this run waited for the lock traded places with the new set and went with the
    old one. Another process is played by the lock call itself."""
    import fcntl

    out = tmp_path / "open-data"
    lock = fcntl.flock

    def another_process_writes_a_file_meanwhile(fd, operation):
        out.write_text("mine\n")
        return lock(fd, operation)

    monkeypatch.setattr(textfile.fcntl, "flock", another_process_writes_a_file_meanwhile)
    with pytest.raises(textfile.NetopsError, match="is a file"):
        textfile.write_file_set(out, NEW)
    assert out.read_text() == "mine\n" and os.listdir(tmp_path) == ["open-data"]
