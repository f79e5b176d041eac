"""How moments are written, and pieces of markup pages keep per process: a moment's <time>
tag and constant parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import jinja2

from service import i18n
from service.app import TEMPLATES_DIR
from service.web import times
from service.web.templating import ConstantParts


def test_a_time_element_is_the_same_however_the_moment_is_written():
    moment = datetime(2026, 11, 21, 8, 18, 58, 123456, tzinfo=UTC)
    elsewhere = moment.astimezone(timezone(timedelta(hours=8)))
    now = moment + timedelta(minutes=3)
    expected = (
        '<time datetime="2026-11-21T08:18:58Z" title="2026-11-21 08:18 UTC" data-relative>'
        "3 min ago</time>"
    )
    assert times.time_element(moment, now) == expected
    assert times.time_element(elsewhere, now) == expected  # remembered or not
    assert times.time_element(moment, now + timedelta(days=1)).endswith(">1 d ago</time>")


def test_api_times_are_utc_to_the_millisecond_with_a_z():
    moment = datetime(2026, 11, 21, 8, 18, 58, 123456, tzinfo=UTC)
    assert times.iso_millis(moment) == "2026-11-21T08:18:58.123Z"
    assert times.iso_millis(moment.astimezone(timezone(timedelta(hours=-5)))) == (
        "2026-11-21T08:18:58.123Z"
    )
    assert times.iso_millis(moment.replace(microsecond=0)) == "2026-11-21T08:18:58.000Z"
    assert times.iso_millis(moment.replace(microsecond=999)) == "2026-11-21T08:18:58.000Z"
    assert times.exact_time(moment.astimezone(timezone(timedelta(hours=8)))) == (
        "2026-11-21 08:18 UTC"
    )


def test_remembered_time_tags_are_bounded():
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for seconds in range(times.REMEMBERED_MOMENTS + 50):
        moment = start + timedelta(seconds=seconds)
        tag = times.time_element(moment, moment)
        assert f'datetime="{moment:%Y-%m-%dT%H:%M:%S}Z"' in tag
    assert len(times._time_tags) <= times.REMEMBERED_MOMENTS


def test_constant_parts_render_once_per_set_of_values():
    loader = jinja2.DictLoader({"part.html": "{{ counter.bump() }}:{{ 'bad' if invalid }}"})
    environment = jinja2.Environment(loader=loader, autoescape=True)

    class Counter:
        renders = 0

        def bump(self) -> int:
            self.renders += 1
            return self.renders

    counter = Counter()
    environment.globals["counter"] = counter
    remembered = ConstantParts(environment, remember=True)
    assert remembered("part.html", invalid=False) == "1:"
    assert remembered("part.html", invalid=False) == "1:"
    assert remembered("part.html", invalid=True) == "2:bad"
    assert counter.renders == 2
    fresh = ConstantParts(environment, remember=False)  # development: templates change
    assert fresh("part.html", invalid=False) == "3:"


def test_the_composers_photo_fields_point_at_the_error_only_when_there_is_one():
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Marked for translation as the pages' templates are (web/templating.py).
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    parts = ConstantParts(environment, remember=True)
    valid, invalid = (
        parts("_compose_photos.html", invalid=False),
        parts("_compose_photos.html", invalid=True),
    )
    for markup in (valid, invalid):
        # Without a script: one file input for all the photos, and an alt field for each.
        assert markup.count('type="file"') == 1
        assert 'name="photos" type="file" multiple' in markup
        assert markup.count('name="alt"') == 4
    assert "error-photos" not in valid
    assert invalid.count('aria-describedby="hint-photos error-photos"') == 1
