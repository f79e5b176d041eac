"""The running service against its own OpenAPI document, with schemathesis.

The document is fetched from the app served on a loopback port (tests/test_fuzz.py's
``Served``) and loaded by schemathesis, which generates requests for every operation in
it, valid ones and invalid ones: anonymously, signed in with the session cookie and its
CSRF token, and with a personal access token of the same person. Every answer must be no
5xx, of a status and content type the document lists for the operation, with a body and
headers its schemas allow. A difference is a bug in the document or in the service:
tests/test_openapi.py says which routes the document must describe, this says that it
describes what they answer.

Path parameters name, half of the time, what exists: the signed-in person and someone else,
a post and a comment of each (made afresh for every operation, since some delete them), so
successful answers are checked as well as refusals. Uploads carry real photos now and then.
``HYPOTHESIS_PROFILE=fuzz`` (``make fuzz``) runs many more examples than the bounded default
of ``make test``."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.db import make_sessionmaker
from service.domain import oauth
from service.openapi import BASE_PATH, DOCUMENT
from service.settings import Settings
from tests.conftest import Factory
from tests.test_fuzz import STEP_TIMEOUT_SECONDS, Served

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Examples per operation and way of asking: some 25 operations, three ways, in about 20 s
# here.
MAX_EXAMPLES = {"default": 12, "fuzz": 200}[os.environ.get("HYPOTHESIS_PROFILE", "default")]
EXAMPLES = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# The personal access token's scopes: every scope this API's operations ask for.
TOKEN_SCOPES = frozenset({"read", "write", "follow"})
STREAM = "/stream"
PHOTO_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}


def _photo(image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 80, 40)).save(buffer, image_format)
    return buffer.getvalue()


# A part declared as a photo carries a photo of its type, or bytes that are no photo.
for _media_type, _format in PHOTO_FORMATS.items():
    schemathesis.openapi.media_type(
        _media_type, st.one_of(st.just(_photo(_format)), st.binary(max_size=64))
    )


class Conformance(Served):
    """The served app, with a personal access token for its signed-in user."""

    async def _start(self) -> None:
        await super()._start()
        self.factory = Factory(make_sessionmaker(self.engine), self.settings)
        self.user = self.accounts["user"]
        async with self.factory.sessionmaker.begin() as session:
            issued = await oauth.personal_token(session, self.user.id, "conformance", TOKEN_SCOPES)
        self.bearer = issued.token

    async def existing(self) -> dict[str, list[Any]]:
        """What path parameters may name: the user and a new someone else, each with a post
        and a comment on the other's, mentioning them; and the tag the posts carry."""
        other = await self.factory.user()
        own_post = await self.factory.post(self.user, f"mine #Conformance @{other.username}")
        their_post = await self.factory.post(other, "theirs #conformance #咖啡")
        own_comment = await self.factory.comment(
            self.user, their_post, f"@{other.username} #conformance"
        )
        their_comment = await self.factory.comment(other, own_post)
        return {
            "id": [own_post, their_post, own_comment, their_comment],
            "username": [self.user.username, other.username],
            "tag": ["conformance", "CONFORMANCE", "咖啡"],
        }


@pytest.fixture(scope="module")
def served(base_settings: Settings):
    # Bearer requests are rate limited per token: not what is checked here.
    server = Conformance(
        base_settings.replace(
            security={"api_requests_per_token": 1_000_000, "api_requests_per_address": 1_000_000}
        )
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(served: Conformance):
    """The document as the service serves it, loaded by schemathesis."""
    return schemathesis.openapi.from_url(
        f"http://127.0.0.1:{served.port}{BASE_PATH}/openapi.json",
        config=schemathesis.Config.from_dict(
            {
                "request-timeout": STEP_TIMEOUT_SECONDS,
                # Each test signs in its own way: no made-up cookies or tokens on top.
                "generation": {"with-security-parameters": False},
            }
        ),
    )


def _operations() -> list[Any]:
    """Every operation the document describes, known at collection."""
    return [
        pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method != "parameters"
    ]


OPERATIONS = _operations()
# The live stream answers a session for as long as the session lasts: with one, its status
# and headers are checked in tests/test_live.py, not by waiting for its end here.
WITHOUT_THE_STREAM = [operation for operation in OPERATIONS if operation.values[1] != STREAM]


def cases(operation: APIOperation, existing: dict[str, list[Any]]) -> st.SearchStrategy[Case]:
    """Valid and invalid requests; half of them with each path parameter, and each id or
    username in a JSON body, naming what exists."""
    names = [parameter.name for parameter in operation.path_parameters]
    named = st.fixed_dictionaries({name: st.sampled_from(existing[name]) for name in names})
    naming_existing = named.flatmap(
        lambda path: st.one_of(
            operation.as_strategy(generation_mode=mode, path_parameters=path)
            for mode in GenerationMode
        )
    )
    in_body = st.fixed_dictionaries({key: st.sampled_from(existing[key]) for key in existing})
    return st.one_of(
        st.one_of(operation.as_strategy(generation_mode=mode) for mode in GenerationMode),
        st.tuples(naming_existing, in_body).map(_body_naming),
    )


# Body fields that name something, and what they may name.
BODY_NAMES = {"post_id": "id", "comment_id": "id", "username": "username"}


def _body_naming(drawn: tuple[Case, dict[str, Any]]) -> Case:
    case, existing = drawn
    if isinstance(case.body, dict):
        for field, kind in BODY_NAMES.items():
            if field in case.body:
                case.body[field] = existing[kind]
    return case


def conforms(
    served: Conformance, api: BaseSchema, method: str, path: str, headers: dict[str, str]
) -> None:
    operation = api[path][method]
    existing = served.run(served.existing())

    @EXAMPLES
    @given(case=cases(operation, existing))
    def answers_as_documented(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_as_documented()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_anonymously(served: Conformance, api, method: str, path: str):
    conforms(served, api, method, path, {})


@pytest.mark.parametrize(("method", "path"), WITHOUT_THE_STREAM)
def test_with_the_session(served: Conformance, api, method: str, path: str):
    session = served.identities["user"]
    conforms(served, api, method, path, {"Cookie": session.cookie, "X-CSRF-Token": session.token})


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_with_a_token(served: Conformance, api, method: str, path: str):
    conforms(served, api, method, path, {"Authorization": f"Bearer {served.bearer}"})
