"""The photo composer in Chromium: several photos from one file input, dropped or pasted;
previews put in order, removed and described (by mouse and by keyboard alone), with a
warning for a photo left undescribed; files the server would refuse are refused before
anything is sent; the upload shows its progress and lands on the new post, whose photos
are published in the chosen order with their alt texts. A refusal by the server is shown
in the form with everything kept, and without JavaScript the same form still posts."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, Request, Route, expect
from sqlalchemy import text

from tests.browser import WAIT_MS, Browsing, log_in
from tests.test_browser import browsing  # noqa: F401  (fixture)
from tests.test_uploads import encoded, picture, wait_for_status

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
NO_DESCRIPTION = "No description: people using screen readers will not know what this photo shows."
# An upload, rendered and published, on a machine shared with other work.
POST_MS = 30_000

# Each value the progress bar shows while it is in sight, kept across the navigation to
# the new post.
RECORD_PROGRESS = """() => {
    const progress = document.querySelector('progress');
    const box = progress.closest('[data-upload-progress]');
    sessionStorage.setItem('progress', '[]');
    const record = () => {
        if (box.hidden) return;
        const seen = JSON.parse(sessionStorage.getItem('progress'));
        seen.push(progress.value);
        sessionStorage.setItem('progress', JSON.stringify(seen));
    };
    new MutationObserver(record).observe(progress, {attributes: true});
    new MutationObserver(record).observe(box, {attributes: true});
}"""


def write_photo(path: Path, width: int, height: int, kind: str) -> Path:
    """A photo whose size tells it apart from the others once it is stored."""
    path.write_bytes(encoded(picture(width, height), kind))
    return path


async def file_names(page: Page) -> list[str]:
    return await page.locator(".photo-card [data-file-name]").all_text_contents()


async def stored_photos(db, post_id: int) -> list[tuple[str, int, int]]:
    """The post's photos in their order: alt text and stored size."""
    async with db() as session:
        rows = await session.execute(
            text(
                "SELECT alt, width, height FROM photos WHERE post_id = :post_id ORDER BY position"
            ),
            {"post_id": post_id},
        )
        return [(row.alt, row.width, row.height) for row in rows]


def posts_sent(page: Page) -> list[Request]:
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)
    return sent


@pytest.mark.parametrize("width", WIDTHS)
async def test_photos_are_chosen_ordered_described_checked_and_posted(
    browsing: Browsing,  # noqa: F811
    factory,
    db,
    tmp_path: Path,
    artifacts_dir: Path,
    width: str,
):
    account = await factory.user()
    field = write_photo(tmp_path / "field.jpg", 600, 400, "JPEG")
    door = write_photo(tmp_path / "door.png", 400, 600, "PNG")
    lake = write_photo(tmp_path / "lake.webp", 500, 300, "WEBP")
    sun = write_photo(tmp_path / "sun.gif", 300, 300, "GIF")
    extra = write_photo(tmp_path / "extra.jpg", 320, 320, "JPEG")
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(b"\xff\xd8\xff" + bytes(20 * 1024 * 1024))
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    page = await browsing.page(viewport=WIDTHS[width])
    await log_in(page, account)
    sent = posts_sent(page)
    status = page.locator(".compose-form [role=status]")
    refusal = page.locator(".compose-form [data-compose-error]")

    # Three at once with the one input, previewed in the order chosen.
    await page.get_by_label("Add photos").set_input_files([str(field), str(door), str(lake)])
    cards = page.locator(".photo-card")
    await expect(cards).to_have_count(3)
    assert await file_names(page) == ["field.jpg", "door.png", "lake.webp"]
    for number in range(3):
        await expect(cards.nth(number).locator("img.photo-preview")).to_have_js_property(
            "complete", True
        )
    await expect(status).to_have_text("3 photos added; 3 photos in the post.")
    # Too large and not a photo: refused at once, and the photo among them taken.
    await page.get_by_label("Add photos").set_input_files([str(huge), str(notes), str(sun)])
    await expect(refusal).to_be_visible()
    await expect(refusal).to_contain_text("\u201chuge.jpg\u201d is larger than 20 MB.")
    await expect(refusal).to_contain_text(
        "\u201cnotes.txt\u201d is not a JPEG, PNG, WebP or GIF photo."
    )
    await expect(cards).to_have_count(4)
    # A fifth photo does not fit.
    await page.get_by_label("Add photos").set_input_files([str(extra)])
    await expect(refusal).to_have_text(
        "A post holds at most 4 photos: \u201cextra.jpg\u201d was not added."
    )
    assert await file_names(page) == ["field.jpg", "door.png", "lake.webp", "sun.gif"]
    assert sent == []  # nothing was sent for any of it

    # Reordered and one removed by their buttons, named by the photo they act on.
    await expect(page.get_by_role("button", name="Move photo 1 left")).to_be_disabled()
    await expect(page.get_by_role("button", name="Move photo 4 right")).to_be_disabled()
    await page.get_by_role("button", name="Move photo 2 left").click()
    assert await file_names(page) == ["door.png", "field.jpg", "lake.webp", "sun.gif"]
    await expect(status).to_have_text("Photo moved to position 1 of 4.")
    await page.get_by_role("button", name="Remove photo 3").click()
    assert await file_names(page) == ["door.png", "field.jpg", "sun.gif"]
    await expect(status).to_have_text("Photo removed; 3 photos in the post.")
    await expect(refusal).to_be_hidden()

    # Each photo warns until it is described; the third is left without.
    warnings = page.get_by_text(NO_DESCRIPTION).locator("visible=true")
    await expect(warnings).to_have_count(3)
    await page.get_by_label("Description of photo 1 (alt text)").fill("A red door")
    await page.get_by_label("Description of photo 2 (alt text)").fill("A field of wheat")
    await expect(warnings).to_have_count(1)
    await expect(cards.nth(2).get_by_text(NO_DESCRIPTION)).to_be_visible()
    undescribed = page.get_by_label("Description of photo 3 (alt text)")
    await expect(undescribed).to_have_accessible_description(NO_DESCRIPTION)
    await page.get_by_label("What's new").fill("Three from the walk")
    await page.get_by_label("Who can see it").select_option("followers")
    await page.screenshot(path=artifacts_dir / f"composer-{width}.png", full_page=True)

    # Held a moment on its way, the upload shows its progress bar, named.
    held: list[Route] = []
    arrived = asyncio.Event()

    async def hold(route: Route) -> None:
        held.append(route)
        arrived.set()

    await page.route("**/posts", hold)
    await page.evaluate(RECORD_PROGRESS)
    await page.get_by_role("button", name="Post", exact=True).click()
    progress = page.get_by_role("progressbar", name="Uploading your post")
    await expect(progress).to_be_visible()
    await expect(status).to_have_text("Uploading 3 photos.")
    await expect(page.get_by_role("button", name="Post", exact=True)).to_be_disabled()
    await page.screenshot(path=artifacts_dir / f"composer-uploading-{width}.png")
    await asyncio.wait_for(arrived.wait(), WAIT_MS / 1000)
    await held[0].continue_()
    await page.unroute("**/posts")

    await page.wait_for_url(re.compile(r"/p/\d+$"), timeout=POST_MS)
    post_id = int(page.url.rsplit("/", 1)[1])
    # The new post's page: its photos processing, or already done on a quick machine.
    await expect(page.locator(f"#post-{post_id}")).to_be_visible()
    seen = json.loads(await page.evaluate("sessionStorage.getItem('progress')"))
    # It starts empty and fills as the photos are sent.
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen), seen
    await wait_for_status(db, post_id)
    # Sent by the script with the audience chosen.
    async with db() as session:
        audience = await session.scalar(
            text("SELECT audience FROM posts WHERE id = :id"), {"id": post_id}
        )
    assert audience == "followers"
    assert await stored_photos(db, post_id) == [
        ("A red door", 400, 600),
        ("A field of wheat", 600, 400),
        ("", 300, 300),
    ]
    await page.reload()
    full = page.locator("img.photo-full")
    await expect(full).to_have_count(3)
    await expect(full.nth(0)).to_have_attribute("alt", "A red door")
    await expect(full.nth(1)).to_have_attribute("alt", "A field of wheat")
    await expect(page.locator(".post-body")).to_have_text("Three from the walk")


async def focused(page: Page) -> str:
    """What a screen reader would name the focused control: its text, or its id."""
    return await page.evaluate(
        "() => document.activeElement.id || document.activeElement.textContent.trim()"
    )


async def test_photos_are_ordered_and_removed_with_the_keyboard_alone(
    browsing: Browsing,  # noqa: F811
    factory,
    tmp_path: Path,
):
    account = await factory.user()
    photos = [write_photo(tmp_path / f"{name}.png", 200, 200, "PNG") for name in "abc"]
    page = await browsing.page(viewport=WIDTHS["phone"])
    await log_in(page, account)
    await page.get_by_label("What's new").focus()
    # The chooser is the next stop after the text, and shows it has the focus.
    await page.keyboard.press("Tab")
    assert await focused(page) == "field-photos"
    outline = await page.locator(".photo-picker").evaluate(
        "label => getComputedStyle(label).outlineStyle"
    )
    assert outline == "solid"
    await page.get_by_label("Add photos").set_input_files([str(photo) for photo in photos])
    await expect(page.locator(".photo-card")).to_have_count(3)

    # From the chooser: photo 1's "Move left" is disabled, so Tab reaches "Move right".
    await page.keyboard.press("Tab")
    assert await focused(page) == "Move photo 1 right"
    await page.keyboard.press("Enter")
    assert await file_names(page) == ["b.png", "a.png", "c.png"]
    # The focus moved with the photo.
    assert await focused(page) == "Move photo 2 right"
    await page.keyboard.press("Space")
    assert await file_names(page) == ["b.png", "c.png", "a.png"]
    # At the end it can go no further right: the focus is on its way back.
    assert await focused(page) == "Move photo 3 left"
    await expect(page.locator("[data-compose-status]")).to_have_text(
        "Photo moved to position 3 of 3."
    )
    await page.keyboard.press("Tab")
    assert await focused(page) == "Remove photo 3"
    await page.keyboard.press("Enter")
    assert await file_names(page) == ["b.png", "c.png"]
    # The focus goes to the photo before it, the one now last.
    assert await focused(page) == "Remove photo 2"
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Enter")  # "Move photo 2 left"
    assert await file_names(page) == ["c.png", "b.png"]
    assert await focused(page) == "Move photo 1 right"
    # Its description is reached by Tab, after its buttons.
    for _ in range(2):
        await page.keyboard.press("Tab")
    await page.keyboard.type("The letter c")
    await expect(page.get_by_label("Description of photo 1 (alt text)")).to_have_value(
        "The letter c"
    )


PNG_1PX = base64.b64encode(encoded(picture(40, 30), "PNG")).decode()
# Drops or pastes a PNG on the element, as a person's drag or paste does.
DROP = """([selector, data, kind]) => {
    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], kind + '.png', {type: 'image/png'}));
    const target = document.querySelector(selector);
    if (kind === 'pasted') {
        target.dispatchEvent(new ClipboardEvent('paste',
            {clipboardData: transfer, bubbles: true, cancelable: true}));
    } else {
        for (const type of ['dragenter', 'dragover', 'drop']) {
            target.dispatchEvent(new DragEvent(type,
                {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
    }
}"""


async def test_photos_dropped_or_pasted_join_and_a_refusal_by_the_server_keeps_the_form(
    browsing: Browsing,  # noqa: F811
    factory,
    db,
    tmp_path: Path,
):
    account = await factory.user()
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"this is not an image" * 10)
    page = await browsing.page(viewport=WIDTHS["desktop"])
    await log_in(page, account)
    await page.get_by_label("What's new").fill("Dropped and pasted")
    await page.evaluate(DROP, [".compose-form", PNG_1PX, "dropped"])
    await page.evaluate(DROP, ["#field-body", PNG_1PX, "pasted"])
    assert await file_names(page) == ["dropped.png", "pasted.png"]
    await expect(page.get_by_label("What's new")).to_have_value("Dropped and pasted")

    # A file that claims to be a PNG passes the browser's check, and the server refuses it:
    # its message is shown in the form, nothing is lost, and the page stays.
    await page.get_by_label("Add photos").set_input_files([str(fake)])
    await page.get_by_label("Description of photo 1 (alt text)").fill("Dropped")
    await page.get_by_role("button", name="Post", exact=True).click()
    refusal = page.locator(".compose-form [data-compose-error]")
    await expect(refusal).to_be_visible(timeout=POST_MS)
    message = await refusal.text_content()
    assert message and "not accepted" not in message, message
    assert urlpath(page.url) == "/"
    assert await file_names(page) == ["dropped.png", "pasted.png", "fake.png"]
    await expect(page.get_by_label("What's new")).to_have_value("Dropped and pasted")
    await expect(page.get_by_label("Description of photo 1 (alt text)")).to_have_value("Dropped")
    await expect(page.get_by_role("button", name="Post", exact=True)).to_be_enabled()
    await expect(page.get_by_role("progressbar")).to_be_hidden()

    # Without it, the post goes through.
    await page.get_by_role("button", name="Remove photo 3").click()
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(re.compile(r"/p/\d+$"), timeout=POST_MS)
    post_id = int(page.url.rsplit("/", 1)[1])
    await wait_for_status(db, post_id)
    assert await stored_photos(db, post_id) == [("Dropped", 40, 30), ("", 40, 30)]


def urlpath(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def test_without_javascript_the_form_posts_photos_with_their_alt_texts(
    browsing: Browsing,  # noqa: F811
    factory,
    db,
    tmp_path: Path,
    artifacts_dir: Path,
):
    account = await factory.user()
    wide = write_photo(tmp_path / "wide.jpg", 600, 300, "JPEG")
    tall = write_photo(tmp_path / "tall.png", 300, 600, "PNG")
    square = write_photo(tmp_path / "square.webp", 400, 400, "WEBP")
    page = await browsing.page(viewport=WIDTHS["phone"], java_script_enabled=False)
    await log_in(page, account)
    await expect(page.locator(".photo-card")).to_have_count(0)
    await page.get_by_label("Add photos").set_input_files([str(wide), str(tall), str(square)])
    # The first left blank: the others still go with their own photos.
    await page.get_by_label("Description of photo 2 (alt text)").fill("A tall one")
    await page.get_by_label("Description of photo 3 (alt text)").fill("A square one")
    await page.get_by_label("What's new").fill("Posted without a script")
    await page.screenshot(path=artifacts_dir / "composer-no-script.png", full_page=True)
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(re.compile(r"/p/\d+$"), timeout=POST_MS)
    await expect(page.get_by_text("Processing photos")).to_be_visible(timeout=WAIT_MS)
    post_id = int(page.url.rsplit("/", 1)[1])
    await wait_for_status(db, post_id)
    assert await stored_photos(db, post_id) == [
        ("", 600, 300),
        ("A tall one", 300, 600),
        ("A square one", 400, 400),
    ]
