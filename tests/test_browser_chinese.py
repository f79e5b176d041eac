"""Snapline in Simplified Chinese, as a Chinese speaker's browser shows it: every main page,
signed in and signed out, has no English word outside what people wrote (their names,
posts, comments, descriptions), in its text or in what screen readers say (labels, alt
text, placeholders); nothing is wider than the screen from 320 to 1280 px; and a picture of
each page at 390 and 1280 px goes to tests/artifacts/ (``zh-page-…``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect
from sqlalchemy import text

from service.settings import Settings
from tests.browser import Browsing, log_in
from tests.chinese import LATIN_WORD, SAME_IN_CHINESE
from tests.test_accessibility import (
    Checked,
    arrange,
    overflowing,
    report,
    signed_in_pages,
    signed_out_pages,
)
from tests.test_browser import browsing, member  # noqa: F401  (fixtures)
from tests.test_uploads import release

PICTURED = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
NARROWEST = {"width": 320, "height": 640}

# What people wrote or named: their words may be in any language.
_PEOPLES_WORDS = """
    SELECT username || ' ' || display_name || ' ' || location || ' ' || bio || ' ' || email
      FROM users
    UNION ALL SELECT body FROM posts
    UNION ALL SELECT body FROM comments
    UNION ALL SELECT alt FROM photos
    UNION ALL SELECT name FROM tags
    UNION ALL SELECT name FROM oauth_apps
    UNION ALL SELECT coalesce(name, '') FROM access_tokens
"""

# Everything a page says: its text, and what its controls and images say to screen readers
# (an element's aria-label, alt, title and placeholder).
_SAID = """() => {
    const said = [document.title, document.body.innerText];
    const names = ['aria-label', 'alt', 'title', 'placeholder'];
    for (const element of document.querySelectorAll(names.map(n => `[${n}]`).join(', '))) {
        for (const name of names) {
            const value = element.getAttribute(name);
            if (value) said.push(value);
        }
    }
    // Identifiers (a request's id on an error page) are no words.
    const codes = [...document.querySelectorAll('code')].map(code => code.innerText);
    return [said.join('\\n'), codes.join(' ')];
}"""


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    return base_settings.replace(app={"languages": ("en", "zh-Hans"), "default_language": "en"})


async def _peoples_words(db) -> set[str]:
    async with db() as session:
        written = (await session.execute(text(_PEOPLES_WORDS))).scalars().all()
    return {word.lower() for value in written for word in LATIN_WORD.findall(value or "")}


def _english(said: str, peoples: set[str]) -> list[str]:
    return sorted(
        {
            word
            for word in LATIN_WORD.findall(said)
            if word not in SAME_IN_CHINESE and word.lower() not in peoples
        }
    )


async def _visit(
    browsing: Browsing,  # noqa: F811
    pages: list[Checked],
    viewport: dict[str, int],
    peoples: set[str],
    pictures: Path | None,
    account=None,
) -> tuple[dict[str, list[str]], dict[str, list]]:
    """The English words each page shows, and what sticks out of its box, by page."""
    state = None
    if account is not None:
        # Logged in as the English tests do, then Chinese chosen in the footer, which keeps
        # the choice on the account.
        english_page = await browsing.page(viewport=viewport)
        await log_in(english_page, account)
        await english_page.locator("#language-choice").select_option("zh-Hans")
        await english_page.locator(".language-switch button").click()
        await expect(english_page.locator("html")).to_have_attribute("lang", "zh-Hans")
        state = await english_page.context.storage_state()
    page = await browsing.page(viewport=viewport, locale="zh-CN", storage_state=state)
    english, overflow = {}, {}
    for checked in pages:
        if checked.then is not None:
            continue  # the same page with a menu open or a form sent
        await page.goto(checked.path)
        assert await page.get_attribute("html", "lang") == "zh-Hans", checked.path
        said, codes = await page.evaluate(_SAID)
        if words := _english(said, peoples | set(LATIN_WORD.findall(codes.lower()))):
            english[f"{checked.name} ({checked.path})"] = words
        if found := await overflowing(page):
            overflow[f"{checked.name} ({checked.path})"] = found
        if pictures is not None:
            slug = re.sub(r"[^a-z0-9]+", "-", checked.name.lower()).strip("-")
            await page.screenshot(path=pictures / f"zh-page-{slug}-{viewport['width']}.png")
    return english, overflow


@pytest.mark.parametrize("width", [*PICTURED, "narrowest"])
async def test_every_page_is_in_chinese_and_fits_the_screen(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    factory,
    db,
    tmp_path: Path,
    artifacts_dir: Path,
    width: str,
) -> None:
    world = await arrange(member, factory, db, tmp_path)
    peoples = await _peoples_words(db)
    viewport = PICTURED.get(width, NARROWEST)
    pictures = artifacts_dir if width in PICTURED else None
    try:
        english, overflow = await _visit(
            browsing, signed_in_pages(world), viewport, peoples, pictures, world.me.account
        )
        out_english, out_overflow = await _visit(
            browsing, signed_out_pages(world), viewport, peoples, pictures
        )
    finally:
        await release(db, world.held_post)
    english |= out_english
    overflow |= out_overflow
    assert not english, "English words on Chinese pages:\n" + "\n".join(
        f"{where}: {', '.join(words)}" for where, words in english.items()
    )
    assert not overflow, f"wider than their box at {width}:\n{report(overflow)}"
