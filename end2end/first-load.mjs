// First load on a slow line: Chromium with network emulation (4 Mbit/s both ways,
// 100 ms latency), an empty cache each time, from navigation to a hydrated sign-in form.
// Prints each run, the median, and the bytes that crossed the wire.
//   node first-load.mjs http://127.0.0.1:3000 [runs]
import { chromium } from "@playwright/test";

const base = process.argv[2];
const runs = Number(process.argv[3] ?? 5);
const GOAL_MS = 1500;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
});
const times = [];
let bytes = 0;
for (let run = 0; run < runs; run++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 100,
    downloadThroughput: 4_000_000 / 8,
    uploadThroughput: 4_000_000 / 8,
  });
  let transferred = 0;
  cdp.on("Network.loadingFinished", (event) => (transferred += event.encodedDataLength));
  const started = performance.now();
  await page.goto(`${base}/login`, { waitUntil: "commit" });
  // Hydrated and the client has read its tokens: the form now works as the app.
  await page.locator("html[data-auth-ready]").waitFor({ state: "attached", timeout: 60_000 });
  times.push(performance.now() - started);
  bytes = transferred;
  await context.close();
}
await browser.close();

times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`first load, 4 Mbit/s, 100 ms: ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
console.log(
  `median ${median.toFixed(0)} ms (goal <= ${GOAL_MS} ms, ${((median / GOAL_MS) * 100).toFixed(0)} % of it), ` +
    `${bytes} bytes over the wire`,
);
