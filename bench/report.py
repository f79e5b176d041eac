"""The timeline benchmark's results as Markdown: load, growth, and each target's verdict."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence

from bench.wrk import Result

# The targets (docs: bench/results/README.md). Shares of the ceiling are targets at
# TARGET_CONNECTIONS; at FLOOR_CONNECTIONS they must stay where the read path's rebuild
# found them.
TARGET_CONNECTIONS = 32
FLOOR_CONNECTIONS = 16
MIN_SHARE_OF_CEILING_TIMELINE = 0.70
FLOOR_SHARE_OF_CEILING_TIMELINE = 0.66
FLOOR_SHARE_OF_CEILING_HOME = 0.38
MAX_P99_MS_AT_64 = 100.0
MAX_DEEP_OVER_FIRST = 1.2
MAX_LARGE_OVER_SMALL = 1.2
MAX_HEAVY_OVER_MEDIAN = 3.0
MIN_SHARE_OF_CEILING_HOME = 0.50
MIN_SHARE_OF_CEILING_MASTODON_HOME = 0.50


@dataclasses.dataclass(frozen=True)
class Load:
    endpoint: str
    reader: str  # who is signed in ("" for the ceiling, which has no session)
    results: dict[int, Result]  # by connections
    # The ceiling's requests/s measured in turns with this case, by connections; None
    # when it ran in a group without the ceiling (the ceiling's mean is used then).
    beside: dict[int, float] | None = None


@dataclasses.dataclass(frozen=True)
class Growth:
    reader: str
    # Accounts followed by the reader picked in each database, by posts label.
    following: dict[str, int]
    # Median EXPLAIN ANALYZE execution time (ms), by (posts label, page: "1" or "deep").
    ms: dict[tuple[str, str], float]


@dataclasses.dataclass(frozen=True)
class TagCost:
    """A reader's home page statement following no tag and ten (bench/followed_tags.py)."""

    reader: str
    following: int
    # Median EXPLAIN ANALYZE execution time (ms), by (followed tags "0" or "10", page).
    ms: dict[tuple[str, str], float]


@dataclasses.dataclass(frozen=True)
class WriteCost:
    """Median ms of the post-creating command, by kind of text."""

    ms: dict[str, float]


# The home timeline of a reader following ten tags, within this factor of the same reader
# following none (SQL, the median reader, page 1 and deep).
TAGS_WITHIN = 1.15


@dataclasses.dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool


def ceiling_rps(ceilings: list[Load]) -> dict[int, float]:
    """The ceiling's mean requests/s per number of connections over all its runs."""
    connections = sorted(ceilings[0].results)
    return {
        c: statistics.mean(load.results[c].requests_per_second for load in ceilings)
        for c in connections
    }


def share(load: Load, ceilings: list[Load], connections: int) -> float:
    """Requests/s as a share of the ceiling's: the ceiling measured in turns with this case
    where there was one, else its mean over the run."""
    yardstick = (load.beside or ceiling_rps(ceilings))[connections]
    return load.results[connections].requests_per_second / yardstick


def _load_table(loads: list[Load], ceilings: list[Load]) -> list[str]:
    lines = [
        "| Endpoint | Signed in as | Connections | Requests/s | p50 ms | p99 ms "
        "| Share of ceiling | Errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for load in [*ceilings, *loads]:
        for connections, result in sorted(load.results.items()):
            lines.append(
                f"| {load.endpoint} | {load.reader or '—'} | {connections} "
                f"| {result.requests_per_second:,.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} "
                f"| {share(load, ceilings, connections):.0%} | {result.errors} |"
            )
    first, last = ceilings[0].results, ceilings[-1].results
    drift = ", ".join(
        f"{abs(last[c].requests_per_second / first[c].requests_per_second - 1):.0%} at {c}"
        for c in sorted(first)
    )
    lines += [
        "",
        "Shares are of the ceiling measured in turns with the same rows (the median "
        "timeline's, the home page's, the Mastodon home timeline's), else of its mean over "
        "the run. Its first and last measurements "
        f"differ by {drift} connections (the machine's own drift during the run).",
    ]
    return lines


def _growth_table(growth: list[Growth], labels: tuple[str, str]) -> list[str]:
    small, large = labels
    lines = [
        f"| Reader | follows ({small} / {large}) | {small} page 1 | {small} deep "
        f"| {large} page 1 | {large} deep | {large} ÷ {small} (page 1 / deep) "
        f"| deep ÷ page 1 ({large}) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in growth:
        ms = row.ms
        first = ms[large, "1"] / ms[small, "1"]
        deep = ms[large, "deep"] / ms[small, "deep"]
        lines.append(
            f"| {row.reader} | {row.following[small]:,} / {row.following[large]:,} "
            f"| {ms[small, '1']:.3f} | {ms[small, 'deep']:.3f} "
            f"| {ms[large, '1']:.3f} | {ms[large, 'deep']:.3f} "
            f"| {first:.2f}× / {deep:.2f}× | {ms[large, 'deep'] / ms[large, '1']:.2f}× |"
        )
    return lines


def _find(loads: list[Load], endpoint: str, reader: str) -> Load:
    return next(load for load in loads if load.endpoint == endpoint and load.reader == reader)


def verdicts(
    loads: list[Load], ceilings: list[Load], growth: list[Growth], labels: tuple[str, str]
) -> list[Verdict]:
    small, large = labels
    found: list[Verdict] = []
    connections = sorted(ceilings[0].results)
    median = _find(loads, "timeline page 1", "median")
    for endpoint, floor, at in (
        ("timeline page 1", MIN_SHARE_OF_CEILING_TIMELINE, TARGET_CONNECTIONS),
        ("home page", MIN_SHARE_OF_CEILING_HOME, TARGET_CONNECTIONS),
        ("Mastodon home timeline", MIN_SHARE_OF_CEILING_MASTODON_HOME, TARGET_CONNECTIONS),
        ("timeline page 1", FLOOR_SHARE_OF_CEILING_TIMELINE, FLOOR_CONNECTIONS),
        ("home page", FLOOR_SHARE_OF_CEILING_HOME, FLOOR_CONNECTIONS),
    ):
        load = _find(loads, endpoint, "median")
        shares = {c: share(load, ceilings, c) for c in connections}
        found.append(
            Verdict(
                f"median {endpoint}: ≥ {floor:.0%} of the ceiling's requests/s at {at}",
                ", ".join(f"{shares[c]:.0%} at {c}" for c in connections),
                shares[at] >= floor,
            )
        )
    p99 = median.results[max(connections)].p99_ms
    found.append(
        Verdict(
            f"median timeline p99 at {max(connections)} connections < {MAX_P99_MS_AT_64:.0f} ms",
            f"{p99:.1f} ms",
            p99 < MAX_P99_MS_AT_64,
        )
    )
    http_deep = []
    for load in loads:
        if load.endpoint != "timeline deep":
            continue
        first = _find(loads, "timeline page 1", load.reader)
        for c in connections:
            slower = first.results[c].requests_per_second / load.results[c].requests_per_second
            http_deep.append((slower, f"{load.reader} {c}"))
    worst = max(http_deep)
    found.append(
        Verdict(
            f"deep page within {MAX_DEEP_OVER_FIRST}× of page 1, HTTP (page-1 req/s ÷ deep req/s)",
            f"worst {worst[0]:.2f}× ({worst[1]} connections); "
            f"median {statistics.median(r for r, _ in http_deep):.2f}×",
            worst[0] <= MAX_DEEP_OVER_FIRST,
        )
    )
    by_reader = {row.reader: row for row in growth}
    sql_deep = {
        f"{row.reader} {label}": row.ms[label, "deep"] / row.ms[label, "1"]
        for row in growth
        for label in labels
    }
    name, ratio = max(sql_deep.items(), key=lambda item: item[1])
    found.append(
        Verdict(
            f"deep page within {MAX_DEEP_OVER_FIRST}× of page 1, SQL execution",
            f"worst {ratio:.2f}× ({name})",
            ratio <= MAX_DEEP_OVER_FIRST,
        )
    )
    for reader in ("median", "heavy"):
        row = by_reader[reader]
        ratio = row.ms[large, "1"] / row.ms[small, "1"]
        deep = row.ms[large, "deep"] / row.ms[small, "deep"]
        found.append(
            Verdict(
                f"{reader}: {large} posts within {MAX_LARGE_OVER_SMALL}× of {small}, SQL execution",
                f"{ratio:.2f}× page 1, {deep:.2f}× deep",
                max(ratio, deep) <= MAX_LARGE_OVER_SMALL,
            )
        )
    sql_heavy = by_reader["heavy"].ms[large, "1"] / by_reader["median"].ms[large, "1"]
    found.append(
        Verdict(
            f"heavy within {MAX_HEAVY_OVER_MEDIAN:.0f}× of median, SQL execution ({large}, page 1)",
            f"{sql_heavy:.2f}×",
            sql_heavy <= MAX_HEAVY_OVER_MEDIAN,
        )
    )
    heavy = _find(loads, "timeline page 1", "heavy")
    http_heavy = max(
        median.results[c].requests_per_second / heavy.results[c].requests_per_second
        for c in connections
    )
    found.append(
        Verdict(
            f"heavy within {MAX_HEAVY_OVER_MEDIAN:.0f}× of median, HTTP "
            "(median req/s ÷ heavy req/s, page 1)",
            f"{http_heavy:.2f}×",
            http_heavy <= MAX_HEAVY_OVER_MEDIAN,
        )
    )
    return found


def markdown_tags(tags: list[TagCost], writes: WriteCost | None) -> list[str]:
    lines = [
        "| Reader (accounts followed) | page 1: no tag | 10 tags | ratio"
        " | deep: no tag | 10 tags | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in tags:
        ms = row.ms
        lines.append(
            f"| {row.reader} ({row.following:,}) | {ms['0', '1']:.3f} | {ms['10', '1']:.3f}"
            f" | {ms['10', '1'] / ms['0', '1']:.2f}× | {ms['0', 'deep']:.3f}"
            f" | {ms['10', 'deep']:.3f} | {ms['10', 'deep'] / ms['0', 'deep']:.2f}× |"
        )
    if writes:
        lines += [
            "",
            "Posting (median ms of the command, committed): "
            + ", ".join(f"{kind} {ms:.2f}" for kind, ms in writes.ms.items())
            + ".",
        ]
    return lines


def tag_verdicts(tags: list[TagCost]) -> list[Verdict]:
    median = [row for row in tags if row.reader == "median"]
    if not median:
        return []
    ratio = max(median[0].ms["10", page] / median[0].ms["0", page] for page in ("1", "deep"))
    return [
        Verdict(
            f"median reader's home with 10 followed tags within {TAGS_WITHIN}× of none",
            f"{ratio:.2f}× (SQL, worse of page 1 and deep)",
            ratio <= TAGS_WITHIN,
        )
    ]


def markdown(
    header: list[str],
    loads: list[Load],
    ceilings: list[Load],
    growth: list[Growth],
    labels: tuple[str, str],
    footer: list[str],
    tags: list[TagCost] | None = None,
    writes: WriteCost | None = None,
    sections: Sequence[str] = (),
) -> str:
    """``sections``: more results, as Markdown lines, after the targets (trending)."""
    lines = [*header, "", "## Load over HTTP (wrk, loopback)", ""]
    lines += _load_table(loads, ceilings)
    lines += ["", "## Growth: SQL execution time of a home timeline page (ms)", ""]
    lines += _growth_table(growth, labels)
    if tags:
        lines += ["", "## Followed tags: SQL execution time of a home timeline page (ms)", ""]
        lines += markdown_tags(tags, writes)
    lines += ["", "## Targets", "", "| Target | Measured | Met |", "|---|---|---|"]
    for verdict in [*verdicts(loads, ceilings, growth, labels), *tag_verdicts(tags or [])]:
        lines.append(
            f"| {verdict.target} | {verdict.measured} | {'yes' if verdict.met else '**no**'} |"
        )
    if sections:
        lines += ["", *sections]
    return "\n".join([*lines, "", *footer, ""])
