"""Errors with exit codes a pipeline can use.

Exit codes (documented in README):
  0  ok
  1  findings at or above --fail-on (audits)
  2  usage or input error (bad file, bad row, unknown name)
  3  a device or service failed (partial results were still written)
  4  configuration error (database, secrets)
"""

from __future__ import annotations

from dataclasses import dataclass


class NetopsError(Exception):
    exit_code = 2


class ConfigError(NetopsError):
    exit_code = 4


class DatabaseError(ConfigError):
    """The database cannot be used as it is: where it is, what it is, its schema (exit 4)."""


class NotFoundError(NetopsError):
    exit_code = 2


@dataclass(frozen=True)
class RowProblem:
    """One bad value in an input file: where it is and why it is wrong."""

    file: str
    row: int  # 1-based line number as a spreadsheet shows it (header is row 1)
    field: str
    value: str
    reason: str

    #: values (and field names) are cut to this many characters in messages: a 10 MB cell
    #: must not become a 10 MB error line
    SHOWN = 80

    @classmethod
    def shorten(cls, text: str) -> str:
        return text if len(text) <= cls.SHOWN else text[: cls.SHOWN - 1] + "…"

    def __str__(self) -> str:
        return (f"{self.file}: row {self.row}: field {self.shorten(self.field)!r}: "
                f"value {self.shorten(self.value)!r}: {self.reason}")


class InputError(NetopsError):
    """Input rejected as a whole; carries every problem found, not just the first, and
    perhaps a ``hint``: what the user can do about it (printed after the problems)."""

    def __init__(self, problems: list[RowProblem], hint: str | None = None):
        self.problems = problems
        self.hint = hint
        first = problems[0] if problems else "no detail"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}")
