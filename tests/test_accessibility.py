"""Every page checked by axe-core in Chromium against WCAG 2.1 A and AA (and axe's best
practices), signed in with real content and signed out, on a phone and a desktop, in the
light and the dark colours: contrast, names of controls, labels of fields, landmarks,
headings, lists, ARIA. Besides: nothing wider than its box (reflow), and the keyboard's
focus never hidden under a phone's bars.

axe-core is vendored in tests/axe/ (its version and licence there; docs/testing.md says why).
It is added to each page before the page's own scripts run, as the DevTools protocol adds
it, so the Content-Security-Policy stays as served and nothing is bypassed."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from service.domain import blocks, follows, profiles, tag_follows
from tests.browser import Browsing, Member, log_in
from tests.oauth import personal_token, user_token
from tests.test_browser import browsing, member  # noqa: F401  (fixtures)
from tests.test_uploads import encoded, photo_post, picture, release

AXE_SCRIPT = Path(__file__).parent / "axe" / "axe.min.js"
# What is checked: the WCAG 2.1 success criteria of levels A and AA that axe tests, 2.2's
# target size (24 x 24 px) and axe's best practices (one h1, headings in order, everything
# inside a landmark).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SCHEMES = ("light", "dark")
MISSING = "/p/999999999"
# A photo for the composer's previews.
COMPOSED = encoded(picture(120, 90), "PNG")
# Enough presses of Tab to pass the bottom of a phone's screen a few times.
TABS = 40


@dataclass(frozen=True)
class Checked:
    """A page as someone meets it: its address, and what is done on it before the check
    (such as opening a menu or sending a form with a mistake in it)."""

    name: str
    path: str
    then: Callable[[Page], Awaitable[None]] | None = None


async def _open_menu(page: Page) -> None:
    await page.locator(".profile-menu summary").click()
    await expect(page.locator(".menu-items")).to_be_visible()


async def _wrong_password(page: Page) -> None:
    await page.get_by_label("Username or email").fill("nobody")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator(".field-error, .notice-error").first).to_be_visible()


async def _bad_signup(page: Page) -> None:
    await page.get_by_label("Username").fill("x")
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.locator(".field-error").first).to_be_visible()


async def _compose_with_photos(page: Page) -> None:
    # The "New post" tab's link lands on the composer below the sticky top bar, its
    # question in sight rather than under the bar.
    label = page.locator('label[for="field-body"]')
    box = await label.bounding_box()
    assert box is not None
    on_top = await page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('label')?.htmlFor",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top == "field-body"
    # Two photos chosen, the first described and the second not (its warning showing).
    await page.get_by_label("Add photos").set_input_files(
        [
            {"name": f"photo-{number}.png", "mimeType": "image/png", "buffer": COMPOSED}
            for number in (1, 2)
        ]
    )
    await expect(page.locator(".photo-card img")).to_have_count(2)
    await page.get_by_label("Description of photo 1 (alt text)").fill("A grey gradient")
    await expect(page.locator(".alt-warning:visible")).to_have_count(1)


def _suggesting(typed: str) -> Callable[[Page], Awaitable[None]]:
    """The composer with the people to mention listed under it, one of them chosen."""

    async def then(page: Page) -> None:
        body = page.locator("#field-body")
        await body.press_sequentially("Hello @" + typed)
        listbox = page.get_by_role("listbox", name="People to mention")
        await expect(listbox.get_by_role("option").first).to_be_visible()
        await body.press("ArrowDown")
        await expect(listbox.locator("[aria-selected=true]")).to_have_count(1)

    return then


@dataclass
class World:
    me: Member
    friend: Member
    my_photo_post: int
    friend_photo_post: int
    held_post: int  # still processing: released when the test ends, as others count jobs


async def arrange(member, factory, db, tmp_path: Path) -> World:  # noqa: F811
    """A member with what a few days of use leave behind: a profile, a friend who follows
    back, text and photo posts (one still processing), comments, likes and so
    notifications, a personal token, a connected app, a block and a mute; the account is
    private, and someone asks to follow it."""
    me, friend = await member(), await member()
    await me.set_profile("Ada Park", "Lisbon", "Streets, harbours and the odd cat.")
    await friend.set_profile("Bo Lindqvist", "Malmo", "Film and bicycles.")
    await me.follow(friend)
    await friend.follow(me)
    await me.post("Morning walk along the river. The light was perfect. #river #晨光")
    my_photo = await photo_post(
        db, me.account.id, tmp_path, "The harbour at dawn", alts=("Boats moored in a harbour",)
    )
    held = await photo_post(
        db, me.account.id, tmp_path, "Still uploading", alts=("A cat",), held=True
    )
    friend_photo = await photo_post(
        db,
        friend.account.id,
        tmp_path,
        "Three from the weekend",
        alts=("A red bicycle", "A film camera", "A bridge in fog"),
    )
    await friend.post(f"Anyone know a good lab for developing 120 film, @{me.username}? #film")
    # A photo alone, its author gave it no description.
    await photo_post(db, friend.account.id, tmp_path, alts=("",))
    await factory.comment(friend.account, my_photo, "What a view! Which harbour is this?")
    await factory.comment(me.account, my_photo, "Cascais, just before sunrise.")
    await factory.like(friend.account, my_photo)
    await factory.like(me.account, friend_photo)
    await factory.comment(me.account, friend_photo, "Love the fog.")
    blocked, muted, asking = await factory.user(), await factory.user(), await factory.user()
    async with db.begin() as session:
        await blocks.block(session, me.account.id, blocked.id)
        await blocks.mute(session, me.account.id, muted.id, 3600)
        # A private account, with someone asking to follow it.
        await profiles.set_locked(session, me.account.id, True)
        await follows.follow(session, asking.id, me.account.id)
        # A followed tag: its page's Unfollow button, and the list in the settings.
        await tag_follows.follow(session, me.account.id, "film", "film")
    status, _ = await personal_token(me.http, "Backup script", ["read"])
    assert status == 201
    await user_token(me.http)
    return World(me, friend, my_photo, friend_photo, held)


def signed_in_pages(world: World) -> list[Checked]:
    me, friend = world.me.username, world.friend.username
    return [
        Checked("home", "/"),
        Checked("home, composing with photos", "/#compose", _compose_with_photos),
        Checked("home, suggesting people to mention", "/", _suggesting(friend[:4])),
        Checked("explore", "/explore"),
        Checked("search", "/search?q=user"),
        Checked("search with people, tags and posts", "/search?q=film"),
        Checked("search, posts only", "/search?q=river&type=posts"),
        Checked("own profile", f"/@{me}"),
        Checked("other's profile", f"/@{friend}"),
        Checked("other's profile, menu open", f"/@{friend}", _open_menu),
        Checked("own post with comments", f"/p/{world.my_photo_post}"),
        Checked("other's post", f"/p/{world.friend_photo_post}"),
        Checked("notifications", "/notifications"),
        Checked("tag page", "/tags/river"),
        Checked("followers", f"/@{me}/followers"),
        Checked("following", f"/@{me}/following"),
        Checked("settings: profile", "/settings/profile"),
        Checked("settings: password", "/settings/password"),
        Checked("settings: tokens", "/settings/tokens"),
        Checked("settings: apps", "/settings/apps"),
        Checked("settings: blocks", "/settings/blocks"),
        Checked("settings: mutes", "/settings/mutes"),
        Checked("settings: hashtags", "/settings/tags"),
        Checked("followed tag page", "/tags/film"),
        Checked("follow requests", "/follow-requests"),
        Checked("settings: reports", "/settings/reports"),
        Checked("report a post", f"/p/{world.friend_photo_post}/report"),
        Checked("not found", MISSING),
    ]


def signed_out_pages(world: World) -> list[Checked]:
    return [
        Checked("login", "/login"),
        Checked("login, wrong password", "/login", _wrong_password),
        Checked("sign-up", "/signup"),
        Checked("sign-up with mistakes", "/signup", _bad_signup),
        Checked("password forgot", "/password/forgot"),
        Checked("explore, signed out", "/explore"),
        Checked("search, signed out", "/search?q=user"),
        Checked("search for posts and tags, signed out", "/search?q=film"),
        Checked("post, signed out", f"/p/{world.my_photo_post}"),
        Checked("tag page, signed out", "/tags/film"),
        Checked("not found, signed out", MISSING),
    ]


async def violations(page: Page) -> list[dict[str, Any]]:
    return await page.evaluate(
        """async tags => (await axe.run(document, {
            runOnly: {type: 'tag', values: tags},
            resultTypes: ['violations'],
        })).violations.map(rule => ({
            id: rule.id,
            impact: rule.impact,
            help: rule.help,
            nodes: rule.nodes.map(node => ({
                target: node.target.join(' '),
                summary: node.failureSummary,
            })),
        }))""",
        AXE_TAGS,
    )


async def overflowing(page: Page) -> list[dict[str, Any]]:
    """WCAG 1.4.10 (Reflow), which axe leaves to people: the page never scrolls sideways,
    and no box's content sticks out of it (where it would cover its neighbours or be cut
    off), unless the box is one that scrolls or clips on purpose (a row of photos, a name
    cut short with an ellipsis)."""
    found = await page.evaluate(
        """() => {
            const named = element => element.tagName.toLowerCase()
                + (element.id ? '#' + element.id : '')
                + [...element.classList].map(name => '.' + name).join('')
                + `:nth-child(${[...element.parentElement.children].indexOf(element) + 1})`;
            const visible = element => getComputedStyle(element).overflowX === 'visible';
            const root = document.documentElement;
            if (root.scrollWidth > innerWidth) {
                return [{target: 'html', summary:
                    `The page is ${root.scrollWidth} px wide in a ${innerWidth} px window`}];
            }
            const wide = [...document.body.querySelectorAll('*')].filter(element => {
                if (!element.clientWidth || element.scrollWidth <= element.clientWidth + 1) {
                    return false;
                }
                let ancestor = element;
                while (ancestor && visible(ancestor)) ancestor = ancestor.parentElement;
                return !ancestor;
            });
            // The innermost: its ancestors are too wide only because it is.
            const found = [];
            for (const element of wide) {
                if (wide.some(other => other !== element && element.contains(other))) continue;
                const path = [];
                for (let node = element; node !== document.body; node = node.parentElement) {
                    path.unshift(named(node));
                }
                const sizes = `${element.scrollWidth} px wide in a ${element.clientWidth} px box`;
                found.push({target: path.join(' > '), summary: `Its content is ${sizes}`});
            }
            return found;
        }"""
    )
    if not found:
        return []
    return [{"id": "reflow", "impact": "serious", "help": "Content fits its box", "nodes": found}]


def report(found: dict[str, list[dict[str, Any]]]) -> str:
    """Each violation with what a developer needs to find and fix it."""
    lines = []
    for where, rules in found.items():
        lines.append(f"== {where}")
        for rule in rules:
            lines.append(f"  {rule['id']} ({rule['impact']}): {rule['help']}")
            for node in rule["nodes"]:
                summary = node["summary"].replace("\n", "\n        ")
                lines.append(f"    - {node['target']}\n        {summary}")
    return "\n".join(lines)


async def check(
    browsing: Browsing,  # noqa: F811
    pages: list[Checked],
    viewport: dict[str, int],
    pictures: Path,
    account=None,
) -> dict[str, list[dict[str, Any]]]:
    """The violations of each page in each colour scheme, by where they were found; a
    screenshot of each in each scheme goes to ``pictures``."""
    page = await browsing.page(viewport=viewport)
    await page.context.add_init_script(script=AXE_SCRIPT.read_text())
    if account is not None:
        await log_in(page, account)
    found = {}
    for checked in pages:
        await page.goto(checked.path)
        if checked.then is not None:
            await checked.then(page)
        where = f"{checked.name} ({checked.path})"
        if rules := await overflowing(page):
            found[where] = rules
        for scheme in SCHEMES:
            await page.emulate_media(color_scheme=scheme)
            dark = await page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
            assert dark == (scheme == "dark")
            if rules := await violations(page):
                found[f"{where}, {scheme}"] = rules
            slug = re.sub(r"[^a-z0-9]+", "-", checked.name.lower()).strip("-")
            await page.screenshot(path=pictures / f"page-{slug}-{viewport['width']}-{scheme}.png")
    return found


@pytest.mark.parametrize("width", WIDTHS)
async def test_every_page_passes_axe_in_light_and_dark(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    factory,
    db,
    tmp_path: Path,
    artifacts_dir: Path,
    width: str,
) -> None:
    world = await arrange(member, factory, db, tmp_path)
    viewport = WIDTHS[width]
    try:
        found = await check(
            browsing, signed_in_pages(world), viewport, artifacts_dir, world.me.account
        )
        found |= await check(browsing, signed_out_pages(world), viewport, artifacts_dir)
    finally:
        await release(db, world.held_post)
    assert not found, f"accessibility problems at {width} width:\n{report(found)}"


async def test_the_keyboard_focus_is_never_hidden_under_the_bars_of_a_phone(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
) -> None:
    """WCAG 2.4.11: tabbing down a long timeline and back up, the focused control is always
    in sight between the sticky top bar and the tab bar, never scrolled under either."""
    reader, author = await member(), await member()
    await reader.follow(author)
    await author.posts([f"Post {n}: " + "a few words " * 12 for n in range(8)])
    page = await browsing.page(viewport=WIDTHS["phone"])
    await log_in(page, reader.account)
    await expect(page.locator("article.post")).to_have_count(8)
    hidden = []
    for key in ["Tab"] * TABS + ["Shift+Tab"] * TABS:
        await page.keyboard.press(key)
        found = await page.evaluate(
            """() => {
                const focused = document.activeElement;
                // The bars' own links, and the skip link shown over the top bar on purpose.
                if (!focused.closest('main')) return null;
                const box = focused.getBoundingClientRect();
                const top = document.querySelector('.site-header').getBoundingClientRect();
                const bar = document.querySelector('.tab-bar').getBoundingClientRect();
                // Layout in fractions of a pixel: one pixel of slack.
                if (box.top >= top.bottom - 1 && box.bottom <= bar.top + 1) return null;
                return `${focused.outerHTML.slice(0, 80)} at ${box.top}-${box.bottom} px`;
            }"""
        )
        if found:
            hidden.append(f"after {key}: {found}")
    assert not hidden, "\n".join(hidden)
