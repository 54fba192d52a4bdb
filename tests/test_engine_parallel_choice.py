"""When the engine forks a second process (engine/parallel.py `worth_two`): only for a large
ledger, only with a second core free, and as AGREEMENTDSL_PROCESSES says when it is set.
That the two processes give the same results as one is tested in test_engine_run.py."""

from __future__ import annotations

import os

import pytest

from agreementdsl.engine import parallel
from agreementdsl.engine.parallel import MIN_BYTES, worth_two

BIG = 10 * MIN_BYTES


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Two cores and no override unless a test sets them."""
    monkeypatch.delenv(parallel.PROCESSES, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    return monkeypatch


def _load(m: pytest.MonkeyPatch, cores: int, load: float) -> None:
    m.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)))
    m.setattr(os, "getloadavg", lambda: (load, load, load))


@pytest.mark.parametrize("load", [0.0, 0.5, 1.0])
def test_a_large_ledger_with_a_core_free_is_read_by_two(
    machine: pytest.MonkeyPatch, load: float
) -> None:
    _load(machine, cores=2, load=load)
    assert worth_two(BIG, MIN_BYTES)


def test_a_small_ledger_is_read_by_one(machine: pytest.MonkeyPatch) -> None:
    _load(machine, cores=2, load=0.0)
    assert not worth_two(MIN_BYTES - 1, MIN_BYTES)


@pytest.mark.parametrize("load", [1.01, 1.5, 2.0, 7.5])
def test_a_busy_machine_reads_with_one(machine: pytest.MonkeyPatch, load: float) -> None:
    _load(machine, cores=2, load=load)
    assert not worth_two(BIG, MIN_BYTES)


def test_free_cores_counts_the_cores_this_process_may_use(machine: pytest.MonkeyPatch) -> None:
    _load(machine, cores=1, load=0.0)  # pinned to one core of a larger machine
    assert parallel.free_cores() == 0.0
    assert not worth_two(BIG, MIN_BYTES)
    _load(machine, cores=8, load=3.0)
    assert parallel.free_cores() == 5.0
    assert worth_two(BIG, MIN_BYTES)
    _load(machine, cores=8, load=12.0)
    assert parallel.free_cores() == 0.0
    assert not worth_two(BIG, MIN_BYTES)


def test_one_core_machine_reads_with_one(machine: pytest.MonkeyPatch) -> None:
    machine.setattr(os, "cpu_count", lambda: 1)
    _load(machine, cores=1, load=0.0)
    assert not worth_two(BIG, MIN_BYTES)


@pytest.mark.parametrize(("value", "expected"), [("1", False), ("2", True), (" 2 ", True)])
def test_the_environment_overrides_the_choice(
    machine: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    _load(machine, cores=2, load=9.0 if expected else 0.0)
    machine.setenv(parallel.PROCESSES, value)
    assert worth_two(0 if expected else BIG, MIN_BYTES) is expected


@pytest.mark.parametrize("value", ["", "0", "3", "two"])
def test_other_values_leave_the_choice_to_the_engine(
    machine: pytest.MonkeyPatch, value: str
) -> None:
    _load(machine, cores=2, load=0.0)
    machine.setenv(parallel.PROCESSES, value)
    assert worth_two(BIG, MIN_BYTES)
    assert not worth_two(0, MIN_BYTES)
