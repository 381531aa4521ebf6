// The deployment of the README, tried with a browser: nginx (deploy/nginx.conf) with TLS
// and HTTP/2 in front of two app servers on one Redis (scripts/e2e-proxy starts them).
import https from "node:https";
import { expect, test } from "../fixtures";
import { addNote, ready, signIn, spoilAccessToken, storedTokens, watchApi } from "../helpers";

test("sign in, refresh and sign out over https, spread over two servers", async ({ page }) => {
  const email = await signIn(page);
  const protocol = await page.evaluate(
    () => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).nextHopProtocol,
  );
  expect(protocol).toBe("h2");

  // A rejected access token: one refresh, the call retried, nobody signed out.
  await spoilAccessToken(page);
  const api = watchApi(page);
  await addNote(page, "through the proxy");
  expect(api.refreshes()).toBe(1);
  await page.reload();
  await ready(page);
  await expect(page.getByTestId("user-email")).toHaveText(email);

  const tokens = await storedTokens(page);
  await page.getByTestId("sign-out").click();
  await expect(page.getByRole("link", { name: "Sign in with email" })).toBeVisible();
  expect(await storedTokens(page)).toBeNull();
  // Ended on the server for both instances (they share Redis).
  for (let n = 0; n < 2; n++) {
    const refresh = await page.request.post("/api/v1/auth/refresh", {
      data: { refresh_token: tokens!.refresh_token },
    });
    expect(await refresh.json()).toEqual({ error: "session_ended", reason: "revoked" });
  }
});

test("the bundle arrives compressed and cacheable for good", async ({ page }) => {
  const bundle = page.waitForResponse((response) => /\/pkg\/.*\.wasm$/.test(new URL(response.url()).pathname));
  await page.goto("/login");
  const wasm = await bundle;
  const headers = await wasm.allHeaders();
  expect(["br", "gzip"]).toContain(headers["content-encoding"]);
  // Hashed names (hash-files) never change content.
  expect(new URL(wasm.url()).pathname).toMatch(/\/pkg\/stay-signed-in\.[A-Za-z0-9_-]{22}\.wasm$/);
  expect(headers["cache-control"]).toBe("public, max-age=31536000, immutable");
  await ready(page);
});

test("the app's security headers reach the browser", async ({ page }) => {
  const response = await page.goto("/login");
  const headers = response!.headers();
  expect(headers["content-security-policy"]).toMatch(/script-src 'nonce-[^']+' 'strict-dynamic'/);
  expect(headers["strict-transport-security"]).toContain("max-age=");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("no-referrer");
  expect(headers["cache-control"]).toBe("no-store");
  await ready(page); // the CSP lets the page hydrate (and the fixture saw no violation)
});

/** A link request sent from `localAddress` (another loopback address: another client),
 * claiming to come from `forgedFor`; resolves to the HTTP status. */
function linkRequestFrom(localAddress: string, forgedFor: string): Promise<number> {
  const url = new URL("/api/v1/auth/magic-link", process.env.E2E_PROXY_URL);
  const body = JSON.stringify({ email: `${localAddress}-${forgedFor}@example.com` });
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: "POST",
        localAddress,
        headers: { "content-type": "application/json", "x-forwarded-for": forgedFor },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode!);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

test("rate limits count each real client, whatever it claims to forward", async () => {
  // The servers allow 6 sign-in requests per client address (PROXY_RATE_LIMIT_IP).
  const statuses: number[] = [];
  for (let n = 0; n < 7; n++) statuses.push(await linkRequestFrom("127.0.0.3", `198.51.100.${n}`));
  expect(statuses.slice(0, 6)).toEqual([200, 200, 200, 200, 200, 200]);
  expect(statuses[6]).toBe(429);
  // Another client behind the same proxy is not affected.
  expect(await linkRequestFrom("127.0.0.4", "198.51.100.0")).toBe(200);
});
