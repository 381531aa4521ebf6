// `cargo leptos end-to-end` starts the server and this suite at the same moment: wait
// until the server answers (and its store is up) before any test runs.
import type { FullConfig } from "@playwright/test";

export default async function globalSetup(config: FullConfig) {
  const baseURL = config.projects[0].use.baseURL ?? "http://127.0.0.1:3000";
  const deadline = Date.now() + 180_000;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      // The example app has no health route; its home page tells it is up.
      const response = await fetch(`${baseURL}${process.env.E2E_EXAMPLE_URL ? "/" : "/healthz"}`);
      if (response.ok) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server at ${baseURL} did not become ready: ${last}`);
}
