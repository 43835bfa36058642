"""DeviceSession._confirmed_end searches only the answer's last lines (pool._tail_start), not
the whole answer after every read (quadratic on a large config after a false end). Its two
patterns end at \\Z and span at most 1 and 3 lines holding more than blanks: searched from
``_tail_start(text, n)`` they must find what a search of the whole text finds, the same span
(the body is cut at its start) and the same Junos "{master:0}" group. Session 12 checked that
on 300,000 random texts once; this keeps it checked."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from netops.access.pool import _end_patterns, _tail_start

PROMPTS = ("sw1#", "user@sw1>", "HP 2920#")
# what a device's last lines are made of: prompts (alone, with blanks or a colour code), the
# cluster line, blanks, config text; ended by every line break netmiko passes on, or by none
LINES = ("", " ", "\t", "{master:0}", "{", "x", "\x1b[K", "sw1", *PROMPTS, *(f"{p} " for p in PROMPTS),
         *(f"\x1b[K{p}" for p in PROMPTS))
BREAKS = ("\n", "\r\n", "\r", "\n\r", "\r\r\n", "")
texts = st.lists(st.tuples(st.sampled_from(LINES), st.sampled_from(BREAKS)), max_size=10).map(
    lambda lines: "".join(line + end for line, end in lines))


@given(st.sampled_from(PROMPTS), texts, st.integers(0))
# a Junos cluster member: its line above both prompts (found), and twice between them (never the end)
@example("user@sw1>", "x\r\n{master:0}\r\nuser@sw1>\r\n{master:0}\r\nuser@sw1> ", 24)
@example("user@sw1>", "x\r\nuser@sw1>\r\n{master:0}\r\n{master:0}\r\nuser@sw1>", 14)
def test_the_tail_search_finds_what_the_whole_text_search_finds(prompt, text, cut):
    fresh, confirmed = _end_patterns(re.escape(prompt))
    answer, after = text[:cut % (len(text) + 1)], text[cut % (len(text) + 1):]  # before and after the Enter
    whole = fresh.search(after) and confirmed.search(text)
    tail = fresh.search(text, max(len(answer), _tail_start(text, 1))) and confirmed.search(text, _tail_start(text, 3))
    assert (whole and (whole.span(), whole.groups())) == (tail and (tail.span(), tail.groups()))


@given(texts, st.integers(1, 4))
def test_the_tail_start_is_a_line_break_before_that_many_lines(text, lines):
    start = _tail_start(text, lines)
    assert start == 0 or text[start] in "\r\n"
    # the lines after it that hold more than blanks: at most `lines` (all of them when it is 0)
    held = [line for line in re.split(r"[\r\n]", text[start:]) if line.strip(" \t")]
    assert len(held) == lines if start else len(held) <= lines
