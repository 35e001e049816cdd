// Accessibility in Debian's Chromium: axe-core on every page state (home, results, no results,
// article page, unknown article, widget open) at desktop and phone sizes must find nothing; the
// widget behaves as a WAI-ARIA combobox; and a keyboard-only visit (search, pick a suggestion,
// tick a facet, change page, open an article, come back) needs no mouse.
// Usage: node accessibility.mjs BASE_URL SCREENSHOT_DIR
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { base, run, shots } from "./harness.mjs";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// axe-core's findings on the page as it is now (evaluated through the debugger protocol, which
// the page's Content-Security-Policy does not apply to).
async function axe(page, label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const found = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  console.log(`axe ${label}: ${found.length ? found.join("; ") : "no violations"}`);
  return found.map((f) => `${label}: ${f}`);
}

await run(async (browser) => {
  const violations = [];
  for (const [size, viewport] of [["desktop", { width: 1280, height: 900 }], ["phone", { width: 390, height: 844 }]]) {
    const page = await browser.newPage({ viewport });
    page.setDefaultTimeout(15000);
    for (const [state, path] of [["home", "/"], ["results", "/?q=fatigue&topic=Fatigue&page=1"], ["no results", "/?q=zzzqqq"],
                                 ["paged", "/?q=ms&page=2"], ["article", "/articles/heat-sensitivity-uhthoff"],
                                 ["unknown article", "/articles/no-such-article"]]) {
      await page.goto(base + path);
      violations.push(...await axe(page, `${state} (${size})`));
      await page.screenshot({ path: `${shots}/a11y-${state.replace(" ", "-")}-${size}.png`, fullPage: true });
    }
    await page.goto(base + "/widget-demo.html");
    await page.locator("#demo").pressSequentially("brain fog", { delay: 30 });
    await page.waitForSelector(".mss-dropdown:not([hidden]) [role=option]");
    await page.keyboard.press("ArrowDown");
    violations.push(...await axe(page, `widget open (${size})`));
    await page.screenshot({ path: `${shots}/a11y-widget-${size}.png` });
    await page.close();
  }
  assert.deepEqual(violations, [], "axe-core finds nothing on any page state");
  // And it does find what it should: an image without alternative text, a nameless button.
  {
    const page = await browser.newPage();
    await page.goto(base + "/?q=fatigue");
    await page.evaluate(() => {
      document.querySelector(".hits").insertAdjacentHTML("afterbegin", '<img src="/favicon.ico"><button></button>');
    });
    const planted = await axe(page, "planted faults");
    assert.ok(planted.some((v) => v.includes("image-alt")) && planted.some((v) => v.includes("button-name")),
              "axe-core catches planted faults");
    await page.close();
  }

  // The widget as a combobox.
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15000);
  await page.goto(base + "/widget-demo.html");
  const box = page.locator("#demo");
  assert.equal(await box.getAttribute("role"), "combobox");
  assert.equal(await box.getAttribute("aria-expanded"), "false");
  await box.pressSequentially("fatigue", { delay: 30 });
  await page.waitForSelector(".mss-dropdown:not([hidden]) [role=option]");
  await page.waitForTimeout(400);  // any answer for a shorter prefix has been overtaken
  assert.equal(await box.getAttribute("aria-expanded"), "true");
  const listId = await box.getAttribute("aria-controls");
  const list = page.locator(`#${listId}`);
  assert.equal(await list.getAttribute("role"), "listbox");
  assert.ok(await list.getAttribute("aria-label"), "the listbox has a name");
  assert.equal(await list.locator(":scope > :not([role=option])").count(), 0, "only options in the listbox");
  await page.keyboard.press("ArrowDown");
  const activeId = await box.getAttribute("aria-activedescendant");
  assert.ok(activeId, "ArrowDown makes an option active");
  assert.equal(await page.locator(`#${activeId}`).getAttribute("aria-selected"), "true");
  assert.equal(await page.evaluate(() => document.activeElement.id), "demo", "focus stays in the box");
  // The chosen option stands out from the list (WCAG 1.4.11: 3:1 against white).
  const bg = await page.locator(`#${activeId}`).evaluate((el) => getComputedStyle(el).backgroundColor);
  const [r, g, b] = bg.match(/\d+/g).map(Number).map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
  const contrast = 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05);
  assert.ok(contrast >= 3, `active option contrast ${contrast.toFixed(2)}:1 against white`);
  await page.keyboard.press("Escape");
  assert.equal(await box.getAttribute("aria-expanded"), "false", "Escape closes");
  await page.keyboard.press("ArrowDown");  // reopens (at once, or once the answer for the words is in)
  await page.waitForFunction(() => document.getElementById("demo").getAttribute("aria-expanded") === "true");
  await page.keyboard.press("Tab");
  assert.equal(await box.getAttribute("aria-expanded"), "false", "Tab leaves and closes");
  assert.notEqual(await page.evaluate(() => document.activeElement.getAttribute("role")), "option", "Tab does not walk into the list");
  // Words nothing matches: no listbox to expand, the status says so and offers the correction
  // as a link; a cleared box leaves no stale count in the status.
  await box.fill("");
  await box.pressSequentially("qqzzxw", { delay: 30 });
  await page.waitForSelector(".mss-dropdown:not([hidden]) .mss-empty");
  await page.waitForTimeout(400);
  assert.equal(await box.getAttribute("aria-expanded"), "false", "no options: not expanded");
  assert.match(await page.locator(".mss-status").textContent(), /^No results/);
  const dym = page.locator(".mss-empty a");
  if (await dym.count()) assert.match(await dym.getAttribute("href"), /[?&]q=/, "did you mean is a link");
  // A finished bad date is the visitor's error: said in the list and the status, not "No results".
  await box.fill("");
  await box.pressSequentially("date:2025-13-01 fatigue", { delay: 20 });
  await page.waitForSelector(".mss-dropdown:not([hidden]) .mss-refused");
  assert.match(await page.locator(".mss-refused").textContent(), /2025-13-01 is not a date/);
  assert.match(await page.locator(".mss-status").textContent(), /2025-13-01 is not a date/);
  assert.equal(await box.getAttribute("aria-expanded"), "false", "a refusal: no options, not expanded");
  await box.fill("");  // an input event for the empty box
  await page.waitForTimeout(400);
  assert.equal(await page.locator(".mss-status").textContent(), "", "a cleared box clears the status");
  console.log(`widget combobox: roles and states hold, active option contrast ${contrast.toFixed(1)}:1`);

  // Keyboard only: search, pick a suggestion, tick a facet, change page, open an article, come back.
  await page.goto(base + "/widget-demo.html");
  await page.keyboard.press("Tab");  // to the box (the first control of the demo page)
  assert.equal(await page.evaluate(() => document.activeElement.id), "demo");
  await page.keyboard.type("multiple sclerosis", { delay: 30 });
  await page.waitForSelector(".mss-dropdown:not([hidden]) [role=option]");
  await page.waitForTimeout(400);
  await page.keyboard.press("ArrowDown");
  await Promise.all([page.waitForURL(/\/articles\//), page.keyboard.press("Enter")]);
  console.log(`keyboard: picked a suggestion -> ${page.url()}`);
  // A topic under "More topics", ticked and unticked by keyboard: focus stays on its box both
  // times (unticked, it goes back under the fold, which opens; it fell to the body before).
  await page.goto(base + "/?q=ms");
  await page.locator("details.more-topics > summary").focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  const folded = await page.evaluate(() => document.activeElement?.closest("details.more-topics") ? document.activeElement.value : null);
  assert.ok(folded, "Tab from 'More topics' reaches a topic under it");
  await page.keyboard.press("Space");
  await page.waitForFunction((t) => new URLSearchParams(location.search).getAll("topic").includes(t), folded);
  assert.equal(await page.evaluate(() => document.activeElement?.value), folded, "focus stays on the folded topic ticked");
  await page.keyboard.press("Space");
  await page.waitForFunction(() => !new URLSearchParams(location.search).getAll("topic").length);
  await page.waitForFunction((t) => document.activeElement?.value === t, folded);
  assert.ok(await page.evaluate(() => document.querySelector("details.more-topics").open), "'More topics' open again");
  console.log(`keyboard: ticked and unticked '${folded}' under 'More topics', focus kept`);
  await page.goto(base + "/");
  await page.locator("#q").focus();
  await page.keyboard.type("ms", { delay: 30 });
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => new URLSearchParams(location.search).get("q") === "ms" && document.querySelector(".hit"));
  // Past the filters in one step: the Tab after the search button is "Skip to results", seen
  // while focused; Enter puts the focus on the results' heading, and the next Tab on the first
  // result (16 Tabs before, the topics' checkboxes between).
  await page.locator("#q").focus();
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.className), "skip-link", "the second Tab from the box is the skip link");
  const skipBox = await page.locator(".skip-link").boundingBox();
  assert.ok(skipBox && skipBox.x >= 0 && skipBox.width > 20, "the skip link is seen while focused");
  const entries = await page.evaluate(() => history.length);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.activeElement?.id === "results-summary");
  await page.keyboard.press("Tab");
  assert.ok(await page.evaluate(() => !!document.activeElement?.closest(".hit")), "the Tab after it is the first result");
  assert.equal(await page.evaluate(() => history.length), entries, "no history entry for the skip link's fragment");
  assert.equal(await page.evaluate(() => location.hash), "", "nor a fragment in the address");
  // On a slow network: words typed, then Tab, Tab, Enter on the skip link before their answer
  // comes; the focus stays on the heading once the answer replaces the results (it fell to the
  // page's body, and the next Tab started over; helper-101).
  await page.route(/fragment=1/, async (route) => { await new Promise((r) => setTimeout(r, 1200)); await route.continue(); });
  await page.locator("#q").fill("");
  await page.locator("#q").pressSequentially("fatigue", { delay: 20 });
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.className), "skip-link", "the skip link, the answer still to come");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /fatigue/.test(document.getElementById("results-summary")?.textContent || ""));
  assert.equal(await page.evaluate(() => document.activeElement?.id), "results-summary", "focus kept on the heading the answer brought");
  await page.unroute(/fragment=1/);
  await page.locator("#q").focus();
  // Tab to the first topic checkbox and tick it with Space.
  let guard = 0;
  while (!(await page.evaluate(() => document.activeElement?.name === "topic")) && guard++ < 40) await page.keyboard.press("Tab");
  const topic = await page.evaluate(() => document.activeElement.value);
  await page.keyboard.press("Space");
  await page.waitForFunction((t) => new URLSearchParams(location.search).getAll("topic").includes(t), topic);
  assert.equal(await page.evaluate(() => document.activeElement.value), topic, "focus stays on the topic ticked");
  // Untick it again, then Tab to "Next →" and follow it.
  await page.keyboard.press("Space");
  await page.waitForFunction(() => !new URLSearchParams(location.search).getAll("topic").length);
  guard = 0;
  while (!(await page.evaluate(() => document.activeElement?.getAttribute("rel") === "next")) && guard++ < 80) await page.keyboard.press("Tab");
  assert.ok(guard < 80, "Next → is reachable with Tab");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => new URLSearchParams(location.search).get("page") === "2");
  await page.waitForFunction(() => document.activeElement?.id === "results-summary");
  // From the results heading, Tab reaches the first result; Enter opens it; back returns.
  guard = 0;
  while (!(await page.evaluate(() => !!document.activeElement?.closest(".hit"))) && guard++ < 10) await page.keyboard.press("Tab");
  const pageUrl = page.url();
  await Promise.all([page.waitForURL(/\/articles\//), page.keyboard.press("Enter")]);
  assert.ok(await page.locator("article h1").isVisible());
  await page.goBack();
  await page.waitForURL(pageUrl);
  console.log(`keyboard only: searched, ticked '${topic}', paged, opened an article and came back`);
});
