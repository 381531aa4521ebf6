// The Content-Security-Policy, as a browser enforces it: the page hydrates (its own
// scripts run), and markup injected into it cannot run script.
import { test as base, expect } from "@playwright/test";
import { ready } from "./helpers";

base("an injected inline handler is blocked and reported", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.goto("/login");
  await ready(page);
  // What an XSS would try: markup with an inline event handler.
  await page.evaluate(() => {
    const holder = document.createElement("div");
    holder.innerHTML = `<img src="/no-such-image.png" onerror="window.__injected = true">`;
    document.body.append(holder);
  });
  await expect.poll(() => violations.length).toBeGreaterThanOrEqual(1);
  expect(await page.evaluate(() => (window as { __injected?: boolean }).__injected)).toBeUndefined();
});
