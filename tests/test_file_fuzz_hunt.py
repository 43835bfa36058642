"""A grammar-aware fuzz of every file netops reads, through the CLI entry point in-process.

Each target is a real sample of a file a user hands netops (the mini city's own exports of
every entity kind as CSV and GeoJSON, the rules shipped in configs/rules, the Alertmanager
config in deploy/, a secrets file, a config workspace's state.json, a site list, a polygon,
streets, an address map, known_hosts). Hypothesis damages it with one to four steps:
byte-level (truncation, a bit flip, a NUL, a BOM, CRLF, a byte that is not UTF-8, a 200 KB
field, a line doubled or dropped, the header doubled, an empty file) and grammar-level (one
CSV cell, one JSON node, one YAML node or one TOML value replaced by an awkward value:
``NaN``, ``1e400``, 10**40, ``-0``, a date that is none, ``[]``, ``{}``, a deep list...).

Each run must end the way README's "Exit codes" says: an exit code the command documents,
no exception, and on failure lines that each start ``error: `` naming the file; a command
that writes leaves the database as it was when it fails (all or nothing).

`make test` (profile ci) runs a few derandomised examples per target (seconds); `make fuzz`
(profile hunt) draws a hundred times as many with fresh seeds. What a hunt finds becomes a
deterministic regression test (tests/test_file_hunt_regressions.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.entities import KINDS
from tests.test_file_hunt import ADDRESS_MAP, KNOWN_HOSTS, POLYGON, ROOT, SECRETS, STREETS, base_db, dump, run  # noqa: F401

HUNT = settings.get_current_profile_name() == "hunt"


def fuzz(examples: int) -> settings:
    """``examples`` per target under the ci profile; a hundred times as many when hunting."""
    return settings(max_examples=examples * 100 if HUNT else examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


# -- awkward values --------------------------------------------------------------------------------

#: what a cell or a scalar may hold instead of what it should
AWKWARD_TEXT = ["", " ", "NaN", "nan", "inf", "-Infinity", "1e400", "-0", "0", "-1", "10" + "0" * 40, "0x1F",
                "1_000", "١٢٣", "𝟙𝟚", "½", "²", "127.0.0.1:²", "true", "null", "None", "[]", "{}", "[[7.1,51.5]]", "'=1+1", "=cmd|x",
                "a\nb", "\u2028", "\u202e", "\ud83d", "2024-13-45", "0000-00-00", "9999-12-31T25:61:61",
                "KITA-2", "gk-sch1-as1", "x" * 5_000, "9" * 5_000, "0." + "9" * 5_000, "\x1b[31m", "../../etc/passwd", "\\", '"', "'", ";"]
AWKWARD_JSON = [None, True, False, 0, -0.0, -1, 10**40, 1e308, float("inf"), float("nan"), "", "x", "NaN", [], {},
                [[]], [None], {"": None}, [1e400, 51.5], [7.1], [7.1, 51.5, 42.0, 1.0], {"type": "Point"},
                {"type": "Polygon", "coordinates": [[[0, 0], [0, 0], [0, 0]]]}, ["x"] * 3,
                "x" * 5_000, 10**4_000, json.loads("[" * 400 + "]" * 400)]
#: TOML right-hand sides
AWKWARD_TOML = ['""', "9" * 5_000, "1e400", "nan", "inf", "-0", "10" + "0" * 40, "[]", "{}", "true", "1979-05-27T07:32:00Z",
                "'''\nmulti\n'''", '"\\u0000"', '"x"', "[[1, 2], [3]]", "{a = {b = {c = 1}}}"]

BOMS = [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00"]


# -- damage ---------------------------------------------------------------------------------------

Damage = Callable[[st.DataObject, bytes], bytes]


def _at(data: st.DataObject, content: bytes) -> int:
    return data.draw(st.integers(0, len(content)), label="at")


def truncate(data, content):
    return content[:_at(data, content)]


def flip(data, content):
    if not content:
        return content
    at = data.draw(st.integers(0, len(content) - 1), label="at")
    return content[:at] + bytes([content[at] ^ (1 << data.draw(st.integers(0, 7), label="bit"))]) + content[at + 1:]


def insert(data, content):
    at = _at(data, content)
    piece = data.draw(st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\r", b"\n", b",", b'"',
                                       b"\t", b"{", b"]", b"'", b":", b"\\", b"\x1a", b"\xe2\x80\xa8"]), label="byte")
    return content[:at] + piece + content[at:]


def bom(data, content):
    return data.draw(st.sampled_from(BOMS), label="bom") + content


def crlf(data, content):
    return content.replace(b"\n", data.draw(st.sampled_from([b"\r\n", b"\r", b"\n\n"]), label="eol"))


def huge_field(data, content):
    at = _at(data, content)
    return content[:at] + data.draw(st.sampled_from([b"a", b"9", b"[", b" "]), label="fill") * 200_000 + content[at:]


def lines(data, content):
    rows = content.split(b"\n")
    at = data.draw(st.integers(0, len(rows) - 1), label="line")
    how = data.draw(st.sampled_from(["double", "drop", "double the first", "swap"]), label="how")
    if how == "double":
        rows.insert(at, rows[at])
    elif how == "drop":
        del rows[at]
    elif how == "double the first":
        rows.insert(0, rows[0])
    else:
        rows[0], rows[at] = rows[at], rows[0]
    return b"\n".join(rows)


def empty(data, content):
    return data.draw(st.sampled_from([b"", b"\n", b" ", b"\xef\xbb\xbf", b"\r\n\r\n"]), label="empty")


def csv_cell(data, content):
    try:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return content
    if not rows or not any(rows):
        return content
    r = data.draw(st.integers(0, len(rows) - 1), label="row")
    if not rows[r]:
        return content
    c = data.draw(st.integers(0, len(rows[r]) - 1), label="cell")
    rows[r][c] = data.draw(st.sampled_from(AWKWARD_TEXT), label="value")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


def _nodes(doc, path=()):
    yield path
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _nodes(value, (*path, index))


def _replaced(data, doc, values):
    nodes = list(_nodes(doc))[:5_000]
    path = data.draw(st.sampled_from(nodes), label="node")
    value = data.draw(st.sampled_from(values), label="value")
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    how = data.draw(st.sampled_from(["replace", "delete", "rename"]), label="how")
    if how == "delete" and isinstance(parent, (dict, list)):
        del parent[path[-1]]
    elif how == "rename" and isinstance(parent, dict):
        parent[str(data.draw(st.sampled_from(AWKWARD_TEXT[:20]), label="key"))] = parent.pop(path[-1])
    else:
        parent[path[-1]] = value
    return doc


def json_node(data, content):
    try:
        doc = json.loads(content)
    except (ValueError, RecursionError):
        return content
    return json.dumps(_replaced(data, doc, AWKWARD_JSON), ensure_ascii=False).encode("utf-8", "surrogatepass")


def yaml_node(data, content):
    try:  # (the damage so far may have made it no YAML, too deep or an int() too long)
        doc = yaml.safe_load(content)
    except (yaml.YAMLError, RecursionError, ValueError):
        return content
    values = AWKWARD_JSON + AWKWARD_TEXT[:30]
    return yaml.safe_dump(_replaced(data, doc, values), allow_unicode=True).encode("utf-8", "surrogatepass")


def toml_value(data, content):
    text = content.decode("utf-8", errors="replace").split("\n")
    assignments = [i for i, line in enumerate(text) if "=" in line]
    if not assignments:
        return content
    at = data.draw(st.sampled_from(assignments), label="line")
    key = text[at].split("=", 1)[0]
    text[at] = f"{key}= {data.draw(st.sampled_from(AWKWARD_TOML), label='value')}"
    return "\n".join(text).encode("utf-8")


BYTE_DAMAGES: list[Damage] = [truncate, flip, insert, bom, crlf, huge_field, lines, empty]
GRAMMAR = {"csv": csv_cell, "json": json_node, "yaml": yaml_node, "toml": toml_value, "text": insert}


def damaged(data: st.DataObject, sample: bytes, grammar: str) -> bytes:
    """``sample`` after one to four damages, grammar-level ones drawn twice as often."""
    steps = [GRAMMAR[grammar], GRAMMAR[grammar], *BYTE_DAMAGES]
    content = sample
    for _ in range(data.draw(st.integers(1, 4), label="steps")):
        content = data.draw(st.sampled_from(steps), label="damage")(data, content)
    return content


# -- targets ---------------------------------------------------------------------------------------

@dataclass
class Target:
    """A file netops reads, the call that reads it and the exit codes that call documents."""

    suffix: str
    grammar: str
    args: Callable[[str, Path], list[str]]
    codes: frozenset[int]
    env: str | None = None  # the file is named by this variable, not on the command line
    in_dir: str | None = None  # the file is this name in a directory the call is given
    sample: bytes = b""
    extra_env: dict[str, str] = field(default_factory=dict)


STATE = json.dumps({
    "backup": {"devices": {"gk-sch1-as1": {"last_success": 1700000000, "last_attempt": 1700000100,
                                           "status": "timeout"}}, "last_run": 1700000100},
    "audit": {"rules": {"ios-vty-ssh-only": {"severity": "critical", "title": "VTY", "compliant": 3,
                                             "noncompliant": 1}}, "devices": 4, "failed_devices": 0,
              "last_run": 1700000200},
    "lldp": {"mismatches": {"missing": 1, "mispatched": 0, "unexpected": 2}, "devices": 4, "failed_devices": 1,
             "last_run": 1700000300}}, indent=1).encode()
SECRETS_FULL = SECRETS + b'priv_key = "ijklmnop"\n\n[ssh.netops_ro]\npassword = "pw"\n\n' \
                         b'[config.fingerprint]\nkey = "' + b"ab" * 32 + b'"\n'
SITES = b"code,note\nKITA-2,first\nKITA-2,again\n"

TARGETS: dict[str, Target] = {
    "plan batch --csv": Target(".csv", "csv", lambda p, t: ["plan", "batch", "--csv", p, "--dry-run"],
                               frozenset({0, 1, 2}), sample=SITES),
    "plan area --polygon": Target(".geojson", "json", lambda p, t: ["plan", "area", "--polygon", p, "--dry-run"],
                                  frozenset({0, 1, 2}), sample=POLYGON),
    "plan connect --streets": Target(".geojson", "json",
                                     lambda p, t: ["plan", "connect", "KITA-2", "--dry-run", "--streets", p],
                                     frozenset({0, 1, 2}), sample=STREETS),
    "config audit --address-map": Target(".json", "json", lambda p, t: ["config", "audit", "--device", "gk-sch1-as1",
                                                                        "--address-map", p],
                                         frozenset({2, 3}), sample=ADDRESS_MAP),
    "config audit --known-hosts": Target(".known_hosts", "text", lambda p, t: ["config", "audit", "--device",
                                                                               "gk-sch1-as1", "--known-hosts", p],
                                         frozenset({2, 3}), sample=KNOWN_HOSTS),
    "config audit --rules": Target(".yaml", "yaml", lambda p, t: ["config", "audit", "--from-store", "--rules", p],
                                   frozenset({0, 1, 2, 3}), in_dir="rules",
                                   sample=(ROOT / "configs/rules/cisco_ios.yaml").read_bytes()),
    "report --alertmanager-base": Target(
        ".yml", "yaml", lambda p, t: ["report", "--out", str(t / "r.html"), "--alertmanager-config",
                                      str(t / "am.yml"), "--alertmanager-base", p],
        frozenset({0, 2}), sample=(ROOT / "deploy/alertmanager/alertmanager.yml").read_bytes()),
    "NETOPS_SECRETS_FILE": Target(".toml", "toml", lambda p, t: ["config", "backup", "--device", "gk-sch1-as1"],
                                  frozenset({3, 4}), env="NETOPS_SECRETS_FILE", sample=SECRETS_FULL),
    "state.json (report)": Target(".json", "json", lambda p, t: ["report", "--json", "--out", str(t / "r.html")],
                                  frozenset({0, 2}), env="NETOPS_CONFIG_DIR", in_dir="state.json", sample=STATE),
    "state.json (config diff)": Target(".json", "json", lambda p, t: ["config", "diff", "--json"],
                                       frozenset({0, 2}), env="NETOPS_CONFIG_DIR", in_dir="state.json",
                                       sample=STATE),
}


@pytest.fixture(scope="module")
def import_samples(base_db, tmp_path_factory) -> dict[str, bytes]:
    """The mini city's own rows of every kind, exported as CSV (and GeoJSON where the kind
    has a geometry): ``{"site.csv": b"...", "site.geojson": b"...", ...}``."""
    out = tmp_path_factory.mktemp("samples")
    samples = {}
    for name, entity in KINDS.items():
        for fmt in ("csv", "geojson") if entity.geometry else ("csv",):
            path = out / f"{name}.{fmt}"
            result = run(base_db, "inventory", "export", "--kind", name, "--format", fmt, "--out", str(path))
            assert result.exit_code == 0, result.output
            samples[path.name] = path.read_bytes()
    return samples


# -- the judge -------------------------------------------------------------------------------------

def judge(result, codes: frozenset[int], label: str) -> None:
    """The call ended as README's "Exit codes" says: no exception, a documented code, and
    on an error lines ``error: ...`` (one per problem: past 50, one line counts the rest)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{label}: traceback: {result.exception!r}\n{result.output[-3000:]}"
    assert "Traceback" not in result.output, f"{label}: {result.output[-3000:]}"
    assert result.exit_code in codes, f"{label}: exit {result.exit_code}\n{result.output[-3000:]}"
    if result.exit_code in (2, 4):
        lines = result.stderr.strip().splitlines()
        if len(lines) > 50:
            assert re.fullmatch(r"\.\.\. and \d+ more problems", lines.pop()), f"{label}: {lines[-1]}"
        assert lines and all(line.startswith("error: ") for line in lines), f"{label}: {result.stderr[-3000:]}"
        assert all(len(line) < 2_000 for line in lines), f"{label}: a {max(map(len, lines))}-character line"


def run_damaged(base_db: Path, target: Target, content: bytes, label: str, writes: bool,
                filename: str | None = None) -> None:
    """``target``'s call on ``content`` (in a file named ``filename``, else as ``target``
    places it), judged; a call that ``writes`` must leave the database as it was on failure."""
    tmp = Path(tempfile.mkdtemp(prefix="netops-fuzz-"))
    try:
        db = tmp / "netops.db"
        shutil.copy(base_db, db)
        env = {"HOME": str(tmp / "home"), "NETOPS_SECRETS_FILE": str(tmp / "home" / "secrets.toml"),
               "NETOPS_CONFIG_DIR": str(tmp / "workspace"), "XDG_DATA_HOME": str(tmp / "home" / "data"),
               "NETOPS_DB_URL": None, "NETOPS_STREETS": None, "NETOPS_RULES_DIR": None,
               "NETOPS_SSH_KNOWN_HOSTS": None}
        folder = tmp / ("workspace" if target.in_dir == "state.json" else "in")
        folder.mkdir(parents=True)
        path = folder / (filename or (target.in_dir if target.in_dir == "state.json" else f"x{target.suffix}"))
        path.write_bytes(content)
        if target.env == "NETOPS_SECRETS_FILE":
            path.chmod(0o600)
        named = str(folder) if target.in_dir else str(path)
        if target.env:
            env[target.env] = named
        before = dump(db) if writes else None
        result = run(db, *target.args(named, tmp), env=env)
        judge(result, target.codes, label)
        if writes and result.exit_code != 0:
            assert dump(db) == before, f"{label}: the database changed on a refused import"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("name", TARGETS)
@fuzz(2)
@given(data=st.data())
def test_a_damaged_file_read_ends_as_documented(name, data, base_db):
    target = TARGETS[name]
    content = damaged(data, target.sample, target.grammar)
    run_damaged(base_db, target, content, name, writes=False)


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
@fuzz(4)
@given(data=st.data())
def test_a_damaged_inventory_file_is_imported_whole_or_refused(fmt, data, base_db, import_samples):
    name = data.draw(st.sampled_from(sorted(n for n in import_samples if n.endswith(f".{fmt}"))), label="file")
    content = damaged(data, import_samples[name], "csv" if fmt == "csv" else "json")
    kind = data.draw(st.sampled_from([[], ["--kind", name.split(".")[0]]]), label="--kind")
    target = Target(f".{fmt}", fmt, lambda p, t: ["inventory", "import", *kind, p], frozenset({0, 2}))
    # named as exported: the name tells the kind when --kind does not
    run_damaged(base_db, target, content, f"import {name}", writes=True, filename=name)
