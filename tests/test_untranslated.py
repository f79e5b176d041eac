"""Nothing shown to people is left out of the catalogues (docs/translating.md): every
template's text, every message the Python code shows, and none in the scripts, which take
their words from the page.

The checks read the sources, so they fail on a string no test happens to render: a
template's text between its tags and in the attributes people read or hear (alt, title,
placeholder, aria-label), prose passed to a macro or filter, and in Python any string that
reads as a sentence in the modules whose text reaches people. `test_languages.py` then
makes sure each marked string has its translation.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from service.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates"
SERVICE = PROJECT_ROOT / "service"
SCRIPTS = SERVICE / "static"

# Words that are the same in every language: the product's name.
NAMES = {"Snapline"}
_WORD = re.compile(r"[A-Za-z]{2,}")
_ENTITY = re.compile(r"&#?\w+;")
GETTEXT_NAMES = {"_", "gettext", "ngettext", "pgettext", "lazy_gettext", "npgettext", "N_"}


def _words(text: str) -> list[str]:
    return [word for word in _WORD.findall(_ENTITY.sub(" ", text)) if word not in NAMES]


# --- templates ------------------------------------------------------------------------------

# Attributes whose values people read or hear.
READ_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "aria-description", "label"}
# Stands for whatever a `{{ … }}` prints: never text of the template's own.
_PRINTED = "\ue000"


def _skeleton(node: nodes.Node, out: list[str]) -> None:
    """The template's literal markup, every branch of it, with each printed value a mark
    (a `{% trans %}` block prints its message, so its words are not literal markup)."""
    if isinstance(node, nodes.TemplateData):
        out.append(node.data)
        return
    if isinstance(node, nodes.Output):
        for child in node.nodes:
            out.append(child.data if isinstance(child, nodes.TemplateData) else _PRINTED)
        return
    for child in node.iter_child_nodes():
        _skeleton(child, out)


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[str] = []
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._in_code += 1
        kind = dict(attrs).get("type")
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and kind in ("submit", "button")
            )
            if read and value and _words(value.replace(_PRINTED, " ")):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in_code = max(0, self._in_code - 1)

    def handle_data(self, data: str) -> None:
        if not self._in_code and _words(data.replace(_PRINTED, " ")):
            self.found.append(" ".join(data.replace(_PRINTED, "…").split()))


def _prose_constants(node: nodes.Node) -> Iterator[str]:
    """Text in a template's expressions (a macro's label, a default) outside `_()`: a
    string with a capital letter, or with a space between words, is meant for people."""
    if (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name in GETTEXT_NAMES
    ):
        return
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        text = node.value.strip()
        if _words(text) and (re.match(r"[A-Z][a-z]", text) or re.search(r"[a-z] [a-z]", text)):
            yield text
    for child in node.iter_child_nodes():
        yield from _prose_constants(child)


def untranslated_in_template(source: str) -> list[str]:
    tree = Environment(extensions=["jinja2.ext.i18n"]).parse(source)
    parts: list[str] = []
    _skeleton(tree, parts)
    finder = _TextFinder()
    finder.feed("".join(parts))
    finder.close()
    return finder.found + [f"{{{{ {text!r} }}}}" for text in _prose_constants(tree)]


# --- Python ------------------------------------------------------------------------------------

# Where the text people see is written: pages' handlers, forms, the commands' refusals and
# the APIs' messages. Everything else (settings, the command line, SQL, logs) is for those
# who run the server and stays English.
USER_FACING = (
    "views",
    "web",
    "handlers",
    "domain",
    "api",
    "mastodon",
    "oauth",
    "workers/mail.py",
    "workers/media/images.py",
    "text.py",
    "discovery.py",
)
# Modules in those places whose strings are protocol, not prose.
PROTOCOL_MODULES = {"web/headers.py", "web/cors.py", "api/openapi.py"}
# Calls whose string arguments are never shown to people.
_SILENT_CALLS = {
    "debug", "info", "warning", "error", "exception", "critical", "log",  # logging
    "text", "execute", "fetch", "fetchrow", "fetchval",  # SQL
    "compile", "match", "search", "sub", "fullmatch",  # regular expressions
    "RuntimeError", "ValueError", "TypeError", "KeyError", "AssertionError",
}  # fmt: skip
# English on purpose, with the reason (docs/translating.md says which and why).
ENGLISH_ON_PURPOSE: dict[str, str] = {
    # RFC 6749 allows only ASCII in error_description: apps word it for their users.
    "oauth/tokens.py": "OAuth token endpoint errors (RFC 6749: ASCII only)",
    "oauth/authorize.py": "OAuth redirect errors (RFC 6749: ASCII only)",
    "oauth/common.py": "redirect URI validation, read by app developers",
    "oauth/apps.py": "app registration validation, read by app developers",
    "domain/oauth.py": "OAuth token endpoint errors (RFC 6749: ASCII only)",
}


def _reads_as_a_sentence(text: str) -> bool:
    text = text.strip()
    return (
        re.match(r"(?:[A-Z][a-z]|[@#]\{\})", text) is not None
        and " " in text
        and len(_words(text)) >= 2
        and not re.search(r"[;=<>]|://", text)
    )


class _SentenceFinder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
        if name in GETTEXT_NAMES or name in _SILENT_CALLS:
            return
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if not isinstance(node.value, ast.Constant):  # a docstring
            self.generic_visit(node)

    def _check(self, text: str, line: int) -> None:
        if _reads_as_a_sentence(text):
            self.found.append(f"line {line}: {text!r}")
        elif re.search(r"<[a-z][a-z0-9]*[\s>/]|^\s*[\w-]+=\"", text):  # markup built in Python
            markup = text.replace("{}", _PRINTED)
            if re.match(r"\s*[\w-]+=\"", markup):  # a tag's attributes, the tag's name aside
                markup = f"<span {markup}{'' if '>' in markup else '>'}"
            finder = _TextFinder()
            finder.feed(markup)
            finder.close()
            self.found.extend(f"line {line}: {words}" for words in finder.found)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            self._check(node.value, node.lineno)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        # `make messages` reads no f-string's insides: a message marked there never reaches
        # the catalogue.
        for inner in ast.walk(node):
            function = getattr(inner, "func", None)
            if getattr(function, "id", None) in GETTEXT_NAMES:
                self.found.append(f"line {node.lineno}: a message marked inside an f-string")
        text = "".join(
            part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
        self._check(text, node.lineno)


def untranslated_in_python(source: str) -> list[str]:
    finder = _SentenceFinder()
    finder.visit(ast.parse(source))
    return finder.found


# --- scripts -----------------------------------------------------------------------------------

_SCRIPT_STRING = re.compile(r"""(["'`])((?:\\.|(?!\1).)*)\1""")


def untranslated_in_script(source: str) -> list[str]:
    """A script's string literals that are words for people (it reads them from the page's
    markup instead, where the template translates them): a capital letter then lower case
    and a space, or a space-led fragment glued to other text."""
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        if line.strip().startswith("//"):
            continue
        for _quote, text in _SCRIPT_STRING.findall(line):
            capitalised = re.match(r"\s*[A-Z][a-z]+(?: |$)", text) is not None
            sentence = capitalised and (" " in text.strip() or text != text.strip())
            glued = re.fullmatch(r" [a-z]+(?: [a-z]+)* ?", text) is not None  # " of "
            if sentence or glued:
                found.append(f"line {number}: {text!r}")
    return found


# --- the sources -------------------------------------------------------------------------------


def _sources() -> Iterator[tuple[str, Path]]:
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix in (".html", ".txt"):
            yield "template", path
    for path in sorted(SERVICE.rglob("*.py")):
        module = path.relative_to(SERVICE).as_posix()
        shown = module.startswith(USER_FACING) and module not in PROTOCOL_MODULES
        if shown and module not in ENGLISH_ON_PURPOSE:
            yield "python", path
    for path in sorted(SCRIPTS.glob("*.js")):
        yield "script", path


_CHECKS = {
    "template": untranslated_in_template,
    "python": untranslated_in_python,
    "script": untranslated_in_script,
}


def _name(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def _cases() -> Iterator[object]:
    for kind, path in _sources():
        yield pytest.param(kind, path, id=_name(path))


@pytest.mark.parametrize(("kind", "path"), list(_cases()))
def test_every_string_shown_to_people_is_marked_for_translation(kind: str, path: Path) -> None:
    found = _CHECKS[kind](path.read_text(encoding="utf-8"))
    assert not found, f"{_name(path)} shows text not marked for translation:\n" + "\n".join(found)


# --- the checks themselves ---------------------------------------------------------------------


def test_the_template_check_finds_text_between_tags_and_in_read_attributes() -> None:
    assert untranslated_in_template("<p>Hello</p>") == ["Hello"]
    assert untranslated_in_template('<img alt="A photo" src="{{ x }}">')
    assert untranslated_in_template('<button aria-label="Close">{{ icon("x") }}</button>')
    assert untranslated_in_template('{{ field("bio", "Your bio", form) }}') == ["{{ 'Your bio' }}"]
    assert untranslated_in_template("{% if a %}<b>Yes</b>{% else %}{{ _('No') }}{% endif %}")
    # Marked text, values, markup and the product's name are not prose to translate.
    assert not untranslated_in_template(
        '<p class="card-body">{{ _("Hello %(name)s", name=user.name) }}</p>'
        "{% trans n=3 %}<b>{{ n }}</b> posts{% endtrans %}"
        '<a href="{{ url(\'home\') }}" data-x="some value">Snapline</a> &middot; {{ x }}'
        '{{ field("username", _("Username"), form, type="email") }}'
    )


def test_the_python_check_finds_sentences_outside_gettext() -> None:
    assert untranslated_in_python('flash(request, "The rule is saved.")')
    assert untranslated_in_python('message = f"You follow #{tag}: its posts come home."')
    assert untranslated_in_python("""html = '<button aria-label="Next photo">' + icon""")
    assert untranslated_in_python("""html = f'<span class="hint">Show the photos</span>{x}'""")
    assert untranslated_in_python("""html = f'<span>{escape(gettext("Show the photos"))}</span>'""")
    assert not untranslated_in_python(
        '"""A docstring."""\n'
        'flash(request, _("The rule is saved."))\n'
        'LABEL = lazy_gettext("Harassment or abuse")\n'
        'log.info("Mail sent to %s", who)\n'
        'await conn.execute(text("SELECT id FROM users"))\n'
        'headers = {"Cache-Control": "public, max-age=60"}\n'
        'kind = "photo_post"\n'
    )


def test_the_script_check_finds_words_in_string_literals() -> None:
    assert untranslated_in_script('status.textContent = "Link copied";')
    assert untranslated_in_script('label = "Photo " + n + " of " + total;')
    assert not untranslated_in_script(
        'button.dataset.copied; if (event.key === "Escape") {}\n'
        'element.querySelector(".card-actions button");\n'
        "// A comment with Words In It\n"
    )
