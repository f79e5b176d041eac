"""The import graph of service/: every module imports only its own layer or the ones below,
the HTTP plumbing imports no domain, and no two packages import each other, directly or
round a longer circle. Read from the source with `ast`, so an import inside a function or
under TYPE_CHECKING counts as much as one at the top of a module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SERVICE = Path(__file__).resolve().parent.parent / "service"

# Low to high (docs/architecture.md). A unit is a top-level module or package of service/;
# a new one must be given its layer here.
BASE, DB, STORAGE, READS, DOMAIN, WORKERS, PLUMBING, HANDLERS, APP = range(9)
LAYERS = {
    "service": BASE,
    "service.backoff": BASE,
    "service.cursor": BASE,
    "service.discovery": BASE,
    "service.embedded_pg": BASE,
    "service.events": BASE,
    "service.i18n": BASE,
    "service.identicon": BASE,
    "service.keys": BASE,
    "service.migrate": BASE,
    "service.models": BASE,
    "service.observability": BASE,
    "service.scopes": BASE,
    "service.security": BASE,
    "service.settings": BASE,
    "service.text": BASE,
    "service.db": DB,
    "service.storage": STORAGE,
    "service.reads": READS,
    "service.domain": DOMAIN,
    "service.housekeeping": WORKERS,
    "service.workers": WORKERS,
    "service.web": PLUMBING,
    "service.api": HANDLERS,
    "service.mastodon": HANDLERS,
    "service.live": WORKERS,
    "service.handlers": HANDLERS,
    "service.oauth": HANDLERS,
    "service.openapi": HANDLERS,
    "service.views": HANDLERS,
    "service.__main__": APP,
    "service.admin": APP,
    "service.app": APP,
    "service.ops": APP,
    "service.routemap": APP,
    "service.routes": APP,
    "service.seed": APP,
}
# Imports that the layers allow by number but the design does not: plumbing is plumbing.
FORBIDDEN = {("service.web", "service.domain")}


def module_name(path: Path) -> str:
    parts = path.relative_to(SERVICE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(SERVICE.rglob("*.py"))}


def unit_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def imported(module: str) -> set[str]:
    """The service modules ``module`` imports (``from a import b`` names ``a.b`` when that is a
    module, else ``a``)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name in MODULES}


EDGES = {(module, target) for module in MODULES for target in imported(module)}


def test_every_unit_of_service_has_a_layer() -> None:
    assert sorted({unit_of(module) for module in MODULES} - LAYERS.keys()) == []


def test_no_import_runs_up_a_layer_or_across_a_forbidden_line() -> None:
    wrong = {
        (module, target)
        for module, target in EDGES
        if LAYERS[unit_of(module)] < LAYERS[unit_of(target)]
        or (unit_of(module), unit_of(target)) in FORBIDDEN
    }
    assert sorted(wrong) == []


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    successors: dict[str, set[str]] = {}
    for source, target in edges:
        successors.setdefault(source, set()).add(target)
        successors.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(successors[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(successors):
        if node not in index:
            visit(node)
    return found


def test_no_two_packages_import_each_other() -> None:
    between = {(unit_of(a), unit_of(b)) for a, b in EDGES if unit_of(a) != unit_of(b)}
    assert cycles(between) == []


def test_the_checks_see_what_they_check() -> None:
    # Circles are found, and imports of every form (a module named in ``from a import b``,
    # an import inside a function) are seen, so the tests above pass because the code is
    # right, not because the parsing missed something.
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]
    assert ("service.views.posts", "service.handlers.posting") in EDGES
    assert ("service.domain.posts", "service.storage.queue") in EDGES
    assert ("service.app", "service.workers.media.context") in EDGES
    assert ("service.ops.users", "service.workers.media.jobs") in EDGES  # inside a function
