import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";

export const TOKENS_KEY = "stay-signed-in.tokens";

export type StoredTokens = {
  access_token: string;
  refresh_token: string;
  received_at: number;
  access_expires_at: number;
  session_expires_at: number;
};

export function uniqueEmail(): string {
  return `e2e-${randomUUID()}@example.com`;
}

/** Waits until the page is hydrated and the client has read its tokens. */
export async function ready(page: Page) {
  await page.locator("html[data-auth-ready]").waitFor({ state: "attached" });
}

/** The newest sign-in link the dev outbox holds for `email`. */
export async function linkFor(request: APIRequestContext, email: string): Promise<string> {
  let link: string | undefined;
  await expect
    .poll(async () => {
      const response = await request.get(`/dev/outbox?to=${encodeURIComponent(email)}`);
      const messages = (await response.json()) as { link: string }[];
      link = messages.at(-1)?.link;
      return link;
    })
    .toBeTruthy();
  return link!;
}

/** The whole sign-in as a person does it: form, outbox, interstitial, dashboard. */
export async function signIn(page: Page, email = uniqueEmail()): Promise<string> {
  await page.goto("/login");
  await ready(page);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await expect(page.getByTestId("check-email")).toContainText(email);
  const link = await linkFor(page.request, email);
  await page.goto(link);
  await ready(page);
  // The page says whose account the link opens before anyone presses the button.
  await expect(page.getByTestId("link-account")).toHaveText(email);
  await page.getByTestId("confirm-sign-in").click();
  await expect(page.getByTestId("user-email")).toHaveText(email);
  return email;
}

export async function storedTokens(page: Page): Promise<StoredTokens | null> {
  return page.evaluate((key) => {
    const raw = localStorage.getItem(key);
    return raw ? JSON.parse(raw) : null;
  }, TOKENS_KEY);
}

/** Replaces the stored access token with one the server rejects (bad signature). */
export async function spoilAccessToken(page: Page) {
  await page.evaluate((key) => {
    const tokens = JSON.parse(localStorage.getItem(key)!);
    const [header, payload, signature] = tokens.access_token.split(".");
    tokens.access_token = [header, payload, signature.split("").reverse().join("")].join(".");
    localStorage.setItem(key, JSON.stringify(tokens));
  }, TOKENS_KEY);
}

/** Counts requests to, and 401 answers from, the API as they happen, in order. */
export function watchApi(page: Page) {
  const events: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/api/")) events.push(`request ${url.pathname}`);
  });
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (url.pathname.startsWith("/api/")) events.push(`${response.status()} ${url.pathname}`);
  });
  return {
    events,
    count: (what: string) => events.filter((e) => e === what).length,
    refreshes: () => events.filter((e) => e === "request /api/v1/auth/refresh").length,
    unauthorized: () => events.filter((e) => e.startsWith("401 ")).length,
  };
}

export async function addNote(page: Page, text: string) {
  await page.getByLabel("New note").fill(text);
  await page.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("notes").getByText(text, { exact: true })).toHaveCount(1);
}

/** Notes as the server has them, read with an access token. */
export async function serverNotes(request: APIRequestContext, accessToken: string) {
  const response = await request.post("/api/v1/notes", {
    headers: { Authorization: `Bearer ${accessToken}` },
    data: {},
  });
  expect(response.status()).toBe(200);
  return (await response.json()) as { text: string }[];
}

/** The test script's Redis (started by ./scripts/test), for outage tests. */
export const redis = {
  available: () => !!process.env.E2E_REDIS_CONF && !!process.env.E2E_REDIS_PORT,
  stop() {
    execFileSync("redis-cli", ["-p", process.env.E2E_REDIS_PORT!, "shutdown"], { stdio: "ignore" });
  },
  start() {
    execFileSync("redis-server", [process.env.E2E_REDIS_CONF!]);
  },
};
