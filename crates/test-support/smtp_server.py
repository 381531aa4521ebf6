"""A real SMTP server for the tests (aiosmtpd): STARTTLS or implicit TLS (SMTPS), AUTH
PLAIN/LOGIN with one user, optionally a slow greeting. Each message it accepts is parsed
with Python's email package and printed to stdout as one JSON line:

    {"mail_from", "rcpt_tos", "tls", "login", "headers": {name: value},
     "parts": [{"content_type", "text"}]}

Started by tests/api/smtp.rs, which reads "ready" from stdout before using it.

    smtp_server.py --port N --cert C --key K --user U --password P
                   [--smtps] [--greeting-delay SECONDS]
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--smtps", action="store_true")
    parser.add_argument("--greeting-delay", type=float, default=0.0)
    args = parser.parse_args()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        valid = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == args.user.encode()
            and auth_data.password == args.password.encode()
        )
        # handled=False: aiosmtpd itself answers 535 to a refused login.
        return AuthResult(success=valid, handled=False, auth_data=auth_data)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            parts = [
                {"content_type": part.get_content_type(), "text": part.get_content()}
                for part in message.walk()
                if not part.is_multipart()
            ]
            print(
                json.dumps(
                    {
                        "mail_from": envelope.mail_from,
                        "rcpt_tos": envelope.rcpt_tos,
                        "tls": server.transport.get_extra_info("ssl_object") is not None,
                        "login": session.auth_data.login.decode() if session.authenticated else None,
                        "headers": {name: str(value) for name, value in message.items()},
                        "parts": parts,
                    }
                ),
                flush=True,
            )
            return "250 OK"

    class SlowSMTP(SMTP):
        """Says hello only after --greeting-delay (a slow mail server)."""

        async def _handle_client(self):
            await asyncio.sleep(args.greeting_delay)
            await super()._handle_client()

    class SlowController(Controller):
        def factory(self):
            return SlowSMTP(self.handler, **self.SMTP_kwargs)

    tls = {"ssl_context": context} if args.smtps else {"tls_context": context, "require_starttls": True}
    # Over SMTPS the session is TLS from the first byte; aiosmtpd cannot tell and warns.
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    warnings.filterwarnings("ignore", "Session.login_data is deprecated")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    controller = SlowController(
        Handler(),
        hostname="127.0.0.1",
        port=args.port,
        authenticator=authenticate,
        auth_required=True,
        # Over SMTPS the whole session is TLS already; with STARTTLS, AUTH waits for it.
        auth_require_tls=not args.smtps,
        ready_timeout=10,
        **tls,
    )
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or dies)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
