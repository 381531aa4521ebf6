import { defineConfig } from "@playwright/test";

// The second server: same build, same Redis, a 12-second access lifetime, so the
// server itself sees tokens expire in real time (page.clock only moves the browser's).
const SHORT_PORT = process.env.E2E_SHORT_PORT ?? "3005";
const SHORT_URL = `http://127.0.0.1:${SHORT_PORT}`;

// Debian's Chromium (no browser download here); flags keep it off the closed network.
const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// Debian's Firefox ESR, driven over WebDriver BiDi (no browser download). Playwright
// 1.65 needs one call tolerated for it: see scripts/patch-playwright.mjs.
const firefox = {
  browserName: "firefox" as const,
  channel: "moz-firefox",
  launchOptions: { executablePath: process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr" },
};

// Set by scripts/e2e-proxy: the https address of nginx in front of two app servers.
// Then only the `proxy` project runs (its servers are started by that script).
const PROXY_URL = process.env.E2E_PROXY_URL;
// Set by scripts/e2e-example: the address of examples/minimal, the library's second
// user. Then only the `example` project runs (that script starts the server).
const EXAMPLE_URL = process.env.E2E_EXAMPLE_URL;

export default defineConfig({
  testDir: "./tests",
  projects: EXAMPLE_URL
    ? [{ name: "example", testDir: "./tests/example", use: { baseURL: EXAMPLE_URL } }]
    : PROXY_URL
    ? [
        {
          name: "proxy",
          testDir: "./tests/proxy",
          // The proxy's certificate comes from a CA of the test run.
          use: { baseURL: PROXY_URL, ignoreHTTPSErrors: true },
        },
      ]
    : [
        // The main suite against the server `cargo leptos end-to-end` starts (30-minute lifetime).
        { name: "default", testIgnore: /(short-lifetime|proxy|example)\// },
        {
          name: "short-lifetime",
          testDir: "./tests/short-lifetime",
          use: { baseURL: SHORT_URL },
        },
        // The same scenarios in Firefox (WebKit runs through WebDriver: tests/webkit).
        { name: "firefox", testIgnore: /(short-lifetime|proxy|example)\//, use: firefox },
        {
          name: "firefox-short-lifetime",
          testDir: "./tests/short-lifetime",
          use: { ...firefox, baseURL: SHORT_URL },
        },
      ],
  webServer: PROXY_URL || EXAMPLE_URL ? undefined : {
    // The server binary `cargo leptos end-to-end` just built, with the assets it built.
    command: "./target/debug/stay-signed-in",
    cwd: "..",
    url: `${SHORT_URL}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${SHORT_PORT}`,
      LEPTOS_SITE_ROOT: "target/site",
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_OUTPUT_NAME: "stay-signed-in",
      PUBLIC_URL: SHORT_URL,
      ACCESS_TOKEN_TTL: "12s",
      REFRESH_REUSE_GRACE: "30s",
      REDIS_KEY_PREFIX: "e2e-short",
      RATE_LIMIT_IP: "100000/1m",
      RATE_LIMIT_EMAIL: "100000/1m",
      RATE_LIMIT_REFRESH_IP: "1000000/1m",
      RUST_LOG: process.env.E2E_RUST_LOG ?? "warn",
    },
  },
  globalSetup: "./global-setup.ts",
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  // One worker: tests share one server and some stop its Redis.
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3000",
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: chromiumArgs,
    },
    trace: "retain-on-failure",
  },
});
