"""What changed between two versions of a (scrubbed) config, said in the config's own
words: the sections touched (``interface GigabitEthernet1/0/5``, ``ip access-list
extended X``, ``snmp-server``) and the secrets that changed (``secret changed:
snmp-server community (line 12)``), for commit messages and ``config diff``.

A secret change is a line whose text is the same apart from a different fingerprint
marker: the value stays unknown, the change does not. Lines still holding the marker
of old backups (``<removed>``) compare equal to any marker, so the first run after the
format change reports no secret as changed.

Sections come from indentation (IOS, NX-OS, AOS-CX, ProCurve blocks: the top-level
line above an indented one) and, for a top-level line, from its leading words (``ip
route``, ``snmp-server``; Junos ``set system ntp``). A banner's body belongs to its
``banner`` line.
"""

from __future__ import annotations

import difflib
import re

from configs.scrub import LEGACY_MARKER, MARKER, banners

_PLACEHOLDER = "<secret>"
# top-level commands whose second word says more than the first (`ip route`, `ip ssh`)
_TWO_WORD_COMMANDS = frozenset({"ip", "ipv6", "mac", "spanning-tree", "crypto", "aaa", "snmp", "vlan"})
MAX_ITEMS = 20


def normalise(line: str) -> str:
    """The line with every marker (new or legacy) replaced by one placeholder."""
    return MARKER.sub(_PLACEHOLDER, line)


def describe(old: str | None, new: str) -> list[str]:
    """Sections touched and secrets changed, in the order they appear; at most
    :data:`MAX_ITEMS` (then a count of the rest). ``old`` None: a first version."""
    if old is None:
        return ["first version"]
    old_lines, new_lines = old.splitlines(), new.splitlines()
    old_sections, new_sections = _sections(old_lines), _sections(new_lines)
    matcher = difflib.SequenceMatcher(None, [normalise(x) for x in old_lines],
                                      [normalise(x) for x in new_lines], autojunk=False)
    items: dict[str, None] = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                marker = _changed_marker(old_lines[i], new_lines[j])
                if marker is not None:
                    place = _secret_place(new_lines, j, new_sections[j], marker)
                    items[f"secret changed: {place} (line {j + 1})"] = None
            continue
        for i in range(i1, i2):
            items[old_sections[i]] = None
        for j in range(j1, j2):
            items[new_sections[j]] = None
    described = list(items)
    if len(described) > MAX_ITEMS:
        return described[:MAX_ITEMS] + [f"... and {len(described) - MAX_ITEMS} more"]
    return described


def _changed_marker(old: str, new: str) -> re.Match | None:
    """In two lines equal but for their markers: the first marker of ``new`` that differs
    (old backups' ``<removed>`` is no change)."""
    if old == new:
        return None
    for a, b in zip(MARKER.finditer(old), MARKER.finditer(new)):
        if a.group() != b.group() and LEGACY_MARKER not in (a.group(), b.group()):
            return b
    return None


def _secret_place(lines: list[str], n: int, section: str, marker: re.Match) -> str:
    """What holds the secret: the words before its marker, inside their section. A value
    on a line of its own (a PEM key's body) is named by the line its value began on."""
    line = lines[n]
    words = normalise(line[: marker.start()]).strip().strip('"').strip()
    if not words:
        begun = next((k for k in range(n - 1, -1, -1) if normalise(lines[k]).strip() != _PLACEHOLDER), None)
        if begun is not None:
            return f"{normalise(lines[begun]).strip()} (continued)"
    return words if section in (_section_of_top_level(line), line.strip()) else f"{section}: {words}"


def _sections(lines: list[str]) -> list[str]:
    """The section each line belongs to."""
    sections: list[str] = []
    header: str | None = None
    prose = banners(lines)
    for n, line in enumerate(lines):
        if n in prose:
            sections.append(_section_of_top_level(lines[prose[n]]))
            continue
        if line[:1] not in (" ", "\t"):
            opens_block = n + 1 < len(lines) and lines[n + 1][:1] in (" ", "\t")
            header = line.strip() if opens_block else None
        sections.append(header or _section_of_top_level(line))
    return sections


def _section_of_top_level(line: str) -> str:
    words = re.sub(r"^(?:no|set|delete)\s+", "", line.strip()).split()
    if not words:
        return "(blank line)"
    if line.lstrip().startswith("set "):
        return " ".join(words[:2])  # Junos: `system ntp`, `snmp community`
    if words[0] in _TWO_WORD_COMMANDS and len(words) > 1:
        return " ".join(words[:2])
    return words[0]


def migrate_markers(old: str, new: str) -> str:
    """``old`` with each legacy ``<removed>`` line that is unchanged in ``new`` (apart from
    its marker) taking the new line: the text a format-migration commit holds, so that
    the next commit shows real changes only."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, [normalise(x) for x in old_lines],
                                      [normalise(x) for x in new_lines], autojunk=False)
    merged: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        merged += new_lines[j1:j2] if tag == "equal" else old_lines[i1:i2]
    return "\n".join(merged) + "\n"
