// Against the second server (12-second access tokens, real time): the server itself sees
// tokens expire, so these prove what page.clock cannot: lost replies, many tabs, slow
// answers, sleep, full storage and a slow first load, the way real networks go.
import { type BrowserContext, type Page } from "@playwright/test";
import { expect, test } from "../fixtures";
import { addNote, linkFor, ready, signIn, storedTokens, uniqueEmail, watchApi } from "../helpers";

const LIFETIME_MS = 12_000;
const REFRESH = "**/api/v1/auth/refresh";

/** Counts refresh requests sent by every page of `context`. */
function countRefreshes(context: BrowserContext) {
  let sent = 0;
  context.on("request", (request) => {
    if (new URL(request.url()).pathname === "/api/v1/auth/refresh") sent++;
  });
  return () => sent;
}

/**
 * Lets `ms` of real time pass: the scenario's duration (offline for 35 s, three
 * lifetimes, ...), not a wait for something to happen; those are polled for.
 */
async function live(page: Page, ms: number) {
  await page.waitForTimeout(ms);
}

/** A page signed in, on the dashboard; more tabs of the same browser adopt its tokens. */
async function openTab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto("/");
  await ready(page);
  await expect(page.getByTestId("user-email")).toBeVisible();
  return page;
}

test("a refresh whose reply is lost, then 35 s offline: still signed in when the network is back", async ({
  page,
  context,
}) => {
  await signIn(page);
  const api = watchApi(page);
  let lostPair: { refresh_token: string } | undefined;
  let lostStatus = 0;
  await page.route(REFRESH, async (route) => {
    if (lostPair) return route.continue();
    // The server answers (and rotates); the answer never reaches the page. The request
    // goes to the server from here, with the token the page is sending (Firefox over
    // BiDi cannot hand a route its request body, so `route.fetch` would send none).
    // The page's own DPoP proof goes with it: the session is bound to the page's key.
    const sent = (await storedTokens(page))!.refresh_token;
    const proof = (await route.request().allHeaders())["dpop"];
    const response = await page.request.post("/api/v1/auth/refresh", {
      data: { refresh_token: sent },
      headers: proof ? { DPoP: proof } : {},
    });
    lostStatus = response.status();
    lostPair = await response.json();
    await context.setOffline(true);
    await route.abort("internetdisconnected");
  });
  await expect.poll(() => lostPair, { timeout: LIFETIME_MS + 5_000 }).toBeTruthy();
  expect(lostStatus, "the refresh whose reply is lost worked on the server").toBe(200);
  await live(page, 35_000);

  const recovered = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/refresh") && r.ok());
  await context.setOffline(false);
  // Back online: the token the page still holds (the previous one) gets the successor.
  expect((await (await recovered).json()).refresh_token).toBe(lostPair!.refresh_token);
  await expect(page.getByTestId("reconnecting")).toBeHidden();
  await addNote(page, "after the lost reply");
  expect(api.count("401 /api/v1/auth/refresh")).toBe(0);
  await expect(page).not.toHaveURL(/\/login/);
});

test("three tabs for three lifetimes: about one refresh per lifetime for the whole browser", async ({
  page,
  context,
}) => {
  await signIn(page);
  const tabs = [page, await openTab(context), await openTab(context)];
  const refreshes = countRefreshes(context);
  await live(page, 3 * LIFETIME_MS);
  expect(refreshes()).toBeGreaterThanOrEqual(2);
  expect(refreshes()).toBeLessThanOrEqual(3 + 1);
  for (const [i, tab] of tabs.entries()) {
    await expect(tab.getByTestId("user-email")).toBeVisible();
    await addNote(tab, `tab ${i} after three lifetimes`);
  }
});

test("a tab closed while it holds the refresh lock does not block the others", async ({ page, context }) => {
  await signIn(page);
  const second = await openTab(context);
  const signedIn = (await storedTokens(page))!.refresh_token;
  let held: Page | undefined;
  await context.route(REFRESH, async (route) => {
    if (held) return route.continue();
    // The first refresh of the browser stalls; its tab goes away mid-request.
    held = route.request().frame().page();
    await held.close();
    await route.abort().catch(() => {});
  });
  await expect.poll(() => held, { timeout: LIFETIME_MS + 5_000 }).toBeTruthy();
  const survivor = held === page ? second : page;
  // The survivor refreshes by itself: the closed tab's lock went with it.
  await expect
    .poll(async () => (await storedTokens(survivor))?.refresh_token, { timeout: LIFETIME_MS + 10_000 })
    .not.toBe(signedIn);
  await live(survivor, LIFETIME_MS);
  await addNote(survivor, "the other tab carried on");
});

test("a tab reloaded in the middle of a refresh: every tab carries on", async ({ page, context }) => {
  await signIn(page);
  const second = await openTab(context);
  let reloaded = false;
  await context.route(REFRESH, async (route) => {
    if (reloaded) return route.continue();
    reloaded = true;
    const tab = route.request().frame().page();
    await tab.reload();
    await route.abort().catch(() => {});
  });
  await expect.poll(() => reloaded, { timeout: LIFETIME_MS + 5_000 }).toBe(true);
  await live(page, 2 * LIFETIME_MS);
  for (const [i, tab] of [page, second].entries()) {
    await ready(tab);
    await expect(tab.getByTestId("user-email")).toBeVisible();
    await addNote(tab, `tab ${i} after the reload`);
  }
});

test("a refresh answered 429 Retry-After 10 for 20 s: at most three attempts, no sign-out", async ({ page }) => {
  await signIn(page);
  const attempts: number[] = [];
  let limitedUntil = 0;
  await page.route(REFRESH, async (route) => {
    const now = Date.now();
    if (attempts.length === 0) limitedUntil = now + 20_000;
    if (now >= limitedUntil) return route.continue();
    attempts.push(now);
    await route.fulfill({
      status: 429,
      headers: { "Retry-After": "10", "Content-Type": "application/json" },
      body: JSON.stringify({ error: "rate_limited", retry_after: 10 }),
    });
  });
  const recovered = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/refresh") && r.ok(), {
    timeout: LIFETIME_MS + 40_000,
  });
  await recovered;
  expect(attempts.length).toBeGreaterThanOrEqual(1);
  expect(attempts.length).toBeLessThanOrEqual(3);
  for (let i = 1; i < attempts.length; i++) {
    expect(attempts[i] - attempts[i - 1]).toBeGreaterThanOrEqual(9_500);
  }
  await expect(page.getByTestId("user-email")).toBeVisible();
  await addNote(page, "after being rate limited");
});

test("with localStorage full, three lifetimes pass and the person is still signed in", async ({ page }) => {
  const email = uniqueEmail();
  await page.goto("/login");
  await ready(page);
  // Fill storage to the last byte: no write that adds anything can succeed.
  const filled = await page.evaluate(() => {
    let total = 0;
    for (let size = 1 << 20; size >= 1; size = Math.floor(size / 2)) {
      for (;;) {
        try {
          localStorage.setItem(`fill-${total}`, "x".repeat(size));
          total += size;
        } catch {
          break;
        }
      }
    }
    return total;
  });
  expect(filled).toBeGreaterThan(1_000_000);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.goto(await linkFor(page.request, email));
  await ready(page);
  await page.getByTestId("confirm-sign-in").click();
  await expect(page.getByTestId("user-email")).toHaveText(email);
  await expect(page.getByTestId("storage-notice")).toBeVisible();
  expect(await storedTokens(page)).toBeNull();

  const api = watchApi(page);
  await live(page, 3 * LIFETIME_MS);
  expect(api.refreshes()).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId("user-email")).toBeVisible();
  await addNote(page, "kept in this tab");
  expect(api.count("401 /api/v1/auth/refresh")).toBe(0);
});

/** The laptop sleeps for two hours: the clock jumps and no timer of the page fires. */
async function sleepTwoHours(page: Page) {
  await page.clock.pauseAt(Date.now() + 500);
  await page.clock.setSystemTime(Date.now() + 2 * 3600_000);
}

test("waking from sleep: the tab becoming visible refreshes before the next call", async ({ page }) => {
  await page.clock.install();
  await signIn(page);
  const api = watchApi(page);
  await sleepTwoHours(page);
  await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
  await expect.poll(() => api.refreshes()).toBe(1);
  await page.clock.resume();
  await addNote(page, "after waking up");
  expect(api.unauthorized()).toBe(0);
  const refreshed = api.events.indexOf("200 /api/v1/auth/refresh");
  expect(refreshed).toBeGreaterThanOrEqual(0);
  expect(refreshed).toBeLessThan(api.events.indexOf("request /api/v1/notes/add"));
});

test("waking from sleep with no event at all: the periodic check refreshes within seconds", async ({ page }) => {
  await page.clock.install();
  await signIn(page);
  const api = watchApi(page);
  await sleepTwoHours(page);
  // Five seconds after waking (less than the refresh timer's remaining delay): the
  // periodic check of a visible tab has noticed the stale token.
  await page.clock.runFor(5_000);
  await expect.poll(() => api.refreshes()).toBeGreaterThanOrEqual(1);
  await page.clock.resume();
  await addNote(page, "after waking up quietly");
  expect(api.unauthorized()).toBe(0);
});

test("typing before the app has loaded: Enter still sends the link, and the link's button waits until it works", async ({
  page,
}) => {
  const email = uniqueEmail();
  const holdBundle = async (route: import("@playwright/test").Route) => {
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await route.continue();
  };
  await page.route("**/pkg/**", holdBundle);
  await page.goto("/login", { waitUntil: "commit" });
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Email address").press("Enter");
  await expect(page.getByTestId("check-email")).toBeVisible();
  const link = await linkFor(page.request, email);

  await page.goto(link, { waitUntil: "commit" });
  const button = page.getByTestId("confirm-sign-in");
  await expect(button).toBeDisabled();
  await expect(button).toBeEnabled({ timeout: 15_000 });
  await button.click();
  await expect(page.getByTestId("user-email")).toHaveText(email);
});
