"""The walk's two ways of reading a GETBULK answer agree: the whole-answer check
(``in_step``, the fast path for every answer but a walk's last) accepts only answers whose
every varbind is the next row of its column (numeric OID order, no exception value), and
then the column-by-column reading (``split_answer``) takes them whole, with the same rows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporters.snmp import ber
from exporters.snmp.client import in_step, split_answer

COLUMNS = [ber.parse_oid(f"1.3.6.1.2.1.31.1.1.1.{c}") for c in (6, 10, 7, 15)]


def row(column: bytes, *index: int) -> ber.VarBind:
    return column + ber.encode_arcs(index), ber.COUNTER64, b"\x05"


def grid(columns: list[bytes], indexes: list[tuple[int, ...]], cut: int) -> list[ber.VarBind]:
    """A well-behaved agent's answer: a row per index, row-major, cut after ``cut``
    varbinds (net-snmp stops at 100)."""
    return [row(column, *index) for index in indexes for column in columns][:cut]


def every_row_next(active, cursor, answer) -> bool:
    """The reference: each varbind inside its column, no exception, numerically after the
    cursor (first row) or after its column's previous row."""
    width = len(active)
    if len(answer) < width:
        return False
    previous = {column: ber.oid_to_tuple(cursor[column]) for column in active}
    for k, (oid, tag, _raw) in enumerate(answer):
        column = active[k % width]
        if tag in ber.EXCEPTION_TAGS or len(oid) <= len(column) or not oid.startswith(column):
            return False
        if ber.oid_to_tuple(oid) <= previous[column]:
            return False
        previous[column] = ber.oid_to_tuple(oid)
    return True


def assert_taken_whole(active, cursor, answer):
    cursor, into = dict(cursor), {column: [] for column in active}
    still, taken = split_answer(active, cursor, answer, False, into)
    assert (still, taken) == (active, len(answer))
    width = len(active)
    for j, column in enumerate(active):
        assert into[column] == answer[j::width] and cursor[column] == answer[j::width][-1][0]


@pytest.mark.parametrize("width", [1, 2, 3, 4])
@pytest.mark.parametrize("cut", [100, 99, 98, 97])  # net-snmp's 100 varbinds end rows short
def test_a_clean_answer_is_in_step_and_taken_whole(width, cut):
    active = COLUMNS[:width]
    answer = grid(active, [(i,) for i in range(1, 101)], cut)
    cursor = {column: column for column in active}
    assert in_step(active, cursor, answer)
    assert_taken_whole(active, cursor, answer)


@pytest.mark.parametrize("why, indexes, cursor_index", [
    ("a row repeated", [(1,), (2,), (2,), (3,)], None),
    ("first row not after the cursor", [(3,), (4,)], (3,)),
    ("ifIndex 16384 before 256: their encoded bytes sort as if increasing", [(16384,), (256,)], None),
])
def test_not_in_step(why, indexes, cursor_index):
    active = COLUMNS[:2]
    cursor = {column: column + ber.encode_arcs(cursor_index) if cursor_index else column for column in active}
    assert not in_step(active, cursor, grid(active, indexes, 100)), why


def test_exceptions_and_other_columns_are_not_in_step():
    active = COLUMNS[:2]
    cursor = {column: column for column in active}
    answer = grid(active, [(1,), (2,)], 100)
    ended = answer[:3] + [(answer[3][0], ber.END_OF_MIB_VIEW, b"")]
    moved_on = answer[:3] + [row(COLUMNS[3], 2)]
    short = answer[:1]
    for bad in (ended, moved_on, short):
        assert not in_step(active, cursor, bad)


@settings(max_examples=400, deadline=None)
@given(width=st.integers(1, 4),
       indexes=st.lists(st.one_of(st.tuples(st.integers(0, 200)), st.tuples(st.integers(0, 3), st.integers(0, 300))),
                        min_size=1, max_size=30),
       cut=st.integers(1, 120),
       edits=st.lists(st.tuples(st.sampled_from(["exception", "other_column", "repeat", "swap"]), st.integers(0, 119)),
                      max_size=3),
       cursor_index=st.one_of(st.none(), st.tuples(st.integers(0, 200))))
def test_in_step_only_when_every_row_is_next(width, indexes, cut, edits, cursor_index):
    active = COLUMNS[:width]
    answer = grid(active, sorted(set(indexes)) if len(edits) % 2 else indexes, cut)
    for kind, at in edits:
        at %= len(answer)
        oid, tag, raw = answer[at]
        if kind == "exception":
            answer[at] = (oid, ber.END_OF_MIB_VIEW, b"")
        elif kind == "other_column":
            answer[at] = (COLUMNS[3] + oid[len(COLUMNS[0]):], tag, raw)
        elif kind == "repeat" and at >= width:
            answer[at] = answer[at - width]
        elif kind == "swap" and at + width < len(answer):
            answer[at], answer[at + width] = answer[at + width], answer[at]
    cursor = {column: column + ber.encode_arcs(cursor_index) if cursor_index else column for column in active}
    fast = in_step(active, cursor, answer)
    assert not fast or every_row_next(active, cursor, answer)
    if fast:
        assert_taken_whole(active, cursor, answer)
