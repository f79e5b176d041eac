"""Search for posts and tags (docs/discovery.md, "Post search").

- ``users.indexable``: whether the account's public posts appear in the search results of
  people who do not follow it (Mastodon's ``indexable``); on by default. The few accounts
  that turn it off are indexed (``ix_users_not_indexable``).
- ``posts.search_vector``: the post's text as post search matches it, a stored generated
  column of the SQL function ``post_search_document``, so every way a post is written (the
  app, the seed's COPY) keeps it, and this migration fills it for the posts there are. It
  holds the text's words in the ``english`` configuration (stemmed: "photos" is "photo"),
  and for runs of Chinese, Japanese and Korean characters, which have no spaces between
  words, every character and every pair of neighbouring characters, at their positions, in
  no configuration at all: a word inside a sentence is the phrase of its pairs.
  ``post_search_query`` turns a search into the tsquery that matches it, the same way.
  Both fold the text as people search does (NFKC, accents removed, lower case). It also
  holds one lexeme no text can give, ``'~ N'`` with N the post's id >> WINDOW_BITS: the
  window of 65,536 posts it was written in, so that a search reads the newest windows
  first with the same index (``post_search_windows``; service/reads/search.py).
- ``ix_posts_search_vector``: GIN on it.
- ``ix_tags_search_name``: tags by the folded form of their name, for prefixes ("caf" finds
  "café").

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Characters of scripts written without spaces between words (and Hangul, whose words carry
# their particles: "커피를"), as a PostgreSQL regular expression class: Hangul Jamo, the
# iteration mark 々, Hiragana and Katakana (with the prolonged sound mark ー), Hangul
# compatibility Jamo, CJK ideographs (extension A, the main block, compatibility
# ideographs, the supplementary planes' extensions) and Hangul syllables. NFKC has already
# made half-width Katakana full-width.
CJK_CLASS = (
    r"[\u1100-\u11ff\u3005\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)
# tsvector's largest position.
MAX_POSITION = 16383
# Posts per window of post search: ids >> this.
WINDOW_BITS = 16


def _fold_sql(collation: str) -> str:
    # A collation with Unicode case mapping: PostgreSQL 17's builtin pg_c_utf8 where there
    # is one, whatever the database's locale (the embedded server's is C, whose lower()
    # knows ASCII only); else the database's own (C.UTF-8 and other UTF-8 locales map all
    # of Unicode).
    collate = f' COLLATE "{collation}"' if collation else ""
    return f"""
        CREATE FUNCTION search_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary,
                                           normalize(value, NFKC)){collate}) $$
        """


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("indexable", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    # The few accounts that opted out, read into a hash by each post search.
    op.execute("CREATE INDEX ix_users_not_indexable ON users (id) WHERE NOT indexable")
    builtin = op.get_bind().execute(
        sa.text("SELECT 1 FROM pg_collation WHERE collname = 'pg_c_utf8'")
    )
    op.execute(_fold_sql("pg_c_utf8" if builtin.first() else ""))
    # Each character of each run at its position, and the pair it starts (the last one
    # starts none); runs one position apart, so that no pair spans two runs. Built as
    # tsvector text: the characters need no quoting, and no parser or locale decides what
    # a word is.
    op.execute(
        f"""
        CREATE FUNCTION search_cjk_vector(folded text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$
        SELECT coalesce(string_agg(
                   '''' || substr(r.run, i, 1) || ''':' || least(r.base + i, {MAX_POSITION})
                   || CASE WHEN i < r.length
                           THEN ' ''' || substr(r.run, i, 2) || ''':'
                                || least(r.base + i, {MAX_POSITION})
                           ELSE '' END,
                   ' '), '')::tsvector
          FROM (SELECT m.parts[1] AS run, char_length(m.parts[1]) AS length,
                       coalesce(sum(char_length(m.parts[1]) + 1) OVER (
                           ORDER BY m.n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                           AS base
                  FROM regexp_matches(folded, '{CJK_CLASS}+', 'g')
                       WITH ORDINALITY AS m(parts, n)) AS r
         CROSS JOIN LATERAL generate_series(1, r.length) AS i
        $$
        """
    )
    # A run of one character is that character; a longer one the phrase of its pairs, so
    # "咖啡" is the pair, found wherever it stands in a sentence.
    op.execute(
        f"""
        CREATE FUNCTION search_cjk_query(folded text) RETURNS tsquery
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$
        SELECT coalesce(string_agg(
                   CASE WHEN char_length(m.parts[1]) = 1 THEN '''' || m.parts[1] || ''''
                        ELSE '(' || (SELECT string_agg('''' || substr(m.parts[1], i, 2)
                                                       || '''', ' <-> ' ORDER BY i)
                                       FROM generate_series(1, char_length(m.parts[1]) - 1)
                                            AS i) || ')' END,
                   ' & '), '')::tsquery
          FROM regexp_matches(folded, '{CJK_CLASS}+', 'g') AS m(parts)
        $$
        """
    )
    # PL/pgSQL, which keeps its plans for the session: as a SQL function that cannot be
    # inlined it cost 0.44 ms a post (every post written, and the migration's fill), as
    # this 0.05 ms; and most posts have no CJK run to cut.
    op.execute(
        f"""
        CREATE FUNCTION post_search_vector(body text) RETURNS tsvector
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
        AS $$
        DECLARE
            folded text := search_fold(body);
        BEGIN
            IF folded !~ '{CJK_CLASS}' THEN
                RETURN to_tsvector('pg_catalog.english'::regconfig, folded);
            END IF;
            RETURN to_tsvector('pg_catalog.english'::regconfig,
                               regexp_replace(folded, '{CJK_CLASS}+', ' ', 'g'))
                   || search_cjk_vector(folded);
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION post_search_query(search text) RETURNS tsquery
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$
        SELECT plainto_tsquery('pg_catalog.english'::regconfig,
                               regexp_replace(f.folded, '{CJK_CLASS}+', ' ', 'g'))
               && search_cjk_query(f.folded)
          FROM (SELECT search_fold(search) AS folded) AS f
        $$
        """
    )
    # The lexeme of a post's window has a space in it: no parser gives one, so no search
    # matches it by its words.
    op.execute(
        f"""
        CREATE FUNCTION post_search_document(body text, id bigint) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$
        SELECT post_search_vector(body)
               || format('''~ %s''', id >> {WINDOW_BITS})::tsvector
        $$
        """
    )
    # The windows ``first`` to ``last`` (none below 0) as a tsquery: any of them; NULL, which
    # matches nothing, for none (an empty tsquery would match as if it were not there).
    op.execute(
        """
        CREATE FUNCTION post_search_windows(first bigint, last bigint) RETURNS tsquery
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$
        SELECT string_agg(format('''~ %s''', w), ' | ')::tsquery
          FROM generate_series(greatest(first, 0), last) AS w
        $$
        """
    )
    op.execute(
        "ALTER TABLE posts ADD COLUMN search_vector tsvector NOT NULL"
        " GENERATED ALWAYS AS (post_search_document(body, id)) STORED"
    )
    op.execute("CREATE INDEX ix_posts_search_vector ON posts USING gin (search_vector)")
    op.execute("CREATE INDEX ix_tags_search_name ON tags (search_fold(name) text_pattern_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_tags_search_name")
    op.execute("DROP INDEX ix_posts_search_vector")
    op.execute("ALTER TABLE posts DROP COLUMN search_vector")
    op.execute("DROP INDEX ix_users_not_indexable")
    op.execute("DROP FUNCTION post_search_windows(bigint, bigint)")
    op.execute("DROP FUNCTION post_search_document(text, bigint)")
    op.execute("DROP FUNCTION post_search_query(text)")
    op.execute("DROP FUNCTION post_search_vector(text)")
    op.execute("DROP FUNCTION search_cjk_query(text)")
    op.execute("DROP FUNCTION search_cjk_vector(text)")
    op.execute("DROP FUNCTION search_fold(text)")
    op.drop_column("users", "indexable")
