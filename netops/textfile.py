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
    a 100 MB line would take minutes): a longer one is refused after reading that much."""
    try:
        with open(path, "rb") as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise error(f"{path}: larger than {max_bytes // 2**20} MiB, too large for what it should hold")
    problem = _not_utf8(data)
    if problem is None:
        return data.decode("utf-8-sig")
    line, value, reason = problem
    if error is NetopsError:
        raise file_problem(path, line, value, reason)
    raise error(f"{path}: line {line}: {reason}")


def _not_utf8(data: bytes) -> tuple[int, str, str] | None:
    """(line, value, reason) of the first thing that makes ``data`` no UTF-8 text."""
    for bom, encoding in _FOREIGN_BOMS:
        if data.startswith(bom):
            return 1, "", f"the file is {encoding}; save it as UTF-8"
    nul = data.find(b"\x00")
    if nul >= 0:
        return data.count(b"\n", 0, nul) + 1, "", "NUL bytes: a binary, UTF-16 or UTF-32 file, not UTF-8 text"
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return (data.count(b"\n", 0, exc.start) + 1, f"0x{data[exc.start]:02x}",
                "not UTF-8 (latin-1 or cp1252?); save the file as UTF-8")
    return None


def read_json(path: Path, what: str = "JSON") -> Any:
    """A JSON document from a UTF-8 file; every way it can be unreadable names the file."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise file_problem(path, exc.lineno, "", f"not valid {what}: {exc.msg}") from None
    except RecursionError:
        raise file_problem(path, 1, "", f"not readable as {what}: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise file_problem(path, 1, "", f"not readable as {what}: {exc}") from None


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


def write_texts(texts: dict[Path, str]) -> None:
    """Several files, all or none: each is written (and flushed) to its temporary file
    before any replaces its path, so a full disk on the last one leaves every earlier file
    as it was (see :func:`atomic_text`)."""
    with contextlib.ExitStack() as stack:
        for path, text in texts.items():
            handle = stack.enter_context(atomic_text(path))
            try:
                handle.write(text)
                handle.flush()
            except OSError as exc:
                raise NetopsError(f"{path}: cannot write: {exc.strerror}") from None


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
