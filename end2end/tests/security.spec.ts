// The Content-Security-Policy, as a browser enforces it: the page hydrates (its own
// scripts run), and markup injected into it cannot run script.
import { test as base, expect } from "@playwright/test";
import { ready } from "./helpers";

base("an injected inline handler is blocked and reported", async ({ page }) => {
  await page.goto("/login");
  await ready(page);
  // What an XSS would try: markup with an inline event handler. The page's own
  // `securitypolicyviolation` event reports the block in every engine (Firefox over
  // BiDi does not forward CSP reports to the console).
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as { __violations?: string[] }).__violations = seen;
    document.addEventListener("securitypolicyviolation", (event) => seen.push(event.effectiveDirective));
    const holder = document.createElement("div");
    holder.innerHTML = `<img src="/no-such-image.png" onerror="window.__injected = true">`;
    document.body.append(holder);
  });
  await expect
    .poll(() => page.evaluate(() => (window as { __violations?: string[] }).__violations))
    .toContainEqual(expect.stringMatching(/^script-src/));
  expect(await page.evaluate(() => (window as { __injected?: boolean }).__injected)).toBeUndefined();
});
