// What the browser test scripts share: their arguments (the server's base URL and where
// screenshots go, as run_browser_test.sh passes them), Debian's Chromium launched the same way
// for each, and a run that always closes the browser and exits 1 if the test threw.
// Usage in a test script: await run(async (browser) => { ... });
import { chromium } from "playwright-core";

export const [base, shots] = process.argv.slice(2);

export async function run(test) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let failed = false;
  try {
    await test(browser);
  } catch (e) {
    failed = true;
    console.error(e);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
