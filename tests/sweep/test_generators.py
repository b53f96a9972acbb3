"""Value generators against hand-computed values (the numbers a person would type)."""

import pytest

from sweepgui.sweep import VariableSpec, arange, linspace, logspace


def test_linspace_includes_both_ends():
    assert linspace(283.15, 353.15, 8) == [283.15, 293.15, 303.15, 313.15, 323.15, 333.15,
                                           343.15, 353.15]
    assert linspace(0.3, 0.6, 4) == [0.3, 0.4, 0.5, 0.6]  # not 0.39999999999999997
    assert linspace(1.0, 2.0, 1) == [1.0]
    assert linspace(10.0, 0.0, 3) == [10.0, 5.0, 0.0]


def test_logspace_is_powers_of_ten():
    assert logspace(5, 7, 5) == [1e5, 10 ** 5.5, 1e6, 10 ** 6.5, 1e7]
    assert logspace(5, 7, 3) == [100000.0, 1000000.0, 10000000.0]
    assert logspace(-3, -1, 3) == [0.001, 0.01, 0.1]


def test_arange_excludes_stop_and_gives_clean_decimals():
    assert arange(0.3, 0.6, 0.1) == [0.3, 0.4, 0.5]
    assert arange(0.0, 1.0, 0.25) == [0.0, 0.25, 0.5, 0.75]
    assert arange(0.1, 0.4, 0.1) == [0.1, 0.2, 0.3]  # 0.1 + 0.2 would be 0.30000000000000004
    assert arange(1.0, 1.05, 0.01) == [1.0, 1.01, 1.02, 1.03, 1.04]
    # a step written with limited precision does not add a value that is stop but for rounding
    assert arange(0.0, 1.0, 0.3333333333333333) == [0.0, 0.3333333333333333, 0.6666666666666666]
    assert arange(2.0, 1.0, 0.5) == []


def test_arange_of_integers_gives_integers():
    values = arange(10, 50, 10)
    assert values == [10, 20, 30, 40] and all(type(v) is int for v in values)
    assert all(type(v) is float for v in arange(10, 50, 10.0))


@pytest.mark.parametrize("raw, words", [
    ({"linspace": [1, 2, 0]}, "at least 1"),
    ({"logspace": [1, 2, 2.5]}, "whole number"),
    ({"arange": [1, 2, 0]}, "positive"),
    ({"arange": [1, 2, -0.1]}, "positive"),
])
def test_generators_refuse_nonsense(raw, words):
    spec = VariableSpec.from_toml(raw)
    with pytest.raises(ValueError, match=words):
        spec.expand()


@pytest.mark.parametrize("raw, words", [
    ({"linspace": [1, 2]}, "three numbers"),
    ({"lnspace": [1, 2, 3]}, "did you mean 'linspace'"),
    ({"linspace": [1, 2, 3], "arange": [1, 2, 1]}, "exactly one generator"),
    ({}, "exactly one generator"),
    (998.0, "single value belongs in \\[fixed\\]"),
    ({"arange": [1, "2", 1]}, "three finite numbers"),
])
def test_generator_tables_must_be_well_formed(raw, words):
    with pytest.raises(ValueError, match=words):
        VariableSpec.from_toml(raw)


def test_count_without_expanding():
    assert VariableSpec.from_toml({"linspace": [0, 1, 10**9]}).count() == 10**9
    assert VariableSpec.from_toml({"arange": [0.3, 0.6, 0.1]}).count() == 3
    assert VariableSpec.from_values([1, 2]).count() == 2
