"""Loop detection: repeated identical calls and repeating cycles, at the tail of a run."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from comptroller.agents.loops import detect_loop, fingerprint

A, B, C = (fingerprint("search", {"q": q}) for q in "abc")


def test_arguments_are_part_of_the_call_and_key_order_is_not():
    assert fingerprint("search", {"q": "a", "n": 1}) == fingerprint("search", {"n": 1, "q": "a"})
    assert fingerprint("search", {"q": "a"}) != fingerprint("fetch", {"q": "a"})
    assert fingerprint("search", None) == fingerprint("search", {})


def test_the_same_call_n_times_in_a_row_is_a_loop():
    assert detect_loop([A, A], 3) is None
    loop = detect_loop([B, A, A, A], 3)
    assert loop is not None and loop.cycle == (A,) and loop.repeats == 3
    assert detect_loop([A, A, B], 3) is None  # the agent moved on


def test_a_repeating_cycle_is_a_loop():
    loop = detect_loop([C, A, B, A, B, A, B], 3)
    assert loop is not None and loop.cycle == (A, B)
    assert detect_loop([A, B, C, A, B, C, A, B, C], 3).length == 3
    assert detect_loop([A, B, A, B, A, C], 3) is None


@given(st.lists(st.sampled_from([A, B, C]), max_size=30), st.integers(2, 5))
def test_a_reported_loop_really_is_the_tail_repeated(calls, repeats):
    loop = detect_loop(calls, repeats)
    if loop is not None:
        assert calls[-loop.length * repeats :] == list(loop.cycle) * repeats


@given(st.lists(st.sampled_from([A, B, C]), min_size=1, max_size=4), st.integers(2, 5))
def test_any_cycle_repeated_enough_is_found(cycle, repeats):
    assert detect_loop(cycle * repeats, repeats) is not None
