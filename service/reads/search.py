"""Search for posts and tags (docs/discovery.md, "Post search" and "Tag search"). People
search is service.reads.people.search_people.

A post is matched by its ``search_vector`` (migration 0028): its words stemmed in English,
and in Chinese, Japanese and Korean every character and every pair of neighbouring
characters, so that a word inside a sentence without spaces is the phrase of its pairs;
and the window of posts it was written in. ix_posts_search_vector (GIN) finds them. A
search is turned into a tsquery the same way, by ``post_search_query``, once per statement.
"""

from __future__ import annotations

from typing import NamedTuple

from service import discovery
from service.reads.posts import VISIBLE, cards, post_view
from service.reads.statements import Reader, register_paged
from service.reads.statuses import AUTHOR_COLUMNS, author_of
from service.reads.views import StatusView, TagView
from service.reads.visibility import listed_publicly, post_visible_to
from service.storage.urls import MediaUrls

# The longest search taken; longer ones are cut here.
MAX_SEARCH_CHARS = 100
# How far into the results a search may page: past this the matches are loose and the
# ranking of every one of them is paid for a page nobody reads.
MAX_SEARCH_OFFSET = 200
# The matches ranked for a search: a common word matches a good share of all posts, and
# ranking each one costs its row; this many of the newest (by windows, below) are ranked,
# and their best shown first. Far more than anyone pages through (MAX_SEARCH_OFFSET).
RANKED_MATCHES = 1000

# ts_headline marks each matched word with two control characters, which no user text
# holds (service.text refuses them), and drops what its parser takes for markup: so the
# text's "<" and ">" go in as two more, turned back before discovery.highlight escapes the
# text and marks the words: the snippet's markup is added, never taken from the text.
MARK_START, MARK_END = "\x01", "\x04"
LESS_THAN, GREATER_THAN = "\x02", "\x03"

# Whose posts a search may show viewer $1 (built from the visibility rule, beside which it
# always stands): their own; those of the people they follow; and public posts of accounts
# that let their posts be found (users.indexable; the few that do not are read by
# ix_users_not_indexable into a hash once per statement). With $4, only the posts of
# people the viewer follows (Mastodon's ``following``); with $5, only that author's.
_SEARCHABLE = f"""
    ((({listed_publicly("p")}
        AND p.author_id NOT IN (SELECT n.id FROM users n WHERE NOT n.indexable))
       AND NOT $4::boolean)
     OR p.author_id = $1
     OR EXISTS (SELECT FROM follows searcher
                 WHERE searcher.follower_id = $1 AND searcher.followed_id = p.author_id))
    AND ($5::bigint IS NULL OR p.author_id = $5)"""


# Post search reads the matches window by window, newest first, and stops once it has
# RANKED_MATCHES: a common word is ranked among its newest matches, read from the newest
# posts alone, never at the cost of a read of each of its matches in the table; a rare one
# is found however old. A window is 2 ** WINDOW_BITS posts by id (migration 0028 stores
# each post's window in its search_vector as the lexeme '~ N', so the GIN index narrows the
# words' matches to a window as it finds them). The windows read: the newest ones, then
# the ones before them, then all the rest.
WINDOW_BITS = 16
NEWEST_WINDOWS = 2
EARLIER_WINDOWS = 8


def _windows() -> str:
    """What the windows are for this search: ``q.query`` the search, ``q.newest`` and
    ``q.earlier`` it within the newest and the earlier windows (NULL, matching nothing,
    for a search of stop words alone, which would otherwise match the whole window), and
    ``q.older`` the first post id of the windows read after them. The identity sequence
    gives the newest id without a read of posts."""
    newest = (
        "(coalesce(pg_sequence_last_value(pg_get_serial_sequence('posts', 'id')), 0)"
        f" >> {WINDOW_BITS})"
    )
    first_newest = f"{newest} - {NEWEST_WINDOWS - 1}"
    first_earlier = f"{first_newest} - {EARLIER_WINDOWS}"
    return f"""
    WITH q AS MATERIALIZED (
        SELECT asked.query,
               CASE WHEN numnode(asked.query) > 0
                    THEN asked.query && post_search_windows({first_newest}, {newest})
               END AS newest,
               CASE WHEN numnode(asked.query) > 0
                    THEN asked.query
                         && post_search_windows({first_earlier}, {first_newest} - 1)
               END AS earlier,
               ({first_earlier}) << {WINDOW_BITS} AS older
          FROM (SELECT post_search_query($2) AS query) AS asked)"""


def _window(matches: str) -> str:
    return f"""
            SELECT p.id, p.status_id, p.search_vector, q.query
              FROM q JOIN posts p ON {matches}
             WHERE p.status_id IS NOT NULL AND {_SEARCHABLE}
               AND {post_visible_to("p", "$1")}"""


def _post_rows(rows: int) -> str:
    """The ids of the posts matching the search $2 that viewer $1 may find, best first,
    skipping the first $3: of the first RANKED_MATCHES found, window by window from the
    newest, those that match best (ts_rank, shorter posts ahead of longer ones with as
    many matches), the newest of equals first. "+ 0": the id filters the words' matches,
    rather than have the primary key read the whole range."""
    windows = " UNION ALL ".join(
        (
            _window("p.search_vector @@ q.newest"),
            _window("p.search_vector @@ q.earlier"),
            _window("p.search_vector @@ q.query AND p.id + 0 < q.older"),
        )
    )
    return f"""
    SELECT ranked.id, ranked.status_id, ranked.query, ranked.rank
      FROM (SELECT found.id, found.status_id, found.query,
                   ts_rank(found.search_vector, found.query, 1) AS rank
              FROM (SELECT * FROM ({windows}) AS windows
                     LIMIT {RANKED_MATCHES}) AS found
             ORDER BY rank DESC, found.status_id DESC
             LIMIT {rows} OFFSET $3) AS ranked
    """


def _escaped(text: str) -> str:
    """Control characters as an E'' string of SQL spells them."""
    return "".join(f"\\x{ord(char):02x}" for char in text)


def _search_posts(rows: int) -> str:
    headline = (
        "ts_headline('pg_catalog.english'::regconfig,"
        f" translate(p.body, '<>', E'{_escaped(LESS_THAN + GREATER_THAN)}'), page.query,"
        f" E'StartSel={_escaped(MARK_START)}, StopSel={_escaped(MARK_END)}, MaxWords=30,"
        " MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=\u2026 ')"
    )
    return _windows() + cards(
        f"({_post_rows(rows)}) AS page",
        "page.rank DESC, page.status_id DESC",
        f"{AUTHOR_COLUMNS}, {headline}",
    )


SEARCH_POSTS = register_paged("search_posts", _search_posts, shows_posts=True)


class PostHit(NamedTuple):
    """A post a search found, with its author, and the snippet of its text that matched:
    safe markup, the text escaped and the matches in ``<mark>``."""

    status: StatusView
    snippet: str


def _markup_back(headline: str) -> str:
    """The text's own "<" and ">", which went through ts_headline as control characters."""
    return headline.replace(LESS_THAN, "<").replace(GREATER_THAN, ">")


def _cut(query: str) -> str:
    return query.strip()[:MAX_SEARCH_CHARS]


async def search_posts(
    reader: Reader,
    urls: MediaUrls,
    query: str,
    viewer_id: int | None,
    offset: int,
    limit: int,
    following_only: bool = False,
    author_id: int | None = None,
) -> list[PostHit]:
    """Up to ``limit`` posts matching ``query`` that the viewer may find, best first, from
    ``offset``: none for an empty search or past MAX_SEARCH_OFFSET."""
    query = _cut(query)
    if not query or "\0" in query or offset > MAX_SEARCH_OFFSET:
        return []
    if following_only and viewer_id is None:
        return []
    rows = await reader.rows(
        SEARCH_POSTS.rows(limit), viewer_id, query, offset, following_only, author_id
    )
    return [
        PostHit(
            StatusView(post_view(row, urls), author_of(row)),
            discovery.highlight(_markup_back(row[-1]), query, MARK_START, MARK_END),
        )
        for row in rows
    ]


def _search_tags(rows: int) -> str:
    """Tags whose name starts with the search $2 (normalised as tags are) once both are
    folded (search_fold: "caf" finds "café"), through ix_tags_search_name, skipping the
    first $3: the tag itself first, then its spellings without accents, then the most
    used. Only tags with a public post viewer $1 may see, as a tag's page lists: a tag
    written only in followers-only posts, or only by people hidden from the viewer, is no
    one else's to find. OFFSET 0 keeps that a walk of each tag's newest posts until the
    first, rather than a join of every tagged post PostgreSQL would otherwise choose."""
    return f"""
    SELECT t.name, t.display, t.post_count
      FROM (SELECT search_fold($2) AS folded OFFSET 0) AS q
      JOIN tags t ON search_fold(t.name) ~>=~ q.folded
                 AND search_fold(t.name) ~<~ (q.folded || U&'\\+10FFFF')
     WHERE starts_with(search_fold(t.name), q.folded)
       AND EXISTS (SELECT FROM post_tags pt JOIN posts p ON p.id = pt.post_id
                    WHERE pt.tag_id = t.id AND pt.status_id IS NOT NULL
                      AND {listed_publicly("p")} AND {VISIBLE} OFFSET 0)
     ORDER BY t.name = $2 DESC, search_fold(t.name) = q.folded DESC, t.post_count DESC,
              t.name
     LIMIT {rows} OFFSET $3
    """


SEARCH_TAGS = register_paged("search_tags", _search_tags, shows_posts=True)


async def search_tags(
    reader: Reader, query: str, viewer_id: int | None, offset: int, limit: int
) -> list[TagView]:
    """Up to ``limit`` tags whose name starts with ``query`` (with or without its ``#``),
    from ``offset``."""
    query = _cut(query)
    written = query[1:] if query[:1] in ("#", "\uff03") else query
    name = discovery.normalize_tag(written.strip())
    if not name or "\0" in name or offset > MAX_SEARCH_OFFSET:
        return []
    rows = await reader.rows(SEARCH_TAGS.rows(limit), viewer_id, name, offset)
    return [TagView(*row) for row in rows]
