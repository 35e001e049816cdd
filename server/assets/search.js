// Progressive enhancement of the server-rendered search page: results update as the visitor
// types (debounced) or changes a filter, by fetching the same page's results fragment; the
// address bar keeps a shareable URL. Without JavaScript the form works as a plain GET form.
// After an update, focus stays on the control used (or moves to the results heading after a
// link: a page, a chip) and a polite live region says the new count. On a narrow screen the
// filters are folded under "Filters (N)" until opened.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var results = document.getElementById("results");
  var input = document.getElementById("q");
  var status = document.getElementById("search-status");
  if (!form || !results || !input || !window.fetch) return;
  var timer = null;
  var controller = null;
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 48rem)") : { matches: false };
  var filtersOpen = false;  // on a narrow screen: what the visitor chose
  var recorded = { q: null, id: null };  // analytics: the search the server recorded for these words
  var typingEntry = false;  // the history entry shown was opened by typing (live results)

  function foldFilters() {
    var panel = results.querySelector(".filter-panel");
    if (!panel) return;
    panel.open = narrow.matches ? filtersOpen : true;  // on a wide screen its summary is hidden: always open
    panel.addEventListener("toggle", function () { if (narrow.matches) filtersOpen = panel.open; });
  }

  function params(extra) {
    var p = new URLSearchParams(new FormData(form));
    Object.keys(extra || {}).forEach(function (k) { p.set(k, extra[k]); });
    Array.from(p.keys()).forEach(function (k) { if (p.get(k) === "") p.delete(k); });
    // The default order is no part of a shared address (every address typed said sort=relevance).
    if (p.get("sort") === "relevance") p.delete("sort");
    return p;
  }

  // A paste in another script than Latin percent-encodes to 6-9 bytes a letter: past the
  // server's 8 KiB request line its address was refused (414) and nothing searched. Its
  // beginning is searched instead, cut at the last space that fits (as the server cuts a paste
  // over its byte limit), and the page says so. Returns whether `p`'s q was cut.
  var maxAddress = 7500;  // of 8,192: the method, "&fragment=1&partial=1", a search id
  var cutNote = "Your search was long, so only its beginning was searched.";
  function fitAddress(p) {
    var q = p.get("q");
    if (!q || ("/?" + p.toString()).length <= maxAddress) return false;
    var encoded = function (s) { return new URLSearchParams({ q: s }).toString().length - 2; };
    var budget = maxAddress - (("/?" + p.toString()).length - encoded(q));
    var lo = 0, hi = q.length;  // the longest beginning that fits: encoded() grows with it
    while (lo < hi) {
      var mid = Math.ceil((lo + hi) / 2);
      if (encoded(q.slice(0, mid)) <= budget) lo = mid; else hi = mid - 1;
    }
    if (lo > 0 && /[\uD800-\uDBFF]/.test(q.charAt(lo - 1))) --lo;  // never half a character
    var head = q.slice(0, lo);
    var space = head.search(/\s\S*$/);
    p.set("q", (space > 0 ? head.slice(0, space) : head).trim());
    return true;
  }

  // Where focus was, as something that can be found again in the new fragment.
  function focusKey() {
    var el = document.activeElement;
    if (!el || !results.contains(el)) return null;
    if (el.name) return { name: el.name, value: el.type === "checkbox" ? el.value : null };
    return { heading: true };
  }

  function restoreFocus(key) {
    if (!key) return;
    var target = null;
    if (key.name) {
      var selector = '[name="' + CSS.escape(key.name) + '"]' + (key.value !== null ? '[value="' + CSS.escape(key.value) + '"]' : "");
      target = results.querySelector(selector);
    }
    if (!target) target = document.getElementById("results-summary");
    // A topic unticked goes back under "More topics": unfolded, so that focus stays on it
    // (focus on a folded box fell to the page's body, and the next Tab started over).
    var fold = target && target.closest ? target.closest("details") : null;
    if (fold && !fold.open && fold.classList.contains("more-topics")) fold.open = true;
    if (target) target.focus({ preventScroll: !!key.name });
  }

  // The address bar and Back: a search the visitor commits (Enter, a filter, the sort, a page, a
  // chip, "did you mean") is an entry of its own, so Back returns to the search before; live
  // results while typing open one entry for the new words and then update it, not one a key;
  // Enter then keeps that entry (it holds these words, or words typed on since).
  function remember(shareable, typing) {
    if (shareable === null) return;  // Back or Forward: the entry is already there
    var here = location.pathname + location.search;
    var words = function (u) { return new URLSearchParams(u.split("?")[1] || "").get("q") || ""; };
    var push = typing ? !typingEntry && shareable !== here
                      : shareable !== here && !(typingEntry && words(shareable) !== words(here));
    if (push) history.pushState(null, "", shareable);
    else history.replaceState(null, "", shareable);
    typingEntry = typing;
  }

  function load(url, shareable, key, typing, cut) {
    if (controller) controller.abort();
    controller = new AbortController();
    var words = (new URLSearchParams(url.split("?")[1] || "").get("q") || "").trim();
    var fragment = url + (url.indexOf("?") < 0 ? "?" : "&") + "fragment=1";
    // The same words again (Enter after a live answer, a filter, a sort, a chip): the server
    // reuses the search it recorded for the editors' analytics instead of counting another.
    if (recorded.id && recorded.q === words) fragment += "&search_id=" + encodeURIComponent(recorded.id);
    // Busy until the answer comes: on a slow network nothing changed for seconds (the page dims
    // after a moment, search.css; a screen reader hears the region is updating).
    results.setAttribute("aria-busy", "true");
    var mine = controller;
    var done = function () { if (controller === mine) results.removeAttribute("aria-busy"); };
    fetch(fragment, { signal: controller.signal, headers: { "Accept": "text/html" } })
      // The network down (fetch's TypeError) was said nowhere: the box held the new words over
      // the old results. A newer search aborting this one is nothing to say.
      .catch(function (e) {
        if (e && e.name === "AbortError") throw e;
        throw { problem: "Search is not available right now. Please check your connection and try again." };
      })
      .then(function (r) {
        // A fragment is HTML, also for a refused parameter (400, with its message). What the
        // server answers before any page is made (an address over its limit, 414; overloaded,
        // 503) is JSON, and a proxy's error page (nginx's 502 while the server restarts) is no
        // fragment: the visitor is told in words, and the results shown stay. Nor is a proxy's or
        // firewall's HTML page of 403 or 429: a fragment says it is one.
        if (r.status !== 414 && r.status < 500 && r.headers.get("X-Mssearch-Fragment") === "1" &&
            /^text\/html/.test(r.headers.get("Content-Type") || "")) return r.text();
        throw { problem: r.status === 414 || r.status === 413 ? "This search is too long. Please shorten it and try again."
                                                              : "Search is not available right now. Please try again in a moment." };
      })
      .then(function (html) {
        // "More topics" stays as the visitor left it (a new fragment comes folded).
        var more = results.querySelector("details.more-topics");
        var moreOpen = !!(more && more.open);
        // Focus moved into the results while the answer was on its way (Tab, Tab, Enter on
        // "Skip to results" right after typing) is kept: it fell to the page's body, and the
        // next Tab started over (helper-101).
        var focusNow = focusKey();
        results.innerHTML = html;  // server-rendered and escaped
        more = results.querySelector("details.more-topics");
        if (more && moreOpen) more.open = true;
        if (cut && !Array.prototype.some.call(results.querySelectorAll(".note"), function (n) { return n.textContent === cutNote; })) {
          var note = document.createElement("p");
          note.className = "note";
          note.setAttribute("role", "status");
          note.textContent = cutNote;
          var ol = results.querySelector("ol.results");
          if (ol) ol.parentNode.insertBefore(note, ol); else results.insertBefore(note, results.firstChild);
        }
        // The tab's title and the history entry's say these words (they kept the first search's).
        var heading = document.getElementById("results-summary");
        var suffix = document.title.lastIndexOf("Search – ");
        if (heading && suffix >= 0) {
          var shortWords = heading.getAttribute("data-title-query") || "";
          document.title = (shortWords.trim() ? "“" + shortWords + "” – " : "") + document.title.slice(suffix);
        }
        remember(shareable, !!typing);
        form.classList.add("updated");
        foldFilters();
        restoreFocus(key || focusNow);
        var list = results.querySelector("ol.results[data-search]");
        if (list) recorded = { q: words, id: list.getAttribute("data-search") };
        var summary = document.getElementById("results-summary");
        // The page too, once there are several: after "Next" the count alone said nothing new.
        var pageOf = results.querySelector(".pagination span");
        if (status) status.textContent = (summary ? summary.textContent : "") + (summary && pageOf ? ", " + pageOf.textContent.toLowerCase() : "");
      })
      .catch(function (e) { if (e && e.problem) tell(e.problem); })
      .then(done, done);
  }

  function tell(problem) {
    var old = results.querySelector(".error.problem");
    if (old) old.remove();
    // The server's page may say it already (its 503 page): said once, not twice to a screen reader.
    if (Array.prototype.some.call(results.querySelectorAll("[role=alert]"), function (el) { return el.textContent.trim() === problem; })) return;
    var p = document.createElement("p");
    p.className = "error problem";
    p.setAttribute("role", "alert");
    p.textContent = problem;
    results.insertBefore(p, results.firstChild);
  }

  function update(typing, key) {
    var p = params();
    var cut = fitAddress(p);
    var shareable = "/?" + p.toString();
    if (typing) p.set("partial", "1");
    load("/?" + p.toString(), shareable, key, typing, cut);
  }

  foldFilters();
  // A phone turned sideways, a window widened: fold or unfold to suit.
  if (narrow.addEventListener) narrow.addEventListener("change", foldFilters);
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { update(true, null); }, 250);
  });
  // A dropdown (year, sort, credibility) stepped through with the arrow keys changes at each
  // key: one search once it rests, not one search and one history entry a key (3 presses took
  // 4 Backs to undo).
  var settle = null;
  form.addEventListener("change", function (e) {
    if (e.target === input) return;
    clearTimeout(settle);
    if (e.target.tagName === "SELECT") settle = setTimeout(function () { update(false, focusKey()); }, 400);
    else update(false, focusKey());
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(timer);
    update(false, null);
  });
  // Which result was opened, for the editors' analytics: the search's id and the rank, nothing
  // about the visitor (no cookie, no id of theirs). Sent as the page is left, never waited for.
  results.addEventListener("click", function (e) {
    var link = e.target.closest(".hit h3 a");
    var list = link && link.closest("ol.results[data-search]");
    if (!list) return;
    var rank = parseInt(list.getAttribute("start") || "1", 10) + Array.prototype.indexOf.call(list.children, link.closest("li"));
    try { fetch("/api/click?s=" + encodeURIComponent(list.getAttribute("data-search")) + "&p=" + rank, { keepalive: true }); } catch (err) {}
  });
  results.addEventListener("click", function (e) {
    var a = e.target.closest("a");
    // A link within the page (the skip link): the focus moves to its target, and no history
    // entry is made (a fragment's entry fired popstate, which searched again).
    var fragment = a && (a.getAttribute("href") || "").charAt(0) === "#" ? document.getElementById(a.getAttribute("href").slice(1)) : null;
    if (fragment) {
      e.preventDefault();
      fragment.focus();
      return;
    }
    if (!a || a.origin !== location.origin || a.pathname !== "/") return;
    // Ctrl-, Cmd-, Shift- or a middle click opens a tab or window: the browser's to do.
    if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    // The link clicked wins over words typed a moment before: their live search, still to come,
    // took the place of "Next" or of a chip's search (helper-95).
    clearTimeout(timer);
    var u = new URL(a.href);
    input.value = u.searchParams.get("q") || "";
    load(a.pathname + a.search, a.pathname + a.search, { heading: true });
    window.scrollTo(0, 0);
  });
  // Back and Forward between the entries above: show that entry's search again.
  window.addEventListener("popstate", function () {
    clearTimeout(timer);
    typingEntry = false;
    input.value = new URLSearchParams(location.search).get("q") || "";
    // Focus on a control of the results stays on it in the entry shown (it fell to the body, and
    // the next Tab started from the top of the page).
    load(location.pathname + location.search, null, focusKey(), false);
  });
})();
