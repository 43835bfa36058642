"""Files a user hands netops, read and written the one careful way.

Reading: a file is UTF-8 text (a byte-order mark is fine); anything else (UTF-16/32,
latin-1, a binary, NUL bytes) is refused naming the file and the line of the first bad
byte, and a file that cannot be read (missing, a directory, no permission, a symlink loop)
is refused naming the file and why, never with a traceback. JSON files are also refused
when nested too deeply or holding numbers Python will not read.

Writing: an output file appears whole or not at all (written beside it, then renamed
over it), so Ctrl-C or a full disk never leaves half a file where a complete one was; an
output that is no regular file (``/dev/stdout``, a FIFO, a symlink) is written through,
never replaced. A failure names the file.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import glob
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, TextIO

from netops.errors import InputError, NetopsError, RowProblem

#: the most a configuration file parsed in Python (rules, Alertmanager, secrets) may hold
CONFIG_MAX_BYTES = 4 * 2**20

# longest BOMs first: the UTF-32-LE mark begins with the UTF-16-LE one
_FOREIGN_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32-LE"), (b"\x00\x00\xfe\xff", "UTF-32-BE"),
                 (b"\xff\xfe", "UTF-16-LE"), (b"\xfe\xff", "UTF-16-BE"))


def file_problem(path: Path, line: int, value: str, reason: str, field: str = "(file)") -> InputError:
    return InputError([RowProblem(str(path), line, field, value, reason)])


def read_text(path: Path, error: type[NetopsError] = NetopsError, max_bytes: int | None = None) -> str:
    """The text of a UTF-8 file; ``error`` (exit 2 by default; the secrets file's is a
    configuration error) names the file when it cannot be read or is no UTF-8 text.
    ``max_bytes`` bounds a file a slow parser reads (YAML and TOML are parsed in Python:
    a 100 MB line would take minutes): a longer one is refused after reading that much.
    The file is read in blocks and refused at the first block holding a NUL byte (a 2 GB
    sparse file or a disk image is refused after 1 MiB, not after reading 2 GB into memory);
    a text too large for the memory there is is refused naming the file."""
    try:
        with open(path, "rb") as handle:
            data = _read_until_binary(handle, max_bytes)
        text = _text_or_problem(data)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    except MemoryError:
        raise error(f"{path}: too large to read into the memory this process may use") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise error(f"{path}: larger than {max_bytes // 2**20} MiB, too large for what it should hold")
    if isinstance(text, str):
        return text
    line, value, reason = text
    if error is NetopsError:
        raise file_problem(path, line, value, reason)
    raise error(f"{path}: line {line}: {reason}")


#: read in blocks of this size, to stop at the first one that shows the file is no text
_BLOCK = 2**20


def _read_until_binary(handle, max_bytes: int | None) -> bytearray:
    """The file's bytes, up to and including the first block holding a NUL byte (no UTF-8
    text holds one, and what follows is never looked at) or holding byte ``max_bytes + 1``."""
    data = bytearray()
    while block := handle.read(_BLOCK):
        data += block
        if b"\x00" in block or max_bytes is not None and len(data) > max_bytes:
            break
    return data


def _text_or_problem(data: bytes | bytearray) -> str | tuple[int, str, str]:
    """The text ``data`` holds, or (line, value, reason) of the first thing that makes it
    no UTF-8 text."""
    for bom, encoding in _FOREIGN_BOMS:
        if data.startswith(bom):
            return 1, "", f"the file is {encoding}; save it as UTF-8"
    nul = data.find(b"\x00")
    if nul >= 0:
        return data.count(b"\n", 0, nul) + 1, "", "NUL bytes: a binary, UTF-16 or UTF-32 file, not UTF-8 text"
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return (data.count(b"\n", 0, exc.start) + 1, f"0x{data[exc.start]:02x}",
                "not UTF-8 (latin-1 or cp1252?); save the file as UTF-8")


def read_json(path: Path, what: str = "JSON", **loads_options: Any) -> Any:
    """A JSON document from a UTF-8 file; every way it can be unreadable names the file."""
    return parse_json(path, read_text(path), what, **loads_options)


def parse_json(path: Path, text: str, what: str = "JSON", **loads_options: Any) -> Any:
    """The JSON document ``text`` (read from ``path``), or an error naming the file;
    ``loads_options`` go to ``json.loads`` (a ``parse_constant`` that refuses NaN)."""
    try:
        return json.loads(text, **loads_options)
    except json.JSONDecodeError as exc:
        raise file_problem(path, exc.lineno, "", f"not valid {what}: {exc.msg}") from None
    except RecursionError:
        raise file_problem(path, 1, "", f"not readable as {what}: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise file_problem(path, 1, "", f"not readable as {what}: {exc}") from None
    except MemoryError:
        raise file_problem(path, 1, "", f"not readable as {what}: too large for the memory this process may use") \
            from None


def parse_yaml(path: Path, text: str, loader: Any = None) -> Any:
    """The YAML document ``text`` (read from ``path``; ``loader`` a SafeLoader or a
    subclass of it), or an error naming the file and the line."""
    import yaml

    try:
        return yaml.load(text, Loader=loader or yaml.SafeLoader)  # noqa: S506 - SafeLoader or a subclass
    except RecursionError:
        raise file_problem(path, 1, "", "not readable YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise file_problem(path, getattr(mark, "line", 0) + 1, "", f"not readable YAML: {exc}") from None
    except ValueError as exc:  # the resolver's int() on more than 4,300 digits
        raise file_problem(path, 1, "", f"not readable YAML: {exc}") from None


# -- writing ----------------------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """Write ``path`` whole or not at all: into a temporary file beside it, renamed over
    ``path`` only when the writing succeeded (a failed write never leaves a 0-byte or
    half-written file, nor destroys the previous one). Its directory is created; an
    output that is no regular file (/dev/stdout, a FIFO, a symlink) is written through."""
    path = Path(path)
    if path.is_dir():
        raise NetopsError(f"{path}: is a directory; name a file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists() and not path.is_file():
            with open(path, "w", encoding="utf-8", newline="") as handle:
                yield handle
            return
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise NetopsError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise NetopsError(f"{path}: cannot write: {exc.strerror}") from None
    except BaseException:
        _remove(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    """``text`` as the whole of ``path`` (see :func:`atomic_text`)."""
    with atomic_text(path) as handle:
        handle.write(text)


def write_file_set(directory: Path, texts: dict[str, str]) -> None:
    """``texts`` (file name -> text) as the files of ``directory``, switched in one step: a
    reader (a web server publishing the directory, a kill at any moment, a power loss) sees
    the whole old set or the whole new set, never files of two runs.

    The set is written (and synced) into a new hidden sibling, ``.<name>.netops-XXXX``,
    which then trades places with ``directory`` in one ``renameat2(RENAME_EXCHANGE)``; the
    old set, now in the sibling, is removed with every file it holds (also files whose names
    the new set lacks: ``directory`` holds the new set and nothing else). A new
    ``directory`` is one ``rename``. A run killed midway leaves only such a sibling, which
    the next run removes (runs on the same directory take turns: an exclusive lock on its
    parent). ``directory`` keeps its mode
    (and, written by root, its owner); a symlink to a directory stays a symlink (the
    directory it names is switched).

    Where the directory cannot trade places (its parent is not writable, it is a mount
    point, a file system without RENAME_EXCHANGE), the files are replaced one after
    another, each whole (see :func:`atomic_text`): a full disk still leaves the whole old
    set, but a kill between two renames can leave files of two runs.
    """
    directory = Path(os.path.realpath(directory))
    try:
        lock = os.open(directory.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise NetopsError(f"{directory}: cannot write: {exc.strerror}") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # looked at under the lock: a file put there while this run waited for it would
        # otherwise trade places with the new set and be removed with the old one
        if directory.exists() and not directory.is_dir():
            raise NetopsError(f"{directory}: is a file; name a directory to write")
        _remove_stages(directory)
        try:
            stage = tempfile.mkdtemp(dir=directory.parent, prefix=_stage_prefix(directory))
        except (PermissionError, FileExistsError):
            return _replace_one_by_one(directory, texts)
        except OSError as exc:
            raise NetopsError(f"{directory}: cannot write: {exc.strerror}") from None
        try:
            _fill_stage(Path(stage), directory, texts)
            if not directory.exists():
                os.rename(stage, directory)
            elif not _exchange(stage, directory):
                _remove_stage(stage)
                return _replace_one_by_one(directory, texts)
            os.fsync(lock)  # the switch itself survives a power loss
        except OSError as exc:
            raise NetopsError(f"{directory}: cannot write: {exc.strerror}") from None
        finally:
            _remove_stage(stage)  # the old set after a switch, the partial new one after a failure
    finally:
        os.close(lock)


def _stage_prefix(directory: Path) -> str:
    return f".{directory.name}.netops-"


def _fill_stage(stage: Path, directory: Path, texts: dict[str, str]) -> None:
    """Write every file of the set into ``stage`` with the modes the old ones had, synced to
    the disk (a rename that outlives a power loss must not name empty files)."""
    for name, text in texts.items():
        path = stage / name
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(path, _file_mode(directory / name))
    try:
        old = directory.stat()
    except FileNotFoundError:
        os.chmod(stage, 0o777 & ~umask())
    else:
        if os.geteuid() == 0:  # root writing a user's directory leaves it theirs
            os.chown(stage, old.st_uid, old.st_gid)
        os.chmod(stage, old.st_mode & 0o7777)
    descriptor = os.open(stage, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


#: renameat2's flag that swaps two paths in one step (linux/fs.h)
_RENAME_EXCHANGE = 2
#: what renameat2 says when these two paths cannot trade places (another file system, a
#: mount point, a file system or kernel without RENAME_EXCHANGE)
_CANNOT_EXCHANGE = {errno.EXDEV, errno.EBUSY, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}


def _exchange(first: str | Path, second: str | Path) -> bool:
    """Swap two paths in one step; False where this kernel or file system cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:  # a C library older than glibc 2.28
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _CANNOT_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(second))


def _remove_stages(directory: Path) -> None:
    """Remove what a killed run left beside ``directory`` (its stage, or the old set)."""
    for stage in directory.parent.glob(glob.escape(_stage_prefix(directory)) + "*"):
        if stage.is_dir() and not stage.is_symlink():
            _remove_stage(stage)


def _remove_stage(stage: str | Path) -> None:
    """Remove a stage and the files in it: a partial new set, or the old set after the switch
    (every file the old directory held, whatever its name: leaving the names the new set
    lacks would strand them in a hidden directory). Not recursive: a directory someone made
    inside is kept, and so is the stage holding it."""
    with contextlib.suppress(OSError), os.scandir(stage) as entries:
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
    with contextlib.suppress(OSError):
        os.rmdir(stage)


def _replace_one_by_one(directory: Path, texts: dict[str, str]) -> None:
    """Every file is complete on disk before any replaces its path; the renames follow
    one another (see :func:`write_file_set`)."""
    try:
        directory.mkdir(exist_ok=True)
    except OSError as exc:
        raise NetopsError(f"{directory}: cannot create the directory: {exc.strerror}") from None
    with contextlib.ExitStack() as stack:
        for name, text in texts.items():
            handle = stack.enter_context(atomic_text(directory / name))
            try:
                handle.write(text)
                handle.flush()
            except OSError as exc:
                raise NetopsError(f"{directory / name}: cannot write: {exc.strerror}") from None


def _file_mode(path: Path) -> int:
    # what open() would have given: the existing file's mode, or 0666 less the umask
    with contextlib.suppress(FileNotFoundError):
        return path.stat().st_mode & 0o7777
    return 0o666 & ~umask()


#: where Linux (4.7 and later) shows a process's umask
PROC_STATUS = Path("/proc/self/status")


def umask() -> int:
    """The process's umask, read without changing it: ``os.umask`` can only set it, and
    setting it to read it would give files another thread creates meanwhile the wrong mode.
    Where /proc does not show it, a child shell (which inherits it) says what it is."""
    with contextlib.suppress(OSError, ValueError):
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    import subprocess

    return int(subprocess.run(["sh", "-c", "umask"], capture_output=True, text=True, check=True).stdout, 8)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
