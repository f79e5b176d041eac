"""``python -m service admin ...``: the operator's commands, as subcommands of the service's
command line.

Exit status, for scripts: 0 done; 1 failed (database or storage unreachable, a restore
that does not check out); 2 not done because of how it was asked (bad arguments, no such
user or job, --yes missing, a backup directory or restore target that is not empty).
Errors are one line on stderr; results go to stdout, as JSON with --json where offered.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.cursor import MAX_ID
from service.models import ROLES
from service.ops import jobs
from service.ops.database import Failed, NotFound, Refused, sessions
from service.settings import Settings

if TYPE_CHECKING:
    from service.storage.backends import Storage

# The modules behind the commands (and the storage clients they open) are imported by the
# command that needs them: every command starts a new process, and most need few of them.

Database = Callable[[Settings], contextlib.AbstractContextManager[Settings]]
Run = Callable[[Settings, argparse.Namespace], Awaitable[int]]

# Storage objects younger than this are left alone by a sweep: a job may be storing them.
DEFAULT_GRACE_MINUTES = 60

EPILOG = (
    "exit status: 0 done, 1 failed (database or storage unreachable, restore check "
    "failed), 2 not done as asked (usage, not found, --yes missing, target not empty)"
)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s"


def _positive(value: str) -> int:
    """A count or a row id: 1 up to PostgreSQL's bigint, which every id column is."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{value} is not a number from 1 to {MAX_ID}")
    return number


def _minutes(value: str) -> float:
    """A grace period: never negative, which would reach objects a job is writing now."""
    minutes = float(value)
    if not 0 <= minutes < math.inf:
        raise argparse.ArgumentTypeError(f"{value} is not a number of minutes, 0 or more")
    return minutes


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@contextlib.asynccontextmanager
async def _storage(settings: Settings) -> AsyncIterator[Storage]:
    """The configured storage; any failure of it, then or later, a Failed."""
    from service.storage.backends import StorageError, open_storage

    try:
        async with open_storage(settings) as storage:
            yield storage
    except StorageError as error:
        raise Failed(str(error)) from error


# Users


async def users_list(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import users

    async with sessions(settings.database.url) as sessionmaker:
        rows = await users.list_users(sessionmaker, args.limit)
    if args.json:
        _print_json(rows)
        return 0
    print(f"{'USERNAME':30} {'ROLE':9} {'CONFIRMED':9} {'SUSPENDED':9} {'POSTS':>6}  CREATED")
    for row in rows:
        confirmed = "yes" if row["confirmed"] else "no"
        suspended = "yes" if row["suspended"] else "no"
        print(
            f"{row['username']:30} {row['role']:9} {confirmed:9} {suspended:9} "
            f"{row['posts']:>6}  {row['created_at']}"
        )
    return 0


async def users_show(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import users

    async with sessions(settings.database.url) as sessionmaker:
        details = await users.show_user(sessionmaker, args.username)
    if args.json:
        _print_json(details)
    else:
        for name, value in details.items():
            if isinstance(value, bool):
                value = "yes" if value else "no"
            shown = "-" if value in (None, "") else value
            print(f"{name.replace('_', ' ') + ':':20} {shown}")
    return 0


async def users_confirm(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import users

    async with sessions(settings.database.url) as sessionmaker:
        since = await users.confirm(sessionmaker, args.username)
    if since is None:
        print(f"{args.username}'s email address is confirmed.")
    else:
        print(f"{args.username}'s email address was confirmed already ({since:%Y-%m-%d}).")
    return 0


async def users_set_role(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import users

    async with sessions(settings.database.url) as sessionmaker:
        before = await users.set_role(sessionmaker, args.username, args.role)
    print(f"{args.username} is now {args.role} (was {before}).")
    return 0


async def users_suspend(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import users

    async with sessions(settings.database.url) as sessionmaker:
        since = await users.suspend(sessionmaker, args.username, args.reason)
    if since is None:
        print(f"{args.username} is suspended: logged out everywhere, and hidden from everyone.")
    else:
        print(f"{args.username} was suspended already ({since:%Y-%m-%d}).")
    return 0


async def users_unsuspend(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import users

    async with sessions(settings.database.url) as sessionmaker:
        lifted = await users.unsuspend(sessionmaker, args.username)
    if lifted:
        print(f"{args.username} is no longer suspended.")
    else:
        print(f"{args.username} was not suspended.")
    return 0


async def users_delete(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import users
    from service.storage.backends import StorageError, open_storage

    async with sessions(settings.database.url) as sessionmaker:
        if not args.yes:
            details = await users.show_user(sessionmaker, args.username)
            raise Refused(
                f"this deletes {details['username']} with {_plural(details['posts'], 'post')}, "
                f"{_plural(details['comments'], 'comment')} and their photos; add --yes"
            )
        removed = await users.delete(sessionmaker, args.username)
        print(
            f"deleted {removed.username}: {_plural(removed.posts, 'post')}, "
            f"{_plural(removed.comments, 'comment')}, {_plural(removed.likes, 'like')}, "
            f"{_plural(removed.follows, 'follow')}, {_plural(removed.sessions, 'session')}."
        )
        if not removed.delete_jobs:
            return 0
        try:
            async with open_storage(settings) as storage:
                done = await users.run_delete_jobs(sessionmaker, storage, removed.delete_jobs)
        except StorageError:
            done = 0
    total = len(removed.delete_jobs)
    print(f"stored objects: {done} of {_plural(total, 'deletion job')} done now", end="")
    print("." if done == total else "; the service's media worker deletes the rest.")
    return 0


# Jobs


def _queues(args: argparse.Namespace) -> tuple[str, ...]:
    return (args.kind,) if args.kind else jobs.QUEUES


async def jobs_status(settings: Settings, args: argparse.Namespace) -> int:
    async with sessions(settings.database.url) as sessionmaker:
        report = await jobs.status(sessionmaker)
    if args.json:
        _print_json(report)
        return 0
    for queue, state in report.items():
        oldest = _age(state["oldest_pending_seconds"])
        print(
            f"{queue:7} pending {state['pending']}  running {state['running']}  "
            f"failed {state['failed']}  done {state['done']}  "
            f"(retrying {state['retrying']}; oldest pending {oldest})"
        )
        for error in state["last_errors"]:
            message = (error["error"] or "").splitlines()[0][:160] if error["error"] else ""
            print(
                f"    #{error['id']} {error['what']} {error['state']} at {error['at']} "
                f"after {_plural(error['attempts'], 'attempt')}: {message}"
            )
    return 0


async def jobs_retry(settings: Settings, args: argparse.Namespace) -> int:
    if args.ids and not args.kind:
        raise Refused("job ids are per queue: say which with --kind media, mail or account")
    async with sessions(settings.database.url) as sessionmaker:
        retried = await jobs.retry(sessionmaker, _queues(args), args.ids)
    for queue, count in retried.items():
        print(f"{queue}: {_plural(count, 'failed job')} back to pending.")
    return 0


async def jobs_purge_failed(settings: Settings, args: argparse.Namespace) -> int:
    async with sessions(settings.database.url) as sessionmaker:
        if not args.yes:
            counts = await jobs.failed_counts(sessionmaker, _queues(args))
            listed = ", ".join(f"{count} {queue}" for queue, count in counts.items())
            raise Refused(f"this deletes the failed jobs ({listed}); add --yes")
        purged = await jobs.purge_failed(sessionmaker, _queues(args))
    for queue, count in purged.items():
        print(f"{queue}: {_plural(count, 'failed job')} purged.")
    return 0


# Media


async def media_sweep(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import sweep

    grace = timedelta(minutes=args.grace_minutes)
    async with sessions(settings.database.url) as sessionmaker, _storage(settings) as storage:
        report = await sweep.sweep(sessionmaker, storage, grace, args.apply)
    if args.json:
        _print_json(report.as_dict())
        return 0
    print(f"{_plural(report.objects, 'object')} in storage.")
    for item in report.orphans:
        action = "deleted" if item.key in report.deleted else "orphan"
        print(f"  {action}: {item.key} ({item.size} bytes)")
    for item in report.too_young:
        print(f"  orphan, younger than the grace period, kept: {item.key}")
    for item in report.unrecognised:
        print(f"  not a media object, left alone: {item.key}")
    for key in report.missing:
        print(f"  missing (a row refers to it): {key}")
    print(
        f"{_plural(len(report.orphans), 'orphan')}, "
        f"{len(report.missing)} missing, {len(report.deleted)} deleted."
    )
    if report.orphans and not args.apply:
        print("Run again with --apply to delete the orphans.")
    return 0


async def media_renditions(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import renditions

    async with sessions(settings.database.url) as sessionmaker:
        report = await renditions.backfill(sessionmaker, args.apply)
    if args.json:
        _print_json(report.as_dict())
        return 0
    waiting = report.lacking - report.queued
    print(
        f"{_plural(report.lacking, 'processed photo')} without widths for srcset, "
        f"{report.queued} of them queued already."
    )
    if args.apply:
        print(
            f"queued {_plural(report.enqueued, 'renditions job')}; the service's media workers "
            "make them (admin jobs status shows how far they are)."
        )
    elif waiting:
        print(f"Run again with --apply to queue a job for the other {waiting}.")
    return 0


# Backup and restore


async def run_backup(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import backup

    async with _storage(settings) as storage:
        manifest = await backup.backup(settings.database.url, storage, Path(args.directory))
    rows = sum(table["rows"] for table in manifest["tables"])
    size = sum(item["size"] for item in manifest["objects"])
    print(
        f"backed up {_plural(rows, 'row')} in {_plural(len(manifest['tables']), 'table')} "
        f"(schema {manifest['alembic_revision']}) and "
        f"{_plural(len(manifest['objects']), 'object')} ({size} bytes) to {args.directory}."
    )
    if manifest["missing_objects"]:
        print(
            f"warning: {_plural(len(manifest['missing_objects']), 'object')} the database "
            "refers to were not in storage (see missing_objects in manifest.json).",
            file=sys.stderr,
        )
    return 0


async def run_restore(settings: Settings, args: argparse.Namespace) -> int:
    from service.ops import backup

    async with _storage(settings) as storage:
        manifest = await backup.restore(settings.database.url, storage, Path(args.directory))
    rows = sum(table["rows"] for table in manifest["tables"])
    print(
        f"restored {_plural(rows, 'row')} (schema {manifest['alembic_revision']}) and "
        f"{_plural(len(manifest['objects']), 'object')} from {args.directory}; "
        "every count checked."
    )
    return 0


# The command line


def _runner(run: Run, database: Database) -> Callable[[Settings, argparse.Namespace], int]:
    def handler(settings: Settings, args: argparse.Namespace) -> int:
        with database(settings) as ready:
            try:
                return asyncio.run(run(ready, args))
            except (NotFound, Refused) as error:
                print(f"{args.label}: {error}", file=sys.stderr)
                return 2
            except Failed as error:
                print(f"{args.label}: {error}", file=sys.stderr)
                return 1

    return handler


def add_admin_commands(
    admin: argparse.ArgumentParser, common: argparse.ArgumentParser, database: Database
) -> None:
    """Add the admin subcommands to ``admin``; each takes the options of ``common``."""
    admin.epilog = EPILOG
    admin.set_defaults(handler=_usage(admin))
    areas = admin.add_subparsers(dest="area", metavar="{users,jobs,media,backup,restore}")

    def area(name: str, help: str) -> argparse._SubParsersAction:
        parser = areas.add_parser(name, help=help, parents=[common], epilog=EPILOG)
        parser.set_defaults(handler=_usage(parser))
        return parser.add_subparsers(dest="action")

    def command(group, label: str, name: str, run: Run, help: str) -> argparse.ArgumentParser:
        parser = group.add_parser(name, help=help, parents=[common], epilog=EPILOG)
        parser.set_defaults(handler=_runner(run, database), label=f"admin {label}")
        return parser

    def with_json(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")

    group = area("users", "list, show, confirm, change, suspend or delete accounts")
    shown = command(group, "users list", "list", users_list, "newest accounts first")
    shown.add_argument("--limit", type=_positive, default=50, help="how many (default 50)")
    with_json(shown)
    shown = command(group, "users show", "show", users_show, "one account in detail")
    shown.add_argument("username")
    with_json(shown)
    shown = command(group, "users confirm", "confirm", users_confirm, "mark the email confirmed")
    shown.add_argument("username")
    shown = command(group, "users set-role", "set-role", users_set_role, "change the role")
    shown.add_argument("username")
    shown.add_argument("role", choices=ROLES)
    shown = command(
        group, "users suspend", "suspend", users_suspend,
        "log the account out everywhere and hide it and all it wrote until unsuspended",
    )  # fmt: skip
    shown.add_argument("username")
    shown.add_argument(
        "--reason", default="", help="why, shown to the account's owner when they try to log in"
    )
    shown = command(group, "users unsuspend", "unsuspend", users_unsuspend, "lift a suspension")
    shown.add_argument("username")
    shown = command(
        group, "users delete", "delete", users_delete,
        "delete the account, its posts, comments, likes, follows, sessions and photos",
    )  # fmt: skip
    shown.add_argument("username")
    shown.add_argument("--yes", action="store_true", help="really delete")

    group = area("jobs", "the media and mail queues")
    shown = command(group, "jobs status", "status", jobs_status, "counts by state, last errors")
    with_json(shown)
    shown = command(
        group, "jobs retry", "retry", jobs_retry,
        "failed jobs back to pending (media: delete jobs only)",
    )  # fmt: skip
    shown.add_argument("--kind", choices=jobs.QUEUES, help="one queue only")
    shown.add_argument("ids", nargs="*", type=_positive, metavar="ID", help="these jobs only")
    shown = command(
        group, "jobs purge-failed", "purge-failed", jobs_purge_failed, "delete failed jobs"
    )
    shown.add_argument("--kind", choices=jobs.QUEUES, help="one queue only")
    shown.add_argument("--yes", action="store_true", help="really delete")

    group = area("media", "stored objects against the database; widths for older photos")
    shown = command(
        group, "media sweep", "sweep", media_sweep,
        "report orphan objects and missing ones; delete orphans with --apply",
    )  # fmt: skip
    shown.add_argument("--apply", action="store_true", help="delete the orphans found")
    shown.add_argument(
        "--grace-minutes",
        type=_minutes,
        default=DEFAULT_GRACE_MINUTES,
        help=f"leave objects younger than this alone (default {DEFAULT_GRACE_MINUTES})",
    )
    with_json(shown)
    shown = command(
        group, "media renditions", "renditions", media_renditions,
        "count photos processed without widths for srcset; queue jobs for them with --apply",
    )  # fmt: skip
    shown.add_argument("--apply", action="store_true", help="queue the jobs")
    with_json(shown)

    shown = command(areas, "backup", "backup", run_backup, "database and objects to a directory")
    shown.add_argument("directory", help="a new or empty directory")
    shown = command(
        areas, "restore", "restore", run_restore,
        "a backup into an empty database and empty storage",
    )  # fmt: skip
    shown.add_argument("directory", help="a directory written by admin backup")


def _usage(parser: argparse.ArgumentParser) -> Callable[[Settings, argparse.Namespace], int]:
    """``admin`` or ``admin users`` alone: the help, and the status of a usage error."""

    def handler(settings: Settings, args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return handler
