// The suite's `test`: Playwright's, plus a check that no page of the test reported a
// Content-Security-Policy violation (a blocked script would be a broken page; an
// allowed injected one, a hole). Specs import `test` and `expect` from here.
import { test as base, expect } from "@playwright/test";

export { expect };

export const test = base.extend({
  context: async ({ context }, use) => {
    const violations: string[] = [];
    context.on("console", (message) => {
      if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
    });
    context.on("weberror", (error) => {
      if (/Content.Security.Policy/i.test(String(error.error()))) violations.push(String(error.error()));
    });
    await use(context);
    // Route handlers still running when the context closes would report "Request
    // context disposed" into the next test (Firefox over BiDi): stop them first.
    for (const page of context.pages()) await page.unrouteAll({ behavior: "ignoreErrors" });
    await context.unrouteAll({ behavior: "ignoreErrors" });
    expect(violations, "Content-Security-Policy violations").toEqual([]);
  },
});
