"""Command line: ``python -m service [--settings PATH] COMMAND``; COMMAND is serve (the
default), migrate, create-admin, seed, admin, routes or statements."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import socket
import stat
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from service import migrate
from service.embedded_pg import EmbeddedPostgresError
from service.settings import Settings, SettingsError, listening_url, load_settings

log = logging.getLogger("service")

# Shorter than the usual 30 s container stop grace period, so a stop is never a kill.
SHUTDOWN_TIMEOUT_SECONDS = 15.0


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Settings with a usable database URL: the configured one, or an embedded server under
    var/pgdata started for the duration (and reused if another command already runs it)."""
    if settings.database.url:
        yield settings
        return
    from service.embedded_pg import EmbeddedPostgres

    server = EmbeddedPostgres(settings.resolve_path("var/pgdata"))
    url = server.start()
    log.info("using the embedded PostgreSQL at %s", url)
    try:
        yield settings.replace(database={"url": url})
    finally:
        if server.stop():
            log.info("embedded PostgreSQL stopped")


def command_migrate(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as ready:
        migrate.upgrade(ready.database.url)
    return 0


def unix_socket(path: str) -> socket.socket:
    """A listening unix socket that nginx (another user) can connect to. A socket file left
    by a process that died is replaced; any other file at that path is an error."""
    target = Path(path)
    if target.exists():
        if not stat.S_ISSOCK(target.stat().st_mode):
            raise SystemExit(f"--unix {path}: exists and is not a socket")
        target.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    # Connecting needs write permission on the socket; the directory still decides who
    # can reach it.
    os.chmod(path, 0o666)
    return listener


def command_serve(settings: Settings, args: argparse.Namespace) -> int:
    from service.app import create_app
    from service.observability import JsonAccessLogger

    server = settings.server
    host, port = args.host or server.host, args.port or server.port
    if settings.app.public_url == listening_url(server.host, server.port):
        # The links in mail follow the address given on the command line too.
        settings = settings.replace(app={"public_url": listening_url(host, port)})
    with database(settings) as ready:
        if not args.no_migrate:
            migrate.upgrade(ready.database.url)
        app = create_app(ready)
        log.info("serving on %s", args.unix or listening_url(host, port))
        if ready.app.env == "dev":
            print(dev_banner(ready), flush=True)
        listen: dict[str, object] = (
            {"sock": unix_socket(args.unix)} if args.unix else {"host": host, "port": port}
        )
        web.run_app(
            app,
            **listen,
            access_log=logging.getLogger("aiohttp.access") if server.access_log else None,
            access_log_class=JsonAccessLogger,
            shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
            print=None,
        )
    return 0


def dev_banner(settings: Settings) -> str:
    mail = (
        f"written as .eml files to {settings.resolve_path(settings.mail.file_path)}"
        if settings.mail.backend == "file"
        else f"sent through {settings.mail.smtp_host}:{settings.mail.smtp_port}"
    )
    return (
        f"\nSnapline is running at {settings.app.public_url}\n"
        f"  Mail (confirmation links) is {mail}.\n"
        "  Make the first admin: .venv/bin/python -m service create-admin NAME EMAIL\n"
        "  Stop with Ctrl-C.\n"
    )


def command_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    password = os.environ.get("SNAPLINE_ADMIN_PASSWORD")
    if not password and args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not password:
        if not sys.stdin.isatty():
            print(
                "create-admin: no terminal to ask for the password; "
                "use --password-stdin or $SNAPLINE_ADMIN_PASSWORD",
                file=sys.stderr,
            )
            return 2
        password = getpass.getpass("Password: ")
    with database(settings) as ready:
        from service.admin import create_admin

        try:
            asyncio.run(create_admin(ready, args.username, args.email, password))
        except ValueError as error:
            print(f"create-admin: {error}", file=sys.stderr)
            return 2
    print(f"{args.username} is an admin.")
    return 0


def command_seed(settings: Settings, args: argparse.Namespace) -> int:
    from service.seed import SEEDED_PASSWORD, SeedRefused, seed

    with database(settings) as ready:
        try:
            report = asyncio.run(
                seed(
                    ready.database.url,
                    args.users,
                    args.posts,
                    ready.security,
                    args.seed,
                    args.non_public_share,
                    args.private_share,
                )
            )
        except (SeedRefused, ValueError) as error:
            print(f"seed: {error}", file=sys.stderr)
            return 2
    print(
        f"seeded {report.users} users, {report.follows} follows and {report.posts} posts "
        f"in {report.seconds:.1f} s (--seed {report.random_seed})."
    )
    print(f'Every seeded account (user00001, user00002, ...) has the password "{SEEDED_PASSWORD}".')
    return 0


# Listing every statement shows the paged ones at the default page size and one more.
DEFAULT_LISTED_ROWS = 21

SETTINGS_HELP = "settings file (default: $SNAPLINE_SETTINGS or settings.toml)"


def command_routes(settings: Settings, args: argparse.Namespace) -> int:
    from service.app import create_app
    from service.routemap import render, route_lines

    # The factory does no I/O: the routes are known without a database.
    print(render(route_lines(create_app(settings))), end="")
    return 0


def command_statements(settings: Settings, args: argparse.Namespace) -> int:
    import service.app  # noqa: F401 - imports every read module, which registers its statements
    from service.reads import statements

    if args.name is None:
        for statement in statements.every_statement(DEFAULT_LISTED_ROWS):
            print(f"-- {statement.name}{' (shows posts)' if statement.shows_posts else ''}")
            print(textwrap.dedent(statement.sql).strip() + ";\n")
        return 0
    family, _, rows = args.name.partition("/")
    if family in statements.PAGED and rows.isdigit():
        try:
            statements.PAGED[family].rows(int(rows))
        except ValueError as error:
            print(f"python -m service statements: {error}", file=sys.stderr)
            return 2
    statement = statements.REGISTRY.get(args.name)
    if statement is None:
        known = sorted({*statements.REGISTRY, *(f"{name}/N" for name in statements.PAGED)})
        known = [name for name in known if "/" not in name or name.endswith("/N")]
        print(
            f"python -m service statements: no statement named {args.name!r};"
            f" one of: {', '.join(known)}",
            file=sys.stderr,
        )
        return 2
    print(textwrap.dedent(statement.sql).strip() + ";")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m service", description="Snapline")
    root.add_argument("--settings", help=SETTINGS_HELP)
    # Accepted after the command too; SUPPRESS keeps an absent one from hiding the first.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--settings", default=argparse.SUPPRESS, help=SETTINGS_HELP)
    commands = root.add_subparsers(dest="command")

    def command(name: str, **options: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], **options)

    serve = command("serve", help="run the web service (the default)")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--unix", help="listen on this unix socket instead of TCP")
    serve.set_defaults(handler=command_serve)
    command("migrate", help="apply pending migrations").set_defaults(handler=command_migrate)
    admin = command("create-admin", help="create an admin account (or promote one)")
    admin.add_argument("username")
    admin.add_argument("email")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    admin.set_defaults(handler=command_create_admin)
    seed = command("seed", help="fill an empty database with demo data")
    seed.add_argument("--users", type=int, default=100, help="accounts to create (default 100)")
    seed.add_argument("--posts", type=int, default=1000, help="posts to create (default 1000)")
    seed.add_argument("--seed", type=int, help="random seed, for the same data again")
    seed.add_argument(
        "--non-public-share",
        type=float,
        default=0.0,
        help="share of posts that are unlisted or for followers only, half each (default 0)",
    )
    seed.add_argument(
        "--private-share",
        type=float,
        default=0.0,
        help="share of accounts that are private, their posts for followers only (default 0)",
    )
    seed.set_defaults(handler=command_seed)
    command("routes", help="list every route: method, path, name, handler").set_defaults(
        handler=command_routes
    )
    shown = command("statements", help="print the read layer's statements, or one by name")
    shown.add_argument("name", nargs="?", help="e.g. home/21: a page of 20 and one more")
    shown.set_defaults(handler=command_statements)
    from service.ops.cli import add_admin_commands

    add_admin_commands(
        command("admin", help="users, jobs, media, backup and restore"), common, database
    )
    return root


def main(argv: list[str] | None = None) -> int:
    from service.observability import configure_logging

    configure_logging()
    args = parser().parse_args(argv)
    if args.command is None:
        args = parser().parse_args([*(argv or sys.argv[1:]), "serve"])
    try:
        settings = load_settings(args.settings)
    except SettingsError as error:
        print(f"settings: {error}", file=sys.stderr)
        return 2
    try:
        return args.handler(settings, args)
    except (OSError, SQLAlchemyError, asyncpg.PostgresError, EmbeddedPostgresError) as error:
        # One line an operator can act on, not a traceback: a database that is down,
        # unreachable or refusing us, or an address already in use.
        reason = getattr(error, "orig", None) or error
        print(f"{args.command}: {type(reason).__name__}: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
