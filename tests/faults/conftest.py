"""Fixtures of the fault suite: the stack of tests/e2e/stack.py, started
with the settings the faults need, and the failure hook that appends the
services' log tails to a failed test's report."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))

import stack as stackmod  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    s = stackmod.current
    if rep.failed and s is not None:
        s.failed = True
        rep.sections.append(("creance logs (tail)", s.log_tails()))
