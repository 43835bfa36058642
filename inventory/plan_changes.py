"""A stored plan's change set (``Plan.summary["changes"]``, written by :mod:`planning.changeset`)
read back with its shape checked: a plan an older netops or a hand stored may lack fields
or hold other JSON, and ``apply``, ``diff``, every new plan (the strands and splices other
plans took) and the report (the sites a draft plan activates) read it. Such a change set is one line naming the plan (exit 4), never a
traceback halfway through a command.
"""

from __future__ import annotations

from typing import Any

from netops.errors import DatabaseError

#: the fields of each kind of entry in a change set, and their JSON types
_ENTRIES: dict[str, dict[str, type | tuple[type, ...]]] = {
    "strands": {"cable_id": int, "cable": str, "strands": list, "site": str},
    "splices": {"closure_id": int, "closure": str, "splices": int, "site": str},
    "midspan": {"cable_id": int, "cable": str, "node_id": int, "closure_id": int, "closure": str, "shape": dict},
}
_ID_LISTS = ("activate_sites", "activate_devices")


def changes_of(name: str, summary: Any) -> dict:
    """The change set of the plan ``name`` (empty when it records none), its shape checked."""
    if summary is None:
        return {}
    problem = _problem(summary)
    if problem:
        raise DatabaseError(f"plan {name!r}: its stored change set cannot be read ({problem}); an older netops "
                            f"or a hand wrote it: `netops plan show {name} --json` shows it, discard the plan "
                            "and plan again")
    return summary.get("changes") or {}


def _problem(summary: Any) -> str | None:
    if not isinstance(summary, dict):
        return f"the summary is a JSON {type(summary).__name__}, not an object"
    changes = summary.get("changes") or {}
    if not isinstance(changes, dict):
        return "changes is not an object"
    ducts = changes.get("ducts", {})
    if not isinstance(ducts, dict) or not all(k.isdigit() and _is_int(v) for k, v in ducts.items()):
        return "ducts is not trench id -> count"
    for key in _ID_LISTS:
        if not _ints(changes.get(key, [])):
            return f"{key} is not a list of ids"
    for key, fields in _ENTRIES.items():
        entries = changes.get(key, [])
        if not isinstance(entries, list):
            return f"{key} is not a list"
        for n, entry in enumerate(entries, 1):
            if not isinstance(entry, dict):
                return f"{key} entry {n} is not an object"
            wrong = [f for f, kind in fields.items() if not isinstance(entry.get(f), kind) or
                     (kind is int and not _is_int(entry[f]))]
            if wrong:
                return f"{key} entry {n}: field {wrong[0]} missing or of another type"
            if key == "strands" and not _ints(entry["strands"]):
                return f"strands entry {n}: strands is not a list of numbers"
            if key == "midspan" and not _ints(entry["shape"].get("segments")):
                return f"midspan entry {n}: shape.segments is not a list of trench ids"
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ints(values: Any) -> bool:
    return isinstance(values, list) and all(_is_int(v) for v in values)
