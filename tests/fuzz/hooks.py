"""Schemathesis hooks for ./scripts/test: a real bearer token for the protected calls.

The fuzzed server runs in development, so a sign-in link can be read from its dev
outbox. Each token comes from a real sign-in (link requested, read, verified); a new one
is fetched when a call answers 401, since fuzzing `logout-all` ends the session.
"""

import os
import time

import requests
import schemathesis

BASE_URL = os.environ["FUZZ_BASE_URL"]
EMAIL = "fuzz@example.com"


def outbox():
    """The emails the dev outbox holds for EMAIL, oldest first."""
    return requests.get(f"{BASE_URL}/dev/outbox", params={"to": EMAIL}, timeout=10).json()


@schemathesis.auth(retry_on=[401])
class SignedIn:
    """Signs in through the magic-link flow and hands out the access token."""

    def get(self, case, context):
        api = f"{BASE_URL}/api/v1"
        sent = len(outbox())
        requests.post(f"{api}/auth/magic-link", json={"email": EMAIL}, timeout=10).raise_for_status()
        deadline = time.monotonic() + 10
        while len(messages := outbox()) <= sent:  # delivery runs in the background
            assert time.monotonic() < deadline, "no sign-in email in the dev outbox"
            time.sleep(0.02)
        verified = requests.post(f"{api}/auth/verify", json={"token": messages[-1]["token"]}, timeout=10)
        verified.raise_for_status()
        return verified.json()["access_token"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
