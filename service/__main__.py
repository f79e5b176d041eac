"""Command line: ``python -m service [--settings PATH] serve|migrate|create-admin|seed``."""

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
from collections.abc import Iterator
from pathlib import Path

from aiohttp import web

from service import migrate
from service.settings import Settings, SettingsError, load_settings

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
        server.stop()


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
    with database(settings) as ready:
        if not args.no_migrate:
            migrate.upgrade(ready.database.url)
        app = create_app(ready)
        where = args.unix or f"http://{args.host or server.host}:{args.port or server.port}"
        log.info("serving on %s", where)
        listen: dict[str, object] = (
            {"sock": unix_socket(args.unix)}
            if args.unix
            else {"host": args.host or server.host, "port": args.port or server.port}
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


def command_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    password = os.environ.get("SNAPLINE_ADMIN_PASSWORD") or (
        sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    )
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
                seed(ready.database.url, args.users, args.posts, ready.security, args.seed)
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m service", description="Snapline")
    root.add_argument(
        "--settings", help="settings file (default: $SNAPLINE_SETTINGS or settings.toml)"
    )
    commands = root.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the web service (the default)")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--unix", help="listen on this unix socket instead of TCP")
    serve.set_defaults(handler=command_serve)
    commands.add_parser("migrate", help="apply pending migrations").set_defaults(
        handler=command_migrate
    )
    admin = commands.add_parser("create-admin", help="create an admin account (or promote one)")
    admin.add_argument("username")
    admin.add_argument("email")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    admin.set_defaults(handler=command_create_admin)
    seed = commands.add_parser("seed", help="fill an empty database with demo data")
    seed.add_argument("--users", type=int, default=100, help="accounts to create (default 100)")
    seed.add_argument("--posts", type=int, default=1000, help="posts to create (default 1000)")
    seed.add_argument("--seed", type=int, help="random seed, for the same data again")
    seed.set_defaults(handler=command_seed)
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
    return args.handler(settings, args)


if __name__ == "__main__":
    sys.exit(main())
