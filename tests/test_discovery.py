"""Finding hashtags and mentions, normalising tags, and linking them in escaped text
(service/discovery.py, docs/discovery.md)."""

from __future__ import annotations

import html
import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from service import discovery
from service.discovery import display_tag, find, linkify, normalize_tag, tag_error

KNOWN = {"alice": "Alice", "bob_2": "bob_2"}


def _tag(written: str, name: str) -> str:
    return f'<a class="hashtag" href="/tags/{name}">{written}</a>'


def _mention(written: str, username: str) -> str:
    return f'<a class="mention" href="/@{username}">{written}</a>'


def _linked(text: str) -> str:
    return linkify(text, KNOWN, _tag, _mention)


def _tags(text: str) -> list[str]:
    return [name for name, _ in find(text).tags]


def test_case_accents_and_width_make_one_tag():
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert (
        {normalize_tag(t) for t in ("Café", composed, decomposed, "CAFÉ", "CAFE\u0301")}
        == {composed}
    )  # fmt: skip
    # Full-width letters and number sign (CJK keyboards) are the same tag, shown in ASCII.
    assert _tags("＃ＣＡＦＥ") == ["cafe"]
    assert find("＃ＣＡＦＥ").tags == (("cafe", "CAFE"),)
    assert _tags("#Café #café #CAFÉ #cafe\u0301") == ["café"]
    # The display form is the first spelling, composed.
    assert find("#CAFE\u0301 #café").tags == (("café", "CAFÉ"),)


def test_scripts_digits_and_underscores():
    assert _tags("#咖啡 #中文_2 #हिन्दी #русский #עברית #_x #2024年") == [
        "咖啡", "中文_2", "हिन्दी", "русский", "עברית", "_x", "2024年",
    ]  # fmt: skip
    assert _tags("#1 #2024 #１２") == []  # digits alone are no tag
    assert _tags("#ß") == ["ss"]  # case folding, not lowercasing


def test_turkish_dotted_capital_i_is_unicode_folding_not_a_locale():
    assert normalize_tag("İzmir") == "i\u0307zmir" != normalize_tag("izmir")
    assert normalize_tag("IZMIR") == "izmir"
    assert normalize_tag("ılık") == "ılık"  # dotless i stays


def test_normalising_is_stable():
    for text in ("Café", "ＣＡＦＥ", "İ", "ß", "ﬁ", "Å", "ǅ", "ᾈ"):
        once = normalize_tag(text)
        assert normalize_tag(once) == once


def test_what_comes_before_a_tag_or_mention():
    assert _tags("我爱 #咖啡，#茶") == ["咖啡", "茶"]
    assert _tags("我爱#咖啡 word#tag a/#b a&#35; q=#x x.#y") == []
    assert _tags("(#open) [#square] \"#quoted\" «#guillemets»") == [
        "open", "square", "quoted", "guillemets",
    ]  # fmt: skip


def test_no_tag_inside_a_url():
    text = "see https://example.com/page#section and http://x.test/#/route #real"
    assert _tags(text) == ["real"]
    assert 'href="/tags/section"' not in _linked(text)


def test_mentions_not_in_email_nor_remote_nor_too_long():
    assert find("mail me at someone@alice.com").mentions == ()
    assert find("@alice@elsewhere.social").mentions == ()
    assert find("@" + "a" * 31).mentions == ()
    assert find("@ab").mentions == ()  # shorter than any username
    assert find("@Alice, @bob_2. (@carol) @alice").mentions == ("alice", "bob_2", "carol")
    assert find("@aliceé").mentions == ()


def test_known_mentions_link_unknown_stay_text():
    assert _linked("hi @ALICE and @carol") == (
        'hi <a class="mention" href="/@Alice">@ALICE</a> and @carol'
    )


def test_linking_escapes_everything_first():
    text = '<script>alert(1)</script> #<b>x</b> #tag"onmouseover=x @alice\'"&'
    out = _linked(text)
    assert "<script>" not in out and "<b>" not in out
    assert '<a class="hashtag" href="/tags/tag">#tag</a>&quot;onmouseover=x' in out
    assert '<a class="mention" href="/@Alice">@alice</a>&#x27;&quot;&amp;' in out


def test_rtl_text_and_overrides_stay_text():
    text = "\u202e#שלום @alice \u202dمرحبا #مرحبا"
    out = _linked(text)
    assert _tags(text) == ["שלום", "مرحبا"]
    assert "\u202e" in out and re.sub(r"<[^>]+>", "", out) == html.escape(text)


def test_long_runs_and_many_tags():
    assert _tags("#" + "a" * discovery.TAG_MAX_CHARS) == ["a" * discovery.TAG_MAX_CHARS]
    too_long = "#" + "a" * (discovery.TAG_MAX_CHARS + 1)
    assert _tags(too_long) == [] and _linked(too_long) == too_long
    many = " ".join(f"#t{i}" for i in range(500))
    assert len(find(many).tags) == 500
    assert _linked(many).count('class="hashtag"') == 500


def test_tag_error_for_paths():
    for good in ("café", "#Café", "＃ＣＡＦＥ", "咖啡", "_"):
        assert tag_error(good) is None, good
    for bad in ("", "#", "a b", "a#b", "12", "<b>", "a" * 101, "\u0301a", "a.b"):
        assert tag_error(bad), bad
    assert display_tag("ＣＡＦＥ") == "CAFE"


# Text with the characters that matter here, often.
TEXTS = st.lists(
    st.one_of(
        st.sampled_from([*"#＃@ _./:&<>\"'\n\u0301\u202eaéAİ1咖啡", "http://x.y/", "alice"]),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
).map("".join)


@given(TEXTS)
def test_linked_text_stripped_of_its_links_is_the_escaped_text(text):
    out = _linked(text)
    assert re.sub(r'<a class="(?:hashtag|mention)" href="[^"<>]*">|</a>', "", out) == (
        html.escape(text)
    )


@given(TEXTS)
def test_every_tag_found_is_normalised_and_within_limits(text):
    for name, shown in find(text).tags:
        assert name == normalize_tag(name) == normalize_tag(shown)
        assert 1 <= len(name) <= discovery.TAG_MAX_CHARS
        assert shown == unicodedata.normalize("NFKC", shown)
        assert tag_error(shown) is None
