import { expect, test } from "./fixtures";
import { type Browser, type Page } from "@playwright/test";
import { addNote, redis, signIn, storedTokens, watchApi } from "./helpers";

/**
 * Moves the page's clock in 5-second steps until "Reconnecting…" is gone, and checks it
 * took at most `limitMs` of the page's time. (One jump would fire the retry timers once;
 * a retry that fails again waits for the page's clock, which then no longer moves.)
 */
async function reconnectsWithin(page: Page, limitMs: number) {
  let advanced = 0;
  await expect
    .poll(async () => {
      await page.clock.runFor(5_000);
      advanced += 5_000;
      return page.getByTestId("reconnecting").isHidden();
    })
    .toBe(true);
  expect(advanced).toBeLessThanOrEqual(limitMs);
}

test("an aborted refresh keeps the person signed in and retries", async ({ page }) => {
  await page.clock.install();
  await signIn(page);
  const before = await storedTokens(page);
  let aborted = 0;
  await page.route("**/api/v1/auth/refresh", (route) => {
    aborted++;
    return route.abort("internetdisconnected");
  });

  await page.clock.fastForward("26:00");
  await expect(page.getByTestId("reconnecting")).toBeVisible();
  expect(aborted).toBeGreaterThan(0);
  expect((await storedTokens(page))!.refresh_token).toBe(before!.refresh_token);
  await expect(page.getByTestId("user-email")).toBeVisible();

  await page.unroute("**/api/v1/auth/refresh");
  await reconnectsWithin(page, 60_000);
  expect((await storedTokens(page))!.refresh_token).not.toBe(before!.refresh_token);
  await addNote(page, "after the network came back");
});

test("thirty seconds without a network: no sign-out, no refresh storm", async ({ page }) => {
  await page.clock.install();
  await signIn(page);
  let attempts = 0;
  await page.route("**/api/v1/auth/refresh", (route) => {
    attempts++;
    return route.abort("connectionrefused");
  });
  await page.clock.fastForward("26:00");
  await expect(page.getByTestId("reconnecting")).toBeVisible();
  await page.clock.runFor(30_000);
  await expect(page.getByTestId("user-email")).toBeVisible();
  // Retries wait for the browser's refresh lock, which is granted in a task of its own:
  // wait for the one the moved clock started, then check the bound.
  await expect.poll(() => attempts).toBeGreaterThan(1);
  expect(attempts).toBeLessThanOrEqual(6); // bounded per minute
  expect(await storedTokens(page)).not.toBeNull();

  await page.unroute("**/api/v1/auth/refresh");
  // Back within a backoff (at most ~40 s) and a budget minute. A retry the moved clock
  // starts first waits for the lock, granted in a task of its own.
  await reconnectsWithin(page, 90_000);
  await addNote(page, "after thirty seconds offline");
});

test("the server's Redis stopping and starting again signs nobody out", async ({ page }) => {
  test.skip(!redis.available(), "needs the Redis started by ./scripts/test");
  await page.clock.install();
  await signIn(page);
  const before = await storedTokens(page);
  const api = watchApi(page);
  redis.stop();
  try {
    await page.clock.fastForward("26:00");
    await expect(page.getByTestId("reconnecting")).toBeVisible();
    await expect(page.getByTestId("user-email")).toBeVisible();
    expect(api.count("503 /api/v1/auth/refresh")).toBeGreaterThan(0);
  } finally {
    redis.start();
  }
  await expect.poll(async () => (await page.request.get("/healthz")).status()).toBe(200);
  // Back within a backoff (at most ~40 s of the page's time). A retry may still meet a
  // server thread whose Redis connection is coming back; its next attempt waits for the
  // page's clock again.
  await reconnectsWithin(page, 90_000);
  expect((await storedTokens(page))!.refresh_token).not.toBe(before!.refresh_token);
  await addNote(page, "after redis came back");
});

/** Signs in, rotates twice (the first token is then no longer even the previous one),
 * and opens a second browser holding a copy of the first token record, due at once. */
async function copyAfterTwoRotations(page: Page, browser: Browser) {
  await page.clock.install();
  await signIn(page);
  const stolen = (await storedTokens(page))!;
  for (let i = 0; i < 2; i++) {
    const current = (await storedTokens(page))!.refresh_token;
    await page.clock.fastForward("26:00");
    await expect.poll(async () => (await storedTokens(page))!.refresh_token).not.toBe(current);
  }
  const thief = await browser.newContext();
  const thiefPage = await thief.newPage();
  await thiefPage.goto("/login");
  await thiefPage.evaluate((tokens) => {
    localStorage.setItem(
      "stay-signed-in.tokens",
      JSON.stringify({ ...tokens, access_expires_at: 0, received_at: 0 }),
    );
  }, stolen);
  await thiefPage.goto("/");
  return { thief, thiefPage };
}

test("a copied token record is worthless without this browser's key, and the owner goes on", async ({
  page,
  browser,
}) => {
  const { thief, thiefPage } = await copyAfterTwoRotations(page, browser);
  // The copy cannot refresh: it is signed out there, and only there.
  await expect(thiefPage).toHaveURL(/\/login\?.*reason=invalid/);
  expect(await storedTokens(thiefPage)).toBeNull();
  await thief.close();

  // The owner's session goes on, refreshing as before.
  const api = watchApi(page);
  const before = (await storedTokens(page))!.refresh_token;
  await page.clock.fastForward("26:00");
  await expect.poll(async () => (await storedTokens(page))!.refresh_token).not.toBe(before);
  await addNote(page, "after the copy tried");
  expect(api.count("200 /api/v1/auth/refresh")).toBe(1);
  await page.goto("/sessions");
  await expect(page.getByTestId("sessions").locator("li").first()).toContainText("Key-bound");

  // The key the session is bound to cannot be taken out of this browser either.
  const exported = await page.evaluate(async () => {
    const db: IDBDatabase = await new Promise((resolve, reject) => {
      const open = indexedDB.open("stay-signed-in");
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const pair: CryptoKeyPair = await new Promise((resolve, reject) => {
      const get = db.transaction("keys").objectStore("keys").get("dpop");
      get.onsuccess = () => resolve(get.result);
      get.onerror = () => reject(get.error);
    });
    try {
      await crypto.subtle.exportKey("pkcs8", pair.privateKey);
      return "exported";
    } catch (error) {
      return `refused: ${(error as Error).name}; extractable=${pair.privateKey.extractable}`;
    }
  });
  expect(exported).toBe("refused: InvalidAccessError; extractable=false");
});

test("where a browser cannot keep a key, a replayed rotated-away token ends the session for both", async ({
  page,
  browser,
}) => {
  // No IndexedDB: the session is created unbound, and reuse detection guards it.
  await page.addInitScript(() => {
    Object.defineProperty(window, "indexedDB", { value: undefined, configurable: true });
  });
  const { thief, thiefPage } = await copyAfterTwoRotations(page, browser);
  await expect(thiefPage).toHaveURL(/\/login\?.*reason=reused/);
  await expect(thiefPage.getByTestId("end-reason")).toContainText("old sign-in token was used again");
  expect(await storedTokens(thiefPage)).toBeNull();

  // The owner's next call finds the session gone and says why.
  await page.getByLabel("New note").fill("after the theft");
  await page.getByRole("button", { name: "Add" }).click();
  await expect(page).toHaveURL(/\/login\?.*reason=reused/);
  await expect(page.getByTestId("end-reason")).toBeVisible();
  expect(await storedTokens(page)).toBeNull();
  await thief.close();
});

test("data that failed to load comes back by itself when the server does", async ({ page }) => {
  await signIn(page);
  await page.route("**/api/v1/me", (route) => route.abort("connectionrefused"));
  await page.reload();
  await expect(page.getByTestId("reconnecting")).toBeVisible();
  await expect(page.getByTestId("profile-error")).toContainText("still signed in");
  expect(await storedTokens(page)).not.toBeNull();

  await page.unroute("**/api/v1/me");
  await expect(page.getByTestId("reconnecting")).toBeHidden();
  await expect(page.getByTestId("user-email")).toBeVisible();
});
