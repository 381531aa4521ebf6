import { expect, test } from "./fixtures";
import { linkFor, ready, signIn, storedTokens, uniqueEmail } from "./helpers";

test("the landing page hydrates and reaches the server", async ({ page }) => {
  await page.goto("/");
  await ready(page);
  await expect(page.getByRole("heading", { name: "Sign in once. Stay signed in." })).toBeVisible();
  await expect(page.getByTestId("server-status")).toContainText("Server connected · session store: redis");
});

test("sign in with a magic link", async ({ page }) => {
  const email = await signIn(page);
  await expect(page).toHaveURL("/");
  await expect(page.getByTestId("user-email")).toHaveText(email);
  const tokens = await storedTokens(page);
  expect(tokens?.access_token.split(".")).toHaveLength(3);
  expect(tokens?.refresh_token.length).toBeGreaterThan(60);
});

test("a used link explains and offers a new one", async ({ page }) => {
  const email = await signIn(page);
  const link = await linkFor(page.request, email);
  await page.goto(link);
  await ready(page);
  await page.getByTestId("confirm-sign-in").click();
  await expect(page.getByTestId("verify-error")).toContainText("already used");
  await expect(page.getByRole("link", { name: "Request a new link" })).toBeVisible();
});

test("protected pages send visitors to sign in and back", async ({ page, context }) => {
  await page.goto("/sessions");
  await ready(page);
  await expect(page).toHaveURL(/\/login\?next=\/sessions/);
  const email = uniqueEmail();
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await expect(page.getByTestId("check-email")).toContainText(email);
  // The emailed link opens in a new tab.
  const mailTab = await context.newPage();
  await mailTab.goto(await linkFor(page.request, email));
  await ready(mailTab);
  await mailTab.getByTestId("confirm-sign-in").click();
  await expect(mailTab).toHaveURL("/sessions");
  await expect(mailTab.getByTestId("sessions")).toContainText("This device");
  // The first tab follows through the shared storage.
  await expect(page).toHaveURL("/sessions");
});

test("links and the back button move between pages without reloading", async ({ page }) => {
  await signIn(page);
  const documents: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "document") documents.push(request.url());
  });
  await page.evaluate(() => Object.assign(window, { samePage: true }));
  await page.getByRole("link", { name: "Devices" }).click();
  await expect(page).toHaveURL("/sessions");
  await expect(page.getByTestId("sessions")).toContainText("This device");
  await expect(page.getByRole("link", { name: "Devices" })).toHaveAttribute("aria-current", "page");
  await page.goBack();
  await expect(page).toHaveURL("/");
  await expect(page.getByTestId("user-email")).toBeVisible();
  await page.goForward();
  await expect(page.getByTestId("sessions")).toContainText("This device");
  expect(await page.evaluate(() => "samePage" in window)).toBe(true);
  expect(documents).toEqual([]);
});

test("unknown pages say so", async ({ page }) => {
  const response = await page.goto("/nowhere");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});

test("the devices page shows twenty sessions at a time and the rest on request", async ({ page }) => {
  const email = await signIn(page);
  // 21 more sign-ins of the same person from elsewhere (API clients): 22 sessions.
  for (let n = 1; n <= 21; n++) {
    const asked = await page.request.post("/api/v1/auth/magic-link", { data: { email } });
    expect(asked.status()).toBe(200);
    let token = "";
    await expect
      .poll(async () => {
        const messages = (await (await page.request.get(`/dev/outbox?to=${encodeURIComponent(email)}`)).json()) as {
          token: string;
        }[];
        token = messages.length > n ? messages.at(-1)!.token : "";
        return token;
      })
      .toBeTruthy();
    const verified = await page.request.post("/api/v1/auth/verify", { data: { token } });
    expect(verified.status()).toBe(200);
  }
  await page.goto("/sessions");
  const rows = page.getByTestId("sessions").locator("li");
  await expect(rows).toHaveCount(20);
  // Oldest first: this browser signed in first.
  await expect(rows.first()).toContainText("This device");
  await page.getByRole("button", { name: "Show more" }).click();
  await expect(rows).toHaveCount(22);
  await expect(page.getByRole("button", { name: "Show more" })).toHaveCount(0);
});
