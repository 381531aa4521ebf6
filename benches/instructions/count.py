"""Instructions the server executes per request, counted by callgrind: exact and
repeatable whatever else the machine is doing, so two builds compare to the unit even
when their req/s do not (see scripts/instructions).

Usage: count.py PORT PATH_TO_CALLGRIND_OUT_PREFIX REQUESTS
Signs a person in through the dev outbox, warms up, zeroes the counters, sends
REQUESTS calls of `me` and then REQUESTS refreshes (each with the token the previous
one returned), dumping the counters after each run.
"""
import glob, http.client, json, re, subprocess, sys, time

port, prefix, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port)


def post(path, body, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    conn.request("POST", path, body=json.dumps(body), headers=headers)
    answer = conn.getresponse()
    data = answer.read()
    assert answer.status == 200, (path, answer.status, data)
    return json.loads(data)


def sign_in():
    email = "instructions@example.com"
    post("/api/v1/auth/magic-link", {"email": email})
    for _ in range(200):
        conn.request("GET", "/dev/outbox?to=" + email)
        outbox = json.loads(conn.getresponse().read())
        if outbox:
            return post("/api/v1/auth/verify", {"token": outbox[-1]["token"]})
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


pair = sign_in()
access, refresh = pair["access_token"], pair["refresh_token"]
for _ in range(200):  # warm-up: connections, caches, lazy statics
    post("/api/v1/me", {}, access)


def me_calls():
    for _ in range(count):
        post("/api/v1/me", {}, access)


def refreshes():
    global refresh
    for _ in range(count):
        refresh = post("/api/v1/auth/refresh", {"refresh_token": refresh})["refresh_token"]


for name, run in [("me", me_calls), ("refresh", refreshes)]:
    print(f"{name:<8} {counted(run) / count:>10.0f} instructions a request (server, user space)")
