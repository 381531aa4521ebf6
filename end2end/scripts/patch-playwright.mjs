// Lets Playwright drive Debian's Firefox ESR over WebDriver BiDi.
//
// Playwright 1.65 sends `emulation.setMediaFeaturesOverride` whenever it creates a
// browser context (and when it resets one), even when no media feature is emulated.
// Firefox ESR 153 does not know that command yet and answers "unknown command", so
// `browser.newContext` fails. The suite emulates no media features, so this turns those
// calls into Playwright's own `sendMayFail` (log and go on); nothing else changes.
// Idempotent; run by `npm ci` (postinstall) and by ./scripts/test.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const core = dirname(require.resolve("playwright-core/package.json"));
const bundle = join(core, "lib", "coreBundle.js");
const call = 'send("emulation.setMediaFeaturesOverride"';
const tolerant = 'sendMayFail("emulation.setMediaFeaturesOverride"';

const source = readFileSync(bundle, "utf8");
const count = source.split(call).length - 1;
if (count > 0) {
  writeFileSync(bundle, source.replaceAll(call, tolerant));
  console.log(`patch-playwright: ${count} media-override call(s) made tolerant in ${bundle}`);
} else if (!source.includes(tolerant)) {
  // A Playwright upgrade moved the code: fail loudly rather than run Firefox half-patched.
  console.error(`patch-playwright: no media-override call found in ${bundle}; check the Playwright version`);
  process.exit(1);
}
