"""Suggestions of people to mention in Chromium: typing "@ali" in the composer lists alice
under it (the person followed first), the arrows choose, Enter or Tab puts "@alice " in
place of what was typed, Escape closes the list and leaves the text alone; a blocked
account is never suggested; the comment form suggests too, a click puts the person in, and
the comment sent links them. Without JavaScript the textarea is a plain one."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser import Browsing, log_in
from tests.test_browser import browsing, member  # noqa: F401  (fixtures)

SUGGESTIONS = "/api/snapline/v1/people/suggestions"


def answer_for(typed: str):
    """The suggestions API's answer to exactly ``typed``."""
    return lambda response: SUGGESTIONS in response.url and response.url.endswith(f"q={typed}")


async def handles(page: Page) -> list[str]:
    return await page.locator("[role=listbox] [role=option] .post-handle").all_text_contents()


async def test_the_composer_suggests_people_as_a_username_is_typed(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    factory,
    db,
):
    writer = await member()
    tag = factory.unique("b")[-6:].lower()
    alice = await factory.user(username=f"alice_{tag}")
    blocked = await factory.user(username=f"alina_{tag}")
    shown = await factory.user(username=f"alina_{tag}_2")
    await writer.follow(alice)
    response = await writer.http.post(
        f"/api/snapline/v1/users/{blocked.username}/block",
        headers={"X-CSRF-Token": await writer.token()},
    )
    assert response.status == 200
    page = await browsing.page()
    await log_in(page, writer.account)
    body = page.get_by_label("What's new")
    listbox = page.get_by_role("listbox", name="People to mention")
    status = page.locator("#field-body-mentions-status")
    await expect(body).to_have_attribute("aria-autocomplete", "list")
    await expect(body).to_have_attribute("aria-controls", "field-body-mentions")

    # "@ali": alice, followed, first; nothing chosen yet.
    await body.press_sequentially("Hello @ali")
    await expect(listbox).to_be_visible()
    assert (await handles(page))[0] == f"@{alice.username}"
    await expect(status).to_contain_text("to mention")
    await expect(listbox.locator("[aria-selected=true]")).to_have_count(0)
    assert await body.get_attribute("aria-activedescendant") is None
    # Down picks her, Enter puts her in, the list closes.
    await body.press("ArrowDown")
    first = listbox.get_by_role("option").first
    await expect(first).to_have_attribute("aria-selected", "true")
    await expect(body).to_have_attribute("aria-activedescendant", await first.get_attribute("id"))
    await body.press("Enter")
    await expect(body).to_have_value(f"Hello @{alice.username} ")
    await expect(listbox).to_be_hidden()
    await expect(status).to_have_text("")

    # Escape closes the list and changes nothing; typing on in that name keeps it closed.
    await body.press_sequentially("and @ali")
    await expect(listbox).to_be_visible()
    await body.press("Escape")
    await expect(listbox).to_be_hidden()
    await expect(body).to_have_value(f"Hello @{alice.username} and @ali")
    await body.press_sequentially("c")
    await page.wait_for_timeout(400)
    await expect(listbox).to_be_hidden()
    # Without an arrow's choice, Enter is a new line; in a new name the list comes back,
    # and Tab puts the chosen one in.
    await body.press("Enter")
    await body.press_sequentially("@alice_")
    await expect(listbox).to_be_visible()
    await body.press("ArrowDown")
    await body.press("Tab")
    await expect(body).to_have_value(f"Hello @{alice.username} and @alic\n@{alice.username} ")
    await expect(body).to_be_focused()

    # Not after a word or inside an address: nothing is asked.
    asked: list[str] = []
    page.on(
        "request", lambda request: asked.append(request.url) if SUGGESTIONS in request.url else None
    )
    await body.press_sequentially(" mail@ali https://example.com/@ali")
    await page.wait_for_timeout(400)
    assert asked == []
    await expect(listbox).to_be_hidden()

    # The blocked account is not suggested, though its username is typed whole.
    await body.fill("")
    async with page.expect_response(answer_for(blocked.username)) as answered:
        await body.press_sequentially(f"@{blocked.username}")
    found = [person["username"] for person in (await (await answered.value).json())["items"]]
    assert shown.username in found and blocked.username not in found
    await expect(listbox).to_be_visible()
    suggested = await handles(page)
    assert f"@{shown.username}" in suggested and f"@{blocked.username}" not in suggested


async def test_the_comment_form_suggests_and_a_click_puts_the_person_in(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    factory,
):
    writer, author = await member(), await member()
    tag = factory.unique("c")[-6:].lower()
    alice = await factory.user(username=f"alice_{tag}")
    await writer.follow(alice)
    post = await author.post("A quiet morning")
    page = await browsing.page()
    await log_in(page, writer.account)
    await page.goto(f"/p/{post['id']}")
    comment = page.get_by_label("Add a comment")
    listbox = page.get_by_role("listbox", name="People to mention")
    await comment.press_sequentially("Look, @ali")
    await expect(listbox).to_be_visible()
    await listbox.get_by_role("option").filter(has_text=f"@{alice.username}").click()
    await expect(comment).to_have_value(f"Look, @{alice.username} ")
    await expect(listbox).to_be_hidden()
    await expect(comment).to_be_focused()
    await page.get_by_role("button", name="Comment").click()
    link = page.locator(".comment-body a", has_text=f"@{alice.username}")
    await expect(link).to_have_attribute("href", f"/@{alice.username}")


async def test_without_javascript_the_textarea_is_plain(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
):
    writer = await member()
    page = await browsing.page(java_script_enabled=False)
    await log_in(page, writer.account)
    body = page.get_by_label("What's new")
    await body.fill("Hello @user")
    assert await body.get_attribute("aria-autocomplete") is None
    await expect(page.locator(".mentions")).to_be_hidden()
