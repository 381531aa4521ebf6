"""Instructions the server executes per request, counted by callgrind: exact and
repeatable whatever else the machine is doing, so two builds compare to the unit even
when their req/s do not (see scripts/instructions).

Usage: count.py PORT PATH_TO_CALLGRIND_OUT_PREFIX REQUESTS
Signs a person in through the dev outbox, warms up, zeroes the counters, sends
REQUESTS calls of `me` and then REQUESTS refreshes (each with the token the previous
one returned), dumping the counters after each run. Then the same refreshes of a bound
session (signed in with a DPoP proof; each refresh with a fresh ES256 proof, signed
here before the request): what binding costs the server. The server must run with
PUBLIC_URL=http://127.0.0.1:PORT (proofs name it).
"""
import base64, glob, http.client, json, re, subprocess, sys, time, uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

port, prefix, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DeviceKey:
    """A P-256 key signing DPoP proofs (RFC 9449) as the browser's WebCrypto does."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        numbers = self.key.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256",
                    "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}

    def proof(self, path):
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk}
        claims = {"htm": "POST", "htu": f"http://127.0.0.1:{port}{path}",
                  "iat": int(time.time()), "jti": str(uuid.uuid4())}
        signed = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        r, s = decode_dss_signature(self.key.sign(signed.encode(), ec.ECDSA(hashes.SHA256())))
        return signed + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def post(path, body, token=None, dpop=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    if dpop:
        headers["dpop"] = dpop.proof(path)
    conn.request("POST", path, body=json.dumps(body), headers=headers)
    answer = conn.getresponse()
    data = answer.read()
    assert answer.status == 200, (path, answer.status, data)
    return json.loads(data)


def sign_in(email, dpop=None):
    post("/api/v1/auth/magic-link", {"email": email})
    for _ in range(200):
        conn.request("GET", "/dev/outbox?to=" + email)
        outbox = json.loads(conn.getresponse().read())
        if outbox:
            return post("/api/v1/auth/verify", {"token": outbox[-1]["token"]}, dpop=dpop)
        time.sleep(0.05)
    raise SystemExit("no sign-in link arrived")


def counted(run):
    """Instructions of `run` alone: counters zeroed before, dumped after."""
    subprocess.run(["callgrind_control", "-z"], check=True, capture_output=True)
    run()
    before = set(glob.glob(prefix + "*"))
    subprocess.run(["callgrind_control", "-d"], check=True, capture_output=True)
    for _ in range(100):
        new = set(glob.glob(prefix + "*")) - before
        if new:
            time.sleep(0.5)
            text = open(new.pop()).read()
            return int(re.findall(r"^summary: (\d+)", text, re.M)[-1])
        time.sleep(0.1)
    raise SystemExit("callgrind wrote no dump")


pair = sign_in("instructions@example.com")
access, refresh = pair["access_token"], pair["refresh_token"]
device = DeviceKey()
bound_refresh = sign_in("bound@example.com", dpop=device)["refresh_token"]
for _ in range(200):  # warm-up: connections, caches, lazy statics
    post("/api/v1/me", {}, access)


def me_calls():
    for _ in range(count):
        post("/api/v1/me", {}, access)


def refreshes():
    global refresh
    for _ in range(count):
        refresh = post("/api/v1/auth/refresh", {"refresh_token": refresh})["refresh_token"]


def bound_refreshes():
    global bound_refresh
    for _ in range(count):
        bound_refresh = post("/api/v1/auth/refresh", {"refresh_token": bound_refresh},
                             dpop=device)["refresh_token"]


for name, run in [("me", me_calls), ("refresh", refreshes), ("bound refresh", bound_refreshes)]:
    print(f"{name:<14} {counted(run) / count:>10.0f} instructions a request (server, user space)")
