// Drives the search page in Debian's Chromium: types a query, waits for highlighted results,
// ticks a topic facet, checks the URL stays shareable, tries the widget, saves a screenshot.
// Usage: node search_page.mjs BASE_URL SCREENSHOT_DIR
import assert from "node:assert/strict";

import { base, run, shots } from "./harness.mjs";

await run(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

  await page.goto(base + "/");
  await page.locator("#q").pressSequentially("astrocytes", { delay: 40 });
  // Results arrive as the visitor types (debounced fetch), with highlighted snippets.
  await page.waitForSelector(".hit mark");
  await page.waitForFunction(() => new URLSearchParams(location.search).get("q") === "astrocytes");
  const hits = await page.locator(".hit").count();
  assert.ok(hits >= 3, `expected at least 3 hits, got ${hits}`);
  const marked = await page.locator(".hit .snippet mark").first().textContent();
  assert.match(marked.toLowerCase(), /astrocyte/);
  console.log(`typed 'astrocytes': ${hits} hits, first highlight '${marked}'`);

  // Tick the Astrocytes topic facet: the results narrow and the URL records the filter.
  await page.locator('input[name="topic"][value="Astrocytes"]').check();
  await page.waitForFunction(() => new URLSearchParams(location.search).getAll("topic").includes("Astrocytes"));
  await page.waitForFunction(() => document.querySelector('input[name="topic"][value="Astrocytes"]')?.checked);
  const tagged = await page.locator(".hit").evaluateAll((els) =>
    els.every((el) => [...el.querySelectorAll(".tag")].some((t) => t.textContent === "Astrocytes")));
  assert.ok(tagged, "every hit should carry the Astrocytes topic");
  const filtered = await page.locator(".hit").count();
  console.log(`ticked topic 'Astrocytes': ${filtered} hits, URL ${page.url()}`);
  await page.screenshot({ path: `${shots}/search-page.png`, fullPage: true });

  // The shareable URL reproduces the same page on its own (server-rendered).
  const again = await browser.newPage();
  await again.goto(page.url());
  assert.equal(await again.locator(".hit").count(), filtered);
  assert.ok(await again.locator('input[name="topic"][value="Astrocytes"]').isChecked());

  // "Did you mean" for a misspelling.
  await again.goto(base + "/?q=astrocites");
  assert.match(await again.locator(".did-you-mean").textContent(), /astrocytes/);

  // The embeddable widget: a drop-down of results under any input.
  await page.goto(base + "/widget-demo.html");
  await page.locator("#demo").pressSequentially("brain fog", { delay: 40 });
  await page.waitForSelector(".mss-dropdown .mss-item");
  const first = await page.locator(".mss-item .mss-title").first().textContent();
  console.log(`widget: first suggestion '${first}'`);
  await page.screenshot({ path: `${shots}/widget.png` });
  // Enter that confirms an input method's composition (Japanese, Chinese) is the IME's: the
  // visitor stays, and so do the box's words.
  await page.locator("#demo").evaluate((el) => el.dispatchEvent(new KeyboardEvent("keydown",
    { key: "Enter", keyCode: 229, isComposing: true, bubbles: true, cancelable: true })));
  await page.waitForTimeout(500);
  assert.match(page.url(), /\/widget-demo\.html$/, "Enter ending a composition does not leave the page");
  // An option chosen, then other words typed: Enter before their answer searches these words, not
  // the old option's article (helper-95: it opened the article).
  await page.locator("#demo").press("ArrowDown");
  assert.ok(await page.locator("#demo").getAttribute("aria-activedescendant"), "an option is chosen");
  await page.locator("#demo").press("End");
  assert.equal(await page.locator("#demo").getAttribute("aria-activedescendant"), null, "the caret moved: no option chosen");
  await page.locator("#demo").press("ArrowDown");
  await page.locator("#demo").press("Backspace");
  assert.equal(await page.locator("#demo").getAttribute("aria-activedescendant"), null, "typing leaves no option chosen");
  await page.route("**/api/search?*", async (route) => { await new Promise((r) => setTimeout(r, 3000)); await route.continue(); });
  await page.locator("#demo").pressSequentially("x");
  await Promise.all([page.waitForURL(/\/\?q=brain/), page.locator("#demo").press("Enter")]);
  assert.doesNotMatch(page.url(), /\/articles\//, "Enter searched the words typed");
  await page.unroute("**/api/search?*");
  await page.goto(base + "/widget-demo.html");
  await page.locator("#demo").pressSequentially("brain fog", { delay: 40 });
  await page.waitForSelector(".mss-dropdown .mss-item");
  // An answer that is an error never leaves the last query's list (and its "All N results")
  // standing: the list is cleared and a short message says why.
  const refusedNow = async (pattern, what) => {
    await page.waitForFunction((source) => new RegExp(source).test(document.querySelector(".mss-refused")?.textContent || ""),
                               pattern.source);
    assert.equal(await page.locator(".mss-item").count(), 0, `${what}: no results of the last query`);
    assert.equal(await page.locator(".mss-more").count(), 0, `${what}: no "All N results" of the last query`);
  };
  await page.locator("#demo").fill("fatigue ".repeat(600).trim());  // 4,799 bytes: 400 over the query's byte limit
  await refusedNow(/too long/, "a query over the byte limit");
  await page.locator("#demo").fill("brain fog");
  await page.waitForSelector(".mss-dropdown .mss-item");
  await page.route("**/api/search?*", (route) => route.fulfill({
    status: 503, contentType: "application/json", body: '{"error":{"code":"overloaded","message":"the server is busy; try again"}}' }));
  await page.locator("#demo").fill("brain fogs");
  await refusedNow(/not available/, "503 overloaded");
  await page.unroute("**/api/search?*");
  await page.locator("#demo").fill("brain fog");
  await page.waitForSelector(".mss-dropdown .mss-item");
  await page.locator("#demo").fill("fatigue ".repeat(1200).trim());  // over 8 KiB: said without asking (a 414)
  await refusedNow(/too long/, "a query over 8 KiB");
  // Words that found nothing, answered with their correction's hits: said, as the page says it.
  await page.locator("#demo").fill("astrocites");
  await page.waitForSelector(".mss-dropdown .mss-item");
  assert.match(await page.locator(".mss-corrected").textContent(), /^Showing results for astrocytes$/);
  await page.locator("#demo").fill("brain fog");  // found as typed: no such note
  await page.waitForFunction(() => /^Why .Brain Fog/.test(document.querySelector(".mss-item .mss-title")?.textContent || ""));
  assert.equal(await page.locator(".mss-corrected").count(), 0, "no correction for words found as typed");
  errors.splice(0, errors.length, ...errors.filter((e) => !/status of (400|503)/.test(e)));  // the refused fetches, logged by Chromium
  console.log("widget: errors clear the list and say why; a correction's hits are said to be its");
  // Enter with no result chosen opens the full results page for the typed words.
  await Promise.all([page.waitForURL(/\/\?q=brain(%20|\+)fog$/), page.locator("#demo").press("Enter")]);
  await page.waitForSelector(".hit");

  // Focus stays on the control used, and a polite live region says the new count.
  await page.goto(base + "/?q=fatigue");
  const box = page.locator('input[name="topic"][value="Fatigue"]');
  await box.focus();
  await page.keyboard.press("Space");
  await page.waitForFunction(() => new URLSearchParams(location.search).getAll("topic").includes("Fatigue"));
  await page.waitForFunction(() => /article/.test(document.getElementById("search-status").textContent));
  assert.ok(await page.evaluate(() => document.activeElement?.name === "topic" && document.activeElement.value === "Fatigue"),
            "focus stays on the ticked topic");
  console.log(`ticked with the keyboard: focus kept, announced '${await page.locator("#search-status").textContent()}'`);
  // The chosen topic is a chip above the results; removing it moves focus to the results heading.
  await page.locator(".chip").first().click();
  await page.waitForFunction(() => !new URLSearchParams(location.search).getAll("topic").includes("Fatigue"));
  await page.waitForFunction(() => document.activeElement?.id === "results-summary");

  // A word being typed shows its completions' articles (`astro`: astrocytes); Enter keeps them
  // (it showed "No articles found"), says why, and so does the page reloaded. The tab's title
  // follows the words (it kept the first search's).
  await page.goto(base + "/?q=fatigue");
  await page.locator("#q").fill("astro");
  await page.waitForFunction(() => /“astro”/.test(document.getElementById("results-summary")?.textContent));
  const typedHits = await page.locator(".hit").count();
  assert.ok(typedHits > 0, "articles while typing");
  assert.match(await page.title(), /^“astro” – Search/);
  await page.locator("#q").press("Enter");
  await page.waitForSelector("#results .note >> text=/begin with it/");
  assert.equal(await page.locator(".hit").count(), typedHits, "Enter keeps what typing showed");
  await page.reload();
  assert.equal(await page.locator(".hit").count(), typedHits, "and so does the page reloaded");
  assert.match(await page.locator("#results .note").allTextContents().then((t) => t.join(" ")), /“astro” as a whole word/);
  // A pasted paragraph: the heading, the title and the live region say its beginning, not all of it.
  await page.locator("#q").fill("fatigue and sleep in people with multiple sclerosis ".repeat(40));
  await page.locator("#q").press("Enter");
  await page.waitForFunction(() => /…”/.test(document.getElementById("results-summary")?.textContent));
  assert.ok((await page.locator("#results-summary").textContent()).length < 140, "the heading holds the paste's beginning");
  assert.ok((await page.title()).length < 140, `the title holds the paste's beginning: ${await page.title()}`);
  assert.ok((await page.locator("#search-status").textContent()).length < 160, "the live region too");
  console.log("a word being typed: Enter keeps its completions; a paste's heading and title are its beginning");
  // A topic's name unbroken past the filter column (a crafted link) wraps: the page scrolled sideways.
  await page.goto(base + "/?q=ms&topic=" + "Y".repeat(120));
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
            "a 120-letter topic keeps the page within the window");

  // Back returns to the search before: from page 2 to page 1, from a new search to the last
  // one, with its words in the box (the page had replaced one history entry throughout).
  await page.goto(base + "/");
  await page.locator("#q").fill("fatigue");
  await page.locator("#q").press("Enter");
  await page.waitForFunction(() => /“fatigue”/.test(document.getElementById("results-summary")?.textContent));
  assert.equal(new URL(page.url()).searchParams.get("sort"), null, `the default order is not in ${page.url()}`);
  await page.locator(".pagination a[rel=next]").click();
  await page.waitForFunction(() => new URLSearchParams(location.search).get("page") === "2");
  await page.waitForFunction(() => /Page 2 of/.test(document.querySelector(".pagination span")?.textContent));
  // A screen reader hears which page came, not the same count again.
  await page.waitForFunction(() => /“fatigue”, page 2 of \d+$/.test(document.getElementById("search-status").textContent));
  await page.goBack();
  await page.waitForFunction(() => /Page 1 of/.test(document.querySelector(".pagination span")?.textContent));
  assert.equal(new URL(page.url()).searchParams.get("page"), null, `Back from page 2 shows ${page.url()}`);
  await page.locator("#q").fill("vision");
  await page.locator("#q").press("Enter");
  await page.waitForFunction(() => /“vision”/.test(document.getElementById("results-summary")?.textContent));
  await page.goBack();
  await page.waitForFunction(() => /“fatigue”/.test(document.getElementById("results-summary")?.textContent));
  assert.equal(await page.locator("#q").inputValue(), "fatigue");
  await page.goForward();
  await page.waitForFunction(() => /“vision”/.test(document.getElementById("results-summary")?.textContent));
  assert.equal(await page.locator("#q").inputValue(), "vision");
  console.log("Back and Forward: page 2 to 1, a new search to the one before, and forward again");

  // Ctrl-click on "Next" opens page 2 in a new tab, as on any link, and this page stays.
  await page.goto(base + "/?q=fatigue");
  const before = page.url();
  const [tab] = await Promise.all([page.context().waitForEvent("page"),
                                   page.locator(".pagination a[rel=next]").click({ modifiers: ["Control"] })]);
  await tab.waitForLoadState();
  assert.equal(new URL(tab.url()).searchParams.get("page"), "2", `the new tab shows ${tab.url()}`);
  await tab.close();
  assert.equal(page.url(), before, "Ctrl-click leaves this page as it was");

  // The network down, or a proxy's error page (nginx's 502 while the server restarts): the
  // page says so and keeps the results shown (it said nothing, or showed the proxy's page as
  // the results).
  const fragments = (url) => url.searchParams.get("fragment") === "1";
  for (const [answer, what] of [[(route) => route.abort("internetdisconnected"), "no network"],
                                [(route) => route.fulfill({ status: 502, contentType: "text/html",
                                  body: "<h1>502 Bad Gateway</h1><p>nginx</p>" }), "a proxy's 502 page"],
                                // A firewall's or rate limiter's HTML page (403, 429) replaced the
                                // results with itself (helper-95).
                                [(route) => route.fulfill({ status: 403, contentType: "text/html",
                                  body: "<h1>Sorry, you have been blocked Bad Gateway</h1>" }), "a firewall's 403 page"],
                                [(route) => route.fulfill({ status: 429, contentType: "text/html",
                                  body: "<h1>429 Too Many Requests Bad Gateway</h1>" }), "a rate limiter's 429 page"]]) {
    await page.goto(base + "/?q=fatigue");
    const shown = await page.locator(".hit").count();
    await page.route(fragments, answer);
    await page.locator("#q").fill("vision");
    await page.locator("#q").press("Enter");
    await page.waitForSelector("#results .error.problem[role=alert]");
    assert.match(await page.locator("#results .error.problem").textContent(), /not available/, what);
    assert.equal(await page.locator(".hit").count(), shown, `${what}: the results shown stay`);
    assert.equal(await page.getByText("Bad Gateway").count(), 0, `${what}: no proxy page among the results`);
    await page.unroute(fragments);
  }
  errors.splice(0, errors.length, ...errors.filter((e) => !/status of (502|403|429)|ERR_INTERNET_DISCONNECTED/.test(e)));

  // A slow answer: the results say they are being updated (aria-busy) until it comes.
  await page.goto(base + "/?q=fatigue");
  await page.route(fragments, async (route) => { await new Promise((r) => setTimeout(r, 1500)); await route.continue(); });
  await page.locator("#q").fill("vision");
  await page.locator("#q").press("Enter");
  await page.waitForSelector("#results[aria-busy=true]");
  await page.waitForFunction(() => !document.getElementById("results").hasAttribute("aria-busy"));
  assert.match(await page.locator("#results-summary").textContent(), /vision/i, "the slow answer shown");
  await page.unroute(fragments);
  console.log("a slow answer: busy until it comes");
  console.log("the network down or a proxy's error page: said, and the results shown stay");

  // A pasted text too long for an address (over 8 KiB, which the server refuses with a 414
  // before any page is made): its beginning is searched, cut at a space, and the page says so
  // once. In Latin letters the server then cuts it to its byte limit too; in another script
  // (percent-encoded to 6 bytes a Cyrillic letter) 1,500 words were refused until 2026-12-06.
  for (const [paste, what] of [["fatigue ".repeat(1200), "Latin"],
                               ["усталость fatigue ".repeat(500), "Cyrillic"]]) {
    await page.goto(base + "/?q=vision");
    await page.locator("#q").fill(paste);
    await page.locator("#q").press("Enter");
    await page.waitForFunction(() => /fatigue/.test(new URL(location.href).searchParams.get("q") || ""));
    await page.waitForSelector("#results .hit");
    const notes = await page.locator("#results .note", { hasText: "only its beginning was searched" }).count();
    assert.equal(notes, 1, `${what}: the cut said once (${notes} notes)`);
    assert.equal(await page.locator("#results .error").count(), 0, `${what}: no refusal`);
    const searched = new URL(page.url()).searchParams.get("q");
    assert.ok(searched.length > 100 && paste.startsWith(searched) && /(fatigue|усталость)$/.test(searched),
              `${what}: the address holds the paste's beginning, cut at a space (${searched.length} characters)`);
    assert.ok(page.url().length < 8000, `${what}: the address fits (${page.url().length})`);
  }
  console.log("a paste too long for an address: its beginning searched, in Latin and Cyrillic letters");

  // On a phone the first result is on the first screen: the filters are folded under "Filters".
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  phone.on("pageerror", (e) => errors.push(e.message));
  await phone.goto(base + "/?q=fatigue&topic=Fatigue");
  const firstHit = await phone.locator(".hit").first().boundingBox();
  assert.ok(firstHit && firstHit.y + 60 < 844, `first result at ${firstHit && firstHit.y}px, below the first screen`);
  assert.equal(await phone.locator(".filter-panel").evaluate((d) => d.open), false, "filters folded on a phone");
  assert.match(await phone.locator(".filter-panel > summary").textContent(), /Filters \(1\)/);
  await phone.screenshot({ path: `${shots}/search-page-phone.png` });
  await phone.locator(".filter-panel > summary").click();
  assert.ok(await phone.locator('input[name="topic"][value="Fatigue"]').isVisible(), "filters open on demand");
  console.log(`phone: first result at ${Math.round(firstHit.y)}px of 844`);
  // No page is wider than the phone (the widget demo's code sample made it 604 px wide).
  for (const path of ["/?q=fatigue", "/widget-demo.html", "/articles/heat-sensitivity-uhthoff"]) {
    await phone.goto(base + path);
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${path} is ${width}px wide on a 390px phone`);
  }
  await phone.goto(base + "/?q=fatigue&topic=Fatigue");
  // Turned sideways to a wide screen: the filters unfold (their summary is hidden there).
  await phone.locator(".filter-panel > summary").click();
  await phone.setViewportSize({ width: 1024, height: 768 });
  await phone.waitForFunction(() => document.querySelector(".filter-panel").open);
  await phone.goto(base + "/articles/heat-sensitivity-uhthoff");
  await phone.screenshot({ path: `${shots}/article-page-phone.png`, fullPage: true });
  await phone.close();
  // A 360 px phone, and a 320 px one: no page is wider than the screen (the box and its button
  // fit), also with a long unbroken word or a pasted address in the query, which the results
  // heading repeats.
  for (const width of [320, 360]) {
    const small = await browser.newContext({ viewport: { width, height: 740 }, isMobile: true, hasTouch: true });
    const tiny = await small.newPage();
    for (const path of ["/", "/?q=fatigue%20" + "x".repeat(120), "/?q=astrocites%20https://example.org/a/very/long/path/without/a/single/break",
                        "/articles/heat-sensitivity-uhthoff", "/articles/nope"]) {
      await tiny.goto(base + path);
      const wide = await tiny.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= width, `${path} on a ${width} px phone is ${wide} px wide`);
    }
    await small.close();
  }
  console.log("320 and 360 px phones: no page wider than the screen");
  // Without JavaScript too: on a phone the results come first, on a desktop the filters show.
  for (const [viewport, folded] of [[{ width: 390, height: 844 }, true], [{ width: 1280, height: 900 }, false]]) {
    const ctx = await browser.newContext({ javaScriptEnabled: false, viewport });
    const bare = await ctx.newPage();
    await bare.goto(base + "/?q=fatigue");
    const hitY = (await bare.locator(".hit").first().boundingBox()).y;
    const topicVisible = await bare.locator('input[name="topic"]').first().isVisible();
    assert.equal(topicVisible, !folded, `without script at ${viewport.width}px: topics ${topicVisible ? "shown" : "folded"}`);
    if (folded) assert.ok(hitY + 60 < 844, `without script on a phone the first result is at ${hitY}px`);
    console.log(`no script, ${viewport.width}px: first result at ${Math.round(hitY)}px, topics ${topicVisible ? "shown" : "folded"}`);
    await ctx.close();
  }

  // A visitor clicks the first result: the article's own page, in the site's shape.
  await page.goto(base + "/?q=fatigue");
  const title = (await page.locator(".hit h3 a").first().textContent()).trim();
  // Opening it sends the analytics beacon: this search's id and rank 1, nothing else.
  const beacon = page.waitForRequest((r) => r.url().includes("/api/click?"));
  await Promise.all([page.waitForURL(/\/articles\/[A-Za-z0-9._-]+$/), page.locator(".hit h3 a").first().click()]);
  assert.match((await beacon).url(), /\/api\/click\?s=\d+&p=1$/);
  assert.equal((await page.locator("article h1").textContent()).trim(), title);
  for (const heading of ["Key Takeaway", "Article Topics"])
    assert.ok(await page.getByRole("heading", { name: heading }).count() >= 1, `article page has '${heading}'`);
  assert.ok(await page.locator(".related li a").count() >= 1, "article page has 'You May Also Like'");
  await page.screenshot({ path: `${shots}/article-page.png`, fullPage: true });
  console.log(`clicked '${title}': article page ${page.url()}`);
  // A topic on the article page searches that topic.
  const topic = (await page.locator(".topics a.tag").first().textContent()).trim();
  await Promise.all([page.waitForURL(/\/\?topic=/), page.locator(".topics a.tag").first().click()]);
  await page.waitForSelector(".hit");
  assert.ok(await page.locator(`input[name="topic"][value="${topic}"]`).isChecked(), "the topic is ticked");

  // Every link on a results page and on an article page leads to a page that exists.
  const seen = new Set();
  for (const from of ["/?q=fatigue", "/?q=astrocites", "/articles/heat-sensitivity-uhthoff"]) {
    await page.goto(base + from);
    const links = await page.locator("a[href]").evaluateAll((els) => els.map((a) => a.href));
    for (const link of links) {
      if (seen.has(link)) continue;
      seen.add(link);
      const r = await page.request.get(link);
      assert.equal(r.status(), 200, `${from} links ${link}: ${r.status()}`);
    }
  }
  console.log(`followed ${seen.size} links: all answered 200`);
  assert.deepEqual(errors, [], "no script errors or CSP violations");
});
