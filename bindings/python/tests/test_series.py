"""Series given as lists: read by index, with the results and errors of any other sequence.

An exact `list` has its own conversion (no iterator, no reference count per item); a `tuple`
goes through the general sequence conversion. Both must agree on every input, good or bad.
"""

import math

import pytest

import hxb


class Real(float):
    pass


class Whole(int):
    pass


class Index:
    def __index__(self):
        return 7


class Floaty:
    def __float__(self):
        return 2.5


def outcome(call):
    try:
        result = call()
    except Exception as err:  # noqa: BLE001 - the exception itself is compared
        return type(err), str(err)
    return type(result), list(result)


GOOD = [
    ([0, 1, 2], [1.0, 2.0, 3.0]),
    ([0, 1, 2], [1, 2, 3]),
    ([0, 1, 2], [1.0, True, 3]),
    ([0, Whole(5), 9], [Real(1.5), 2.0, Floaty()]),
    ([0, Index(), 9], [1.0, 2.0, 3.0]),
    ([True, 2, 3], [1.0, 2.0, 3.0]),
    ([-(2**63), 0], [1.0, -0.0]),
    ([], []),
]

BAD = [
    ([0, 1, 2], [1.0, math.nan, 1.0]),
    ([0, 1, 2], [1.0, -math.inf, 1.0]),
    ([0, 2, 1], [1.0, 1.0, 1.0]),
    ([0, 1], [1.0]),
    ([0, 1.5], [1.0, 1.0]),
    ([0, 1.0], [1.0, 1.0]),
    ([0, None], [1.0, 1.0]),
    (["0", 1], [1.0, 1.0]),
    ([0, 2**70], [1.0, 1.0]),
    ([0, 1], [1.0, None]),
    ([0, 1], [1.0, "2"]),
    ([0, 1], [1.0, [2.0]]),
    ([0, 1], [1.0, 10**400]),
]


@pytest.mark.parametrize("ts,vs", GOOD)
def test_lists_give_the_scores_of_any_sequence(engine, ts, vs):
    as_lists = outcome(lambda: engine.detect_anomalies(ts, vs))
    assert as_lists[0] is list
    assert as_lists == outcome(lambda: engine.detect_anomalies(tuple(ts), tuple(vs)))


@pytest.mark.parametrize("ts,vs", BAD)
def test_bad_lists_fail_like_any_sequence(engine, ts, vs):
    as_lists = outcome(lambda: engine.detect_anomalies(ts, vs))
    assert as_lists[0] is not list
    assert as_lists == outcome(lambda: engine.detect_anomalies(tuple(ts), tuple(vs)))


@pytest.mark.parametrize("history", [[1.0, 2.0, 3.0, 4.0], [1, 2, 3, 4], [1.0, math.nan], [1.0, "x"]])
def test_forecast_lists_read_like_any_sequence(engine, history):
    assert outcome(lambda: engine.forecast(history, 2, season=2)) == \
        outcome(lambda: engine.forecast(tuple(history), 2, season=2))


def test_a_list_changed_while_it_is_read(engine):
    values = [1.0, 2.0, 3.0, 4.0]

    class Shrinks:
        def __float__(self):
            values.clear()
            return 2.0

    values[1] = Shrinks()
    # The item's `__float__` empties the list: reading stops there (as a list iterator does),
    # without touching freed items.
    with pytest.raises(hxb.InvalidInputError, match="2 values for 4 timestamps"):
        engine.detect_anomalies([0, 1, 2, 3], values)
    assert values == []


def test_a_list_changed_when_an_item_is_freed(engine):
    values = [1.0, None, 3.0, 4.0]

    class Leaves:
        def __float__(self):
            values.pop(1)  # the reader now holds the last reference to this item
            return 2.0

        def __del__(self):
            values.clear()

    values[1] = Leaves()
    with pytest.raises(hxb.InvalidInputError, match="2 values for 4 timestamps"):
        engine.detect_anomalies([0, 1, 2, 3], values)
    assert values == []


def test_list_inputs_are_left_unchanged(engine):
    ts = [i * 60_000 for i in range(500)]
    vs = [math.sin(i / 10) for i in range(500)]
    before = (list(ts), list(vs))
    scores = engine.detect_anomalies(ts, vs)
    assert (ts, vs) == before
    assert type(scores) is list and all(type(s) is float for s in scores)
