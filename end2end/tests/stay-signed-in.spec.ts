import { expect, test } from "./fixtures";
import {
  addNote,
  ready,
  serverNotes,
  signIn,
  spoilAccessToken,
  storedTokens,
  watchApi,
} from "./helpers";

test("refreshes before expiry at the default 30-minute lifetime, once, without 401s", async ({ page }) => {
  await page.clock.install();
  await signIn(page);
  const before = await storedTokens(page);
  const lifetime = before!.access_expires_at - before!.received_at;
  expect(lifetime).toBeGreaterThan(29 * 60_000); // the default, not a test value
  const api = watchApi(page);

  await page.clock.fastForward("26:00");
  await addNote(page, "written after 26 minutes");

  await expect.poll(() => api.refreshes()).toBe(1);
  expect(api.unauthorized()).toBe(0);
  // The refresh came before the protected call.
  const refreshed = api.events.indexOf("200 /api/v1/auth/refresh");
  const added = api.events.indexOf("request /api/v1/notes/add");
  expect(refreshed).toBeGreaterThanOrEqual(0);
  expect(refreshed).toBeLessThan(added);
  const after = await storedTokens(page);
  expect(after!.refresh_token).not.toBe(before!.refresh_token);
  expect(after!.access_token).not.toBe(before!.access_token);

  // No loop: more time inside the new token's life brings no second refresh.
  await page.clock.runFor(3 * 60_000);
  await addNote(page, "three minutes later");
  expect(api.refreshes()).toBe(1);
  expect(api.unauthorized()).toBe(0);
});

test("a rejected access token is refreshed once and the call retried once", async ({ page }) => {
  await signIn(page);
  await spoilAccessToken(page);
  const api = watchApi(page);

  await addNote(page, "survives a 401");

  expect(api.count("401 /api/v1/notes/add")).toBe(1);
  expect(api.refreshes()).toBe(1);
  expect(api.count("200 /api/v1/notes/add")).toBe(1);
  const tokens = await storedTokens(page);
  const notes = await serverNotes(page.request, tokens!.access_token);
  expect(notes.filter((n) => n.text === "survives a 401")).toHaveLength(1);
});

test("ten simultaneous calls with a rejected token share one refresh", async ({ page }) => {
  await signIn(page);
  await spoilAccessToken(page);
  const api = watchApi(page);

  const succeeded = await page.evaluate(async () => {
    // The bundle the page loaded (its name carries a content hash).
    const href = document.querySelector<HTMLLinkElement>('link[rel="modulepreload"]')!.href;
    const bundle = await import(href);
    return bundle.probeProtectedCalls(10);
  });

  expect(succeeded).toBe(10);
  // Ten rejected calls waited for one shared refresh, then each retried once.
  expect(api.count("401 /api/v1/me")).toBe(10);
  expect(api.refreshes()).toBe(1);
  expect(api.count("200 /api/v1/me")).toBe(10);
});

test("sign-out clears storage, kills the tokens, and signs out other tabs", async ({ page, context }) => {
  await signIn(page);
  const other = await context.newPage();
  await other.goto("/");
  await ready(other);
  await expect(other.getByTestId("user-email")).toBeVisible();
  const tokens = await storedTokens(page);

  await page.getByTestId("sign-out").click();

  await expect(page.getByRole("link", { name: "Sign in with email" })).toBeVisible();
  expect(await storedTokens(page)).toBeNull();
  await expect(other.getByRole("link", { name: "Sign in with email" })).toBeVisible({ timeout: 1_000 });
  expect(await storedTokens(other)).toBeNull();

  const me = await page.request.post("/api/v1/me", {
    headers: { Authorization: `Bearer ${tokens!.access_token}` },
    data: {},
  });
  expect(me.status()).toBe(401);
  const refresh = await page.request.post("/api/v1/auth/refresh", {
    data: { refresh_token: tokens!.refresh_token },
  });
  expect(refresh.status()).toBe(401);
  expect(await refresh.json()).toEqual({ error: "session_ended", reason: "revoked" });
});

test("a tab that never hears the storage event follows sign-in and sign-out over the tab channel", async ({
  page,
  context,
}) => {
  // WebKit tabs have missed the storage event or read stale storage after another tab
  // wrote (WebKit bug 225344); here one tab never hears it at all.
  const deaf = await context.newPage();
  await deaf.addInitScript(() => {
    window.addEventListener("storage", (event) => event.stopImmediatePropagation(), true);
  });
  await deaf.goto("/");
  await ready(deaf);
  await expect(deaf.getByRole("link", { name: "Sign in with email" })).toBeVisible();

  const email = await signIn(page);
  await expect(deaf.getByTestId("user-email")).toHaveText(email, { timeout: 1_000 });

  await page.getByTestId("sign-out").click();
  await expect(deaf.getByRole("link", { name: "Sign in with email" })).toBeVisible({ timeout: 1_000 });
});

test("a sign-out made offline signs out at once and reaches the server when the network returns", async ({
  page,
  context,
}) => {
  await signIn(page);
  const tokens = (await storedTokens(page))!;
  await page.route("**/api/v1/auth/logout", (route) => route.abort("internetdisconnected"));
  await page.getByTestId("sign-out").click();
  await expect(page.getByRole("link", { name: "Sign in with email" })).toBeVisible();
  expect(await storedTokens(page)).toBeNull();
  await expect(page.getByTestId("storage-notice")).toContainText("will finish when it can");
  // Still live on the server (the sign-out did not get there).
  const me = () =>
    page.request.post("/api/v1/me", { headers: { Authorization: `Bearer ${tokens.access_token}` }, data: {} });
  expect((await me()).status()).toBe(200);

  // The network comes back: the kept sign-out goes out and the notice goes away.
  await page.unroute("**/api/v1/auth/logout");
  await context.setOffline(true);
  await context.setOffline(false);
  await expect(page.getByTestId("storage-notice")).toBeHidden();
  expect((await me()).status()).toBe(401);
  const refresh = await page.request.post("/api/v1/auth/refresh", { data: { refresh_token: tokens.refresh_token } });
  expect(await refresh.json()).toEqual({ error: "session_ended", reason: "revoked" });
});

test("reloads and three tabs stay signed in across several refresh cycles", async ({ context }) => {
  await context.clock.install();
  const first = await context.newPage();
  await signIn(first);
  const tabs = [first, await context.newPage(), await context.newPage()];
  for (const tab of tabs.slice(1)) {
    await tab.goto("/");
    await ready(tab);
  }
  const signOuts: string[] = [];
  for (const tab of tabs) {
    tab.on("framenavigated", (frame) => {
      if (frame === tab.mainFrame() && frame.url().includes("/login")) signOuts.push(frame.url());
    });
  }
  let previous = (await storedTokens(first))!.refresh_token;
  let refreshes = 0;
  context.on("request", (request) => {
    if (new URL(request.url()).pathname === "/api/v1/auth/refresh") refreshes++;
  });

  for (let cycle = 0; cycle < 3; cycle++) {
    await context.clock.fastForward("26:00");
    await expect.poll(async () => (await storedTokens(first))!.refresh_token).not.toBe(previous);
    previous = (await storedTokens(first))!.refresh_token;
    await tabs[cycle].reload();
    await ready(tabs[cycle]);
    for (const tab of tabs) {
      await expect(tab.getByTestId("user-email")).toBeVisible();
      await expect.poll(async () => (await storedTokens(tab))?.refresh_token).toBe(previous);
    }
  }
  await addNote(tabs[2], "still here after three cycles");
  expect(signOuts).toEqual([]);
  // The moved clock makes every tab due at the same instant: the browser-wide refresh
  // lock lets one tab refresh and the others take its pair, about one request per
  // cycle. (Chromium's localStorage is synchronised between tab processes a moment
  // late, and the other tab's message may come after the lock does: a tab then sends
  // the replaced token once, which the server answers with the same pair. Without the
  // lock every tab refreshes every cycle: 9.)
  expect(refreshes).toBeGreaterThanOrEqual(3);
  expect(refreshes).toBeLessThanOrEqual(5);
});
