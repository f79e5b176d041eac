"""The Mastodon client API (SPEC §7): the paths Mastodon defines under ``/api/v1``,
``/api/v2``, ``/.well-known/`` and ``/nodeinfo/``, with Mastodon's entities, paging and
errors, so existing Mastodon apps and libraries work against Snapline. Every route is named
``mastodon_*``. docs/api.md describes it."""
