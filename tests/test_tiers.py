"""Every test is in exactly one tier, so `make test-unit` and `make test-fast` run what they
promise and `make test` runs everything (docs/testing.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import HTTP_FIXTURES, MODULE_TIERS, TIERS

pytest_plugins = ("pytester",)


def tiers_of(item: pytest.Item) -> list[str]:
    return [marker.name for marker in item.iter_markers() if marker.name in TIERS]


def test_every_collected_test_has_exactly_one_tier(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    assert request.node in items
    untiered = {item.nodeid: tiers_of(item) for item in items if len(tiers_of(item)) != 1}
    assert untiered == {}


def test_unit_tests_need_no_database_and_no_app(request: pytest.FixtureRequest) -> None:
    needing = [
        item.nodeid
        for item in request.session.items
        if tiers_of(item) == ["unit"] and set(item.fixturenames) & HTTP_FIXTURES
    ]
    assert needing == []


def test_every_module_given_a_tier_exists() -> None:
    here = Path(__file__).parent
    assert [name for name in MODULE_TIERS if not (here / f"{name}.py").exists()] == []


CONFTEST = "from tests.conftest import pytest_collection_modifyitems, pytest_configure\n"
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def test_a_test_with_two_tiers_stops_the_run(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(
        test_twice="""
        import pytest

        pytestmark = pytest.mark.unit

        @pytest.mark.http
        def test_both():
            pass
        """
    )
    result = pytester.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_both is marked with more than one tier*"])


def test_tiers_follow_marks_fixtures_and_select_with_m(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(
        test_mixed="""
        import pytest

        @pytest.fixture
        def browsing():
            pass

        def test_plain():
            pass

        def test_with_app(aiohttp_client):
            pass

        def test_in_chromium(browsing):
            pass

        @pytest.mark.deploy
        def test_serving():
            pass
        """
    )
    chosen = {}
    for tier in TIERS:
        result = pytester.runpytest_inprocess("--collect-only", "-q", "-m", tier)
        chosen[tier] = sorted(
            line.split("::")[1] for line in result.outlines if line.startswith("test_mixed")
        )
    assert chosen == {
        "unit": ["test_plain"],
        "http": ["test_with_app"],
        "browser": ["test_in_chromium"],
        "deploy": ["test_serving"],
    }
