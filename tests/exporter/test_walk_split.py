"""How a walk reads a GETBULK answer (``read_answer``), held to a reference reader that
applies its rules one varbind at a time with numeric OIDs: each column's rows up to the
first varbind that left it or is endOfMibView (noSuchObject/noSuchInstance too when it
names an OID at or before the column's last one; after it: ``row_without_value``), every row after the one before
it (the cursor first), else ``oid_not_increasing`` unless the profile tolerates it. The
reader takes an answer whole in C loops when every varbind is the next row of its column,
and column by column otherwise; either way it must agree with the reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporters.snmp import ber
from exporters.snmp.client import SnmpError, read_answer

COLUMNS = [ber.parse_oid(f"1.3.6.1.2.1.31.1.1.1.{c}") for c in (6, 10, 7, 15)]


def row(column: bytes, *index: int) -> ber.VarBind:
    return column + ber.encode_arcs(index), ber.COUNTER64, b"\x05"


def grid(columns: list[bytes], indexes: list[tuple[int, ...]], cut: int) -> list[ber.VarBind]:
    """A well-behaved agent's answer: a row per index, row-major, cut after ``cut``
    varbinds (net-snmp stops at 100)."""
    return [row(column, *index) for index in indexes for column in columns][:cut]


def reference_read(active, cursor, answer, allow_nonincreasing):
    """The rules, varbind by varbind: (columns still to walk, rows taken, rows by column, cursors)."""
    width = len(active)
    cursor, into, still, total = dict(cursor), {column: [] for column in active}, [], 0
    for j, column in enumerate(active):
        part = answer[j::width]
        rows = []
        for oid, tag, raw in part:
            if len(oid) <= len(column) or not oid.startswith(column) or tag == ber.END_OF_MIB_VIEW:
                break
            if tag in ber.EXCEPTION_TAGS:
                last = rows[-1][0] if rows else cursor[column]
                if ber.oid_to_tuple(oid) <= ber.oid_to_tuple(last):
                    break  # names no row still to read: the table's end
                raise SnmpError("row_without_value")  # a row not read yet with no value
            rows.append((oid, tag, raw))
        if rows:
            arcs = [ber.oid_to_tuple(cursor[column])] + [ber.oid_to_tuple(oid) for oid, _tag, _raw in rows]
            if any(before >= after for before, after in zip(arcs, arcs[1:])):
                if not allow_nonincreasing:
                    raise SnmpError("oid_not_increasing")
                if rows[-1][0] == cursor[column]:
                    continue  # a loop: the column is done
            into[column] += rows
            total += len(rows)
            cursor[column] = rows[-1][0]
        if part and len(rows) == len(part):
            still.append(column)
    return still, total, into, cursor


def read(active, cursor, answer, allow_nonincreasing=False):
    """read_answer's outcome in the reference's shape (or the SnmpError's reason)."""
    cursor, into = dict(cursor), {column: [] for column in active}
    try:
        still, total = read_answer(active, cursor, answer, allow_nonincreasing, into)
    except SnmpError as exc:
        return exc.reason
    return list(still), total, into, cursor


def expected(active, cursor, answer, allow_nonincreasing=False):
    try:
        return reference_read(active, cursor, answer, allow_nonincreasing)
    except SnmpError as exc:
        return exc.reason


@pytest.mark.parametrize("width", [1, 2, 3, 4])
@pytest.mark.parametrize("cut", [100, 99, 98, 97])  # net-snmp's 100 varbinds end rows short
def test_a_clean_answer_is_taken_whole(width, cut):
    active = COLUMNS[:width]
    answer = grid(active, [(i,) for i in range(1, 101)], cut)
    cursor = {column: column for column in active}
    still, total, into, moved = read(active, cursor, answer)
    assert (still, total) == (active, len(answer))
    for j, column in enumerate(active):
        assert into[column] == answer[j::width] and moved[column] == answer[j::width][-1][0]


@pytest.mark.parametrize("why, indexes, cursor_index", [
    ("a row repeated", [(1,), (2,), (2,), (3,)], None),
    ("first row not after the cursor", [(3,), (4,)], (3,)),
    ("ifIndex 16384 before 256: their encoded bytes sort as if increasing", [(16384,), (256,)], None),
])
def test_rows_not_increasing_are_refused(why, indexes, cursor_index):
    active = COLUMNS[:2]
    cursor = {column: column + ber.encode_arcs(cursor_index) if cursor_index else column for column in active}
    assert read(active, cursor, grid(active, indexes, 100)) == "oid_not_increasing", why


def test_exceptions_and_other_columns_end_a_column():
    active = COLUMNS[:2]
    cursor = {column: column for column in active}
    answer = grid(active, [(1,), (2,)], 100)
    ended = answer[:3] + [(answer[3][0], ber.END_OF_MIB_VIEW, b"")]
    moved_on = answer[:3] + [row(COLUMNS[3], 2)]
    # the table's end told by noSuchInstance for the column's last OID (the request echoed)
    echoed = answer[:3] + [(answer[1][0], ber.NO_SUCH_INSTANCE, b"")]
    for bad in (ended, moved_on, echoed):
        for tolerant in (False, True):
            still, total, into, _cursor = read(active, cursor, bad, tolerant)
            assert (still, total) == ([COLUMNS[0]], 3) and into[COLUMNS[1]] == [answer[1]]
    # past the column's last OID: a row not read yet, without a value
    skipped = answer[:3] + [(row(COLUMNS[1], 3)[0], ber.NO_SUCH_OBJECT, b"")]
    assert read(active, cursor, skipped) == read(active, cursor, skipped, True) == "row_without_value"
    at_the_cursor = {column: column + ber.encode_arcs((2,)) for column in active}
    assert read(active, at_the_cursor, [(oid, ber.NO_SUCH_INSTANCE, b"") for oid in at_the_cursor.values()],
                True)[:2] == ([], 0)
    assert read(active, cursor, answer[:1])[:2] == ([COLUMNS[0]], 1)  # a short answer: the second column is done


@settings(max_examples=400, deadline=None)
@given(width=st.integers(1, 4),
       indexes=st.lists(st.one_of(st.tuples(st.integers(0, 200)), st.tuples(st.integers(0, 3), st.integers(0, 300))),
                        min_size=1, max_size=30),
       cut=st.integers(1, 120),
       edits=st.lists(st.tuples(st.sampled_from(["exception", "no_such", "echo", "other_column", "repeat", "swap"]),
                                 st.integers(0, 119)), max_size=3),
       cursor_index=st.one_of(st.none(), st.tuples(st.integers(0, 200))),
       tolerant=st.booleans())
def test_every_answer_is_read_as_the_reference_reads_it(width, indexes, cut, edits, cursor_index, tolerant):
    active = COLUMNS[:width]
    answer = grid(active, sorted(set(indexes)) if len(edits) % 2 else indexes, cut)
    for kind, at in edits:
        at %= len(answer)
        oid, tag, raw = answer[at]
        if kind == "exception":
            answer[at] = (oid, ber.END_OF_MIB_VIEW, b"")
        elif kind == "no_such":  # a row of the table without a value
            answer[at] = (oid, ber.NO_SUCH_INSTANCE, b"")
        elif kind == "echo" and at >= width:  # the table's end: the column's previous OID again
            answer[at] = (answer[at - width][0], ber.NO_SUCH_OBJECT, b"")
        elif kind == "other_column":
            answer[at] = (COLUMNS[3] + oid[len(COLUMNS[0]):], tag, raw)
        elif kind == "repeat" and at >= width:
            answer[at] = answer[at - width]
        elif kind == "swap" and at + width < len(answer):
            answer[at], answer[at + width] = answer[at + width], answer[at]
    cursor = {column: column + ber.encode_arcs(cursor_index) if cursor_index else column for column in active}
    assert read(active, cursor, answer, tolerant) == expected(active, cursor, answer, tolerant)
