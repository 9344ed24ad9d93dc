"""Fixtures of the end-to-end suite.

`stack` (session): the whole stack started once for real (stack.py), stopped
at the end whatever happened. `tenant` (function): a fresh tenant with its
API token, so that tests never see each other's data.
"""

import pytest

import stack as stackmod


@pytest.fixture(scope="session")
def stack(request):
    s = stackmod.Stack()
    # Registered before starting: a failure half-way still stops what started.
    request.addfinalizer(s.close)
    s.open()
    return s


@pytest.fixture(autouse=True)
def _stack_running(request):
    """Each test starts with every service up, even if an earlier test left
    one stopped or crashed."""
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").ensure_running()
    yield


@pytest.fixture
def tenant(stack):
    return stack.make_tenant()


@pytest.fixture
def other_tenant(stack):
    return stack.make_tenant("o")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    s = stackmod.current
    if rep.failed and s is not None:
        s.failed = True
        rep.sections.append(("creance logs (tail)", s.log_tails()))
