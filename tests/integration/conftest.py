"""tests/integration/conftest.py - fixtures shared by every integration suite.

services  the real services (PostgreSQL, Redis, Kafka, Radicale) as a
          tests/harness/svc.py `Services` object; `services.env` holds the
          CALSYNC_* settings. Under `make test` they were started once and
          CALSYNC_TEST_RUN_DIR names their run directory; run alone
          (`pytest tests/integration/x.py`), the session starts its own in a
          temporary directory and stops them at the end. Either way the
          settings are also put into os.environ for the programs under test.
bin_dir   where the calsync programs are: CALSYNC_BIN_DIR or <repo>/build.
"""

import atexit
import os
import pathlib
import shutil
import sys
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "harness"))

import svc  # noqa: E402  (tests/harness/svc.py)


def _own_services():
    """Start a private set of services; stopped at session end (or at exit)."""
    run_dir = tempfile.mkdtemp(prefix="calsync-test-")
    services = svc.Services(run_dir)
    atexit.register(services.stop)
    try:
        services.start()
    except svc.ServiceError as e:
        services.stop()
        pytest.fail(e.report(), pytrace=False)
    return services


@pytest.fixture(scope="session")
def services(request):
    shared_dir = os.environ.get("CALSYNC_TEST_RUN_DIR")
    services = svc.Services(shared_dir) if shared_dir else _own_services()
    if not services.env:
        pytest.fail(f"no env.json in {services.run_dir}: run tests/harness/svc.py start",
                    pytrace=False)
    saved = dict(os.environ)
    os.environ.update(services.env)
    yield services
    os.environ.clear()
    os.environ.update(saved)
    if not shared_dir:
        services.stop()
        atexit.unregister(services.stop)
        if request.session.testsfailed == 0:
            shutil.rmtree(services.run_dir, ignore_errors=True)
        else:
            print(f"\nservice logs kept in {services.run_dir}")


@pytest.fixture(scope="session")
def bin_dir():
    return pathlib.Path(os.environ.get("CALSYNC_BIN_DIR") or REPO / "build")
