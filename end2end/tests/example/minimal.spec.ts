// examples/minimal, the library's second user (scripts/e2e-example serves it with a
// short real access lifetime): sign in with the emailed link, stay signed in after the
// first access token has expired on the server, sign out.
import { expect, test, type APIRequestContext } from "@playwright/test";
import { linkFor } from "../helpers";

async function meStatus(request: APIRequestContext, accessToken: string): Promise<number> {
  const answer = await request.post("/api/v1/me", {
    headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
    data: {},
  });
  return answer.status();
}

test("the example app signs in, outlives its access lifetime, and signs out", async ({ page, request }) => {
  const ttlSeconds = Number(process.env.E2E_EXAMPLE_ACCESS_TTL ?? "10");
  const email = `ada+${Date.now()}@example.com`;
  const refreshes: number[] = [];
  page.on("response", (answer) => {
    if (new URL(answer.url()).pathname === "/api/v1/auth/refresh") refreshes.push(answer.status());
  });

  // Ask for a link, as a person would.
  await page.goto("/");
  await page.getByLabel("Email").fill(email);
  const send = page.getByRole("button", { name: "Email me a sign-in link" });
  await expect(send).toBeEnabled();
  await send.click();
  await expect(page.getByRole("status")).toContainText("Check your email");

  // Open the link from the development outbox and press the button.
  await page.goto(await linkFor(request, email));
  const signIn = page.getByRole("button", { name: "Sign in" });
  await expect(signIn).toBeEnabled();
  await signIn.click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("email")).toHaveText(email);
  const first: string = await page.evaluate(
    (key) => JSON.parse(localStorage.getItem(key) ?? "{}").access_token,
    "minimal.tokens", // the example names itself (provide_auth_named)
  );
  expect(first).toBeTruthy();

  // Real time passes until the server refuses the first access token.
  await expect
    .poll(() => meStatus(request, first), {
      timeout: (ttlSeconds + 20) * 1000,
      intervals: [500],
    })
    .toBe(401);

  // Still signed in: the next protected call succeeds with a token from a refresh.
  const me = page.waitForResponse((answer) => answer.url().endsWith("/api/v1/me"));
  await page.getByRole("button", { name: "Check again" }).click();
  const answer = await me;
  expect(answer.status()).toBe(200);
  const bearer = (await answer.request().headerValue("authorization")) ?? "";
  expect(bearer).toMatch(/^Bearer /);
  expect(bearer).not.toBe(`Bearer ${first}`);
  expect(refreshes.length).toBeGreaterThanOrEqual(1);
  expect(refreshes.every((status) => status === 200)).toBe(true);
  await expect(page.getByTestId("email")).toHaveText(email);

  // Sign out: the server ends the session at once (the latest access token, alive a
  // moment ago, is refused), and the form comes back, after a reload too.
  const latest = bearer.slice("Bearer ".length);
  expect(await meStatus(request, latest)).toBe(200);
  const loggedOut = page.waitForResponse((answer) => answer.url().endsWith("/api/v1/auth/logout"));
  await page.getByRole("button", { name: "Sign out" }).click();
  expect((await loggedOut).status()).toBe(200);
  expect(await meStatus(request, latest)).toBe(401);
  await expect(page.getByLabel("Email")).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Email")).toBeVisible();
});
