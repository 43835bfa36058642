"""Compliance rules as data (YAML), in the spirit of Nautobot Golden Config's features
and the BSI IT-Grundschutz NET.3.1 / CIS benchmark items they come from.

The built-in rules live in ``configs/rules/*.yaml``; users add (or override, by ``id``)
rules in their own directories (``--rules DIR``, or ``NETOPS_RULES_DIR``) without
touching code. A file holds a list under ``rules:``::

    rules:
      - id: ios-vty-ssh-only
        title: VTY lines accept SSH only (no telnet)
        severity: critical                  # critical | warning | info
        platforms: [cisco_ios, cisco_xe]    # netmiko device types
        roles: []                           # device roles; empty = every role
        site_kinds: []                      # site kinds; empty = every kind
        reference: BSI NET.3.1.A2x
        fix: ['transport input ssh']       # optional: lines that repair it
        check:
          blocks: '^line vty'               # check each block whose header matches
          require: ['^transport input ssh$']
          forbid: ['telnet']

How a check reads the configuration (already scrubbed of secrets):

* every pattern is a Python regular expression searched in one line, with the line's
  leading and trailing blanks removed;
* without ``blocks``: each ``require`` pattern must match some line, no ``forbid``
  pattern may match any line, and ``count`` must match at least ``min_count`` lines;
* with ``blocks``: the same, inside every block whose header matches ``blocks`` (an
  ``interface``, a ``line vty``...), restricted to blocks having a child line for every
  ``where`` pattern and none for any ``unless`` pattern; ``if_no_blocks`` says whether
  a config without any such block passes or fails;
* ``satisfied_by``: if every one of these patterns matches some line of the whole
  config, the rule passes without looking further (a global default that makes the
  per-port setting unnecessary, e.g. ``spanning-tree portfast bpduguard default``);
* ``covers_access_vlans`` (Cisco IOS syntax): a pattern whose group ``vlans`` captures
  a VLAN list (``10,20-30``); the VLANs of all lines matching it together must include
  the access VLAN of every access port that is not shut down (``switchport access vlan``,
  VLAN 1 without one), e.g. ``ip dhcp snooping vlan``.

Severities are the topology audit's scale: ``critical`` (an open door: someone can take
the device or read its traffic), ``warning`` (hardening a baseline expects),
``info`` (hygiene). The first format's ``high``/``medium``/``low`` are read as
critical/warning/info. ``reference`` names the source: the BSI IT-Grundschutz
requirement (NET.3.1.A<n>, Edition 2023) and the CIS benchmark section.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from inventory.models import DeviceRole, SiteKind
from netops.errors import InputError, NetopsError, RowProblem
from netops.textfile import CONFIG_MAX_BYTES, parse_yaml, read_text
from netops.vocabulary import Severity, parse_severity  # one severity scale for every audit

RULES_ENV = "NETOPS_RULES_DIR"


def _compile(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blocks: str | None = None
    where: list[str] = []
    unless: list[str] = []
    require: list[str] = []
    forbid: list[str] = []
    count: str | None = None
    min_count: int | None = Field(default=None, ge=1)
    if_no_blocks: Literal["pass", "fail"] = "pass"
    satisfied_by: list[str] = []
    covers_access_vlans: str | None = None

    @field_validator("blocks", "count")
    @classmethod
    def _one_regex(cls, value):
        return value if value is None else _compile(value)

    @field_validator("covers_access_vlans")
    @classmethod
    def _vlans_group(cls, value):
        if value is not None and "vlans" not in re.compile(_compile(value)).groupindex:
            raise ValueError("needs a named group (?P<vlans>...) capturing the VLAN list")
        return value

    @field_validator("where", "unless", "require", "forbid", "satisfied_by")
    @classmethod
    def _regexes(cls, values):
        return [_compile(v) for v in values]

    @model_validator(mode="after")
    def _meaningful(self):
        if (self.count is None) != (self.min_count is None):
            raise ValueError("count and min_count go together")
        if not (self.require or self.forbid or self.count or self.covers_access_vlans):
            raise ValueError("a check needs require, forbid, count or covers_access_vlans")
        if self.covers_access_vlans and self.blocks:
            raise ValueError("covers_access_vlans looks at the whole config: not with blocks")
        if (self.where or self.unless) and not self.blocks:
            raise ValueError("where/unless only make sense with blocks")
        return self


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,79}$")
    title: str = Field(min_length=1)
    severity: Severity
    platforms: list[str] = Field(min_length=1)
    roles: list[DeviceRole] = []
    site_kinds: list[SiteKind] = []
    reference: str | None = None
    remediation: str | None = None
    #: config lines that fix a violation (inside each failing block for block checks);
    #: shown by `netops config remediate`, never sent to a device by netops
    fix: list[str] = []
    check: Check
    source: str = Field(default="", exclude=True)  # the file the rule came from

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value):
        return parse_severity(value) if isinstance(value, str) else value

    def applies_to(self, platform: str, role: str | None, site_kind: str | None) -> bool:
        return (
            platform in self.platforms
            and (not self.roles or role in self.roles)
            and (not self.site_kinds or site_kind in self.site_kinds)
        )


# -- loading ----------------------------------------------------------------------------
class _LineLoader(yaml.SafeLoader):
    """Remembers the line of every mapping so errors can name it."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def builtin_rule_files() -> list[Path]:
    folder = resources.files("configs") / "rules"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))


def rule_files(extra_dirs: list[Path] = ()) -> list[Path]:
    dirs = list(extra_dirs)
    if not dirs and os.environ.get(RULES_ENV):
        dirs = [Path(p) for p in os.environ[RULES_ENV].split(os.pathsep) if p]
    files = builtin_rule_files()
    for folder in dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError([RowProblem(str(folder), 1, "-", "-", "rules directory does not exist")])
        found = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
        if not found:  # a mistyped --rules must not silently add nothing
            raise InputError([RowProblem(str(folder), 1, "-", "-", "no rule files (*.yaml) in this directory")])
        files += found
    return files


def load_rules(extra_dirs: list[Path] = ()) -> list[Rule]:
    """Built-in rules, then the user's; a later rule with the same id replaces an earlier
    one (so a site can tune a built-in rule). Every problem in every file is reported."""
    rules: dict[str, Rule] = {}
    problems: list[RowProblem] = []
    for path in rule_files(extra_dirs):
        seen_here: set[str] = set()
        for rule in _load_file(path, problems):
            if rule.id in seen_here:
                problems.append(RowProblem(str(path), 0, "id", rule.id, "duplicate rule id in this file"))
            seen_here.add(rule.id)
            rules[rule.id] = rule
    if problems:
        raise InputError(problems)
    return list(rules.values())


def _load_file(path: Path, problems: list[RowProblem]) -> list[Rule]:
    try:
        doc = parse_yaml(path, read_text(path, max_bytes=CONFIG_MAX_BYTES), _LineLoader)
    except InputError as exc:  # not UTF-8 text, not YAML
        problems.extend(exc.problems)
        return []
    except NetopsError as exc:  # cannot be read
        problems.append(RowProblem(str(path), 1, "-", "-", str(exc).removeprefix(f"{path}: ")))
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        problems.append(RowProblem(str(path), 1, "rules", "-", "expected a mapping with a list under 'rules:'"))
        return []
    loaded = []
    for item in doc["rules"]:
        if not isinstance(item, dict):
            problems.append(RowProblem(str(path), 1, "rules", repr(item), "each rule must be a mapping"))
            continue
        line = item.pop("__line__", 0)
        if isinstance(item.get("check"), dict):
            item["check"].pop("__line__", None)
        try:
            loaded.append(Rule.model_validate({**item, "source": str(path)}))
        except ValidationError as exc:
            for err in exc.errors():
                field_name = ".".join(str(p) for p in err["loc"]) or "-"
                value = _value_at(item, err["loc"])
                problems.append(RowProblem(str(path), line, field_name, value, err["msg"]))
    return loaded


def _value_at(item: dict, loc: tuple) -> str:
    value = item
    for part in loc:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return "-"
    return str(value)
