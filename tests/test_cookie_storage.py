"""The session cookie is decrypted once per process and remembered: what it holds, when it
expires and what a forged cookie gets must be exactly what decrypting it every time gives."""

from __future__ import annotations

import json
import time

import pytest
from aiohttp.test_utils import make_mocked_request

from service.web import auth
from service.web.auth import SESSION_COOKIE, RememberingCookieStorage

pytestmark = pytest.mark.unit
KEY = b"k" * 32
MAX_AGE_SECONDS = 60


def cookie_of(storage: RememberingCookieStorage, data: dict) -> str:
    text = json.dumps({"created": int(time.time()), "session": data})
    return storage._fernet.encrypt(text.encode()).decode()


def request_with(cookie: str):
    return make_mocked_request("GET", "/", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})


async def test_each_request_gets_its_own_copy_of_what_the_cookie_holds():
    storage = RememberingCookieStorage(KEY, cookie_name=SESSION_COOKIE, max_age=MAX_AGE_SECONDS)
    cookie = cookie_of(storage, {"sid": "abc"})
    first = await storage.load_session(request_with(cookie))
    first["sid"] = "changed by a handler"
    second = await storage.load_session(request_with(cookie))
    assert second["sid"] == "abc" and not second.new


async def test_a_remembered_cookie_still_expires(monkeypatch):
    storage = RememberingCookieStorage(KEY, cookie_name=SESSION_COOKIE, max_age=MAX_AGE_SECONDS)
    cookie = cookie_of(storage, {"sid": "abc"})
    assert (await storage.load_session(request_with(cookie)))["sid"] == "abc"
    later = time.time() + MAX_AGE_SECONDS + 1
    monkeypatch.setattr(auth.time, "time", lambda: later)
    monkeypatch.setattr("cryptography.fernet.time.time", lambda: later)
    expired = await storage.load_session(request_with(cookie))
    assert expired.new and "sid" not in expired


async def test_a_forged_or_altered_cookie_is_no_session():
    storage = RememberingCookieStorage(KEY, cookie_name=SESSION_COOKIE, max_age=MAX_AGE_SECONDS)
    cookie = cookie_of(storage, {"sid": "abc"})
    await storage.load_session(request_with(cookie))
    altered = cookie[:-6] + ("A" if cookie[-6] != "A" else "B") + cookie[-5:]
    for forged in (altered, "not-a-cookie"):
        session = await storage.load_session(request_with(forged))
        assert session.new and "sid" not in session
    other_key = RememberingCookieStorage(b"o" * 32, cookie_name=SESSION_COOKIE)
    assert (await other_key.load_session(request_with(cookie))).new
