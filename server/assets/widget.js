// mssearch widget: turns any <input data-mssearch> into an as-you-type search box with a
// drop-down of results, following the WAI-ARIA Authoring Practices' combobox-with-listbox
// pattern: the input is a combobox (aria-expanded, aria-controls, aria-activedescendant), the
// results are options of a named listbox, the "all results" link sits outside it. Arrow keys
// move through the options, Enter opens the chosen one (or the full results page), Escape
// closes and ArrowDown reopens, Tab leaves and closes. Include /widget.css and this script from
// the mssearch server; the API is called on the server the script came from (CORS must allow
// the page's origin).
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  var count = 0;

  // Only a path or an http(s) URL becomes a link, never "javascript:" or "data:", whatever the
  // answer holds: on the embedding page only that site's CSP applies. An article without a page
  // of its own elsewhere is shown by the mssearch server itself (/articles/ID there).
  function linkUrl(hit) {
    var url = typeof hit.url === "string" ? hit.url : "";
    var own = "/articles/" + encodeURIComponent(hit.id);
    return /^(https?:\/\/|\/(?!\/))[^\s\\]*$/i.test(url) && url !== own ? url : base + own;
  }
  function resultsPage(q) { return base + "/?q=" + encodeURIComponent(q); }

  function attach(input) {
    var id = "mss-" + (++count);
    var wrap = document.createElement("span");
    wrap.className = "mss-wrap";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var popup = document.createElement("div");
    popup.className = "mss-dropdown";
    popup.hidden = true;
    var list = document.createElement("div");
    list.id = id + "-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Search results");
    var foot = document.createElement("div");
    foot.className = "mss-foot";
    var head = document.createElement("div");  // "Showing results for …", above the list
    head.className = "mss-head";
    popup.appendChild(head);
    popup.appendChild(list);
    popup.appendChild(foot);
    wrap.appendChild(popup);
    var live = document.createElement("span");
    live.className = "mss-status";
    live.setAttribute("role", "status");
    wrap.appendChild(live);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    // A name for the box when the page gave it none.
    var labelled = input.getAttribute("aria-label") || input.getAttribute("aria-labelledby") ||
                   (input.id && document.querySelector('label[for="' + CSS.escape(input.id) + '"]')) || input.closest("label");
    if (!labelled) input.setAttribute("aria-label", input.getAttribute("data-mssearch-label") || "Search articles");

    var timer = null, controller = null, active = -1, shownFor = null;
    var perPage = Math.min(Math.max(parseInt(input.getAttribute("data-mssearch-results") || "6", 10) || 6, 1), 20);

    function options() { return list.querySelectorAll("[role=option]"); }
    function open(show) {
      popup.hidden = !show;
      // Expanded only with options to choose: "No results" is said by the status, not a listbox.
      input.setAttribute("aria-expanded", show && options().length ? "true" : "false");
      if (!show) highlight(-1);
    }
    function highlight(i) {
      var all = options();
      active = Math.max(-1, Math.min(i, all.length - 1));
      all.forEach(function (el, n) {
        el.classList.toggle("mss-active", n === active);
        el.setAttribute("aria-selected", n === active ? "true" : "false");
      });
      if (active >= 0) {
        input.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function refused(message, q) {
      list.textContent = "";
      head.textContent = "";
      foot.textContent = "";
      var why = document.createElement("div");
      why.className = "mss-empty mss-refused";
      why.textContent = message;
      foot.appendChild(why);
      live.textContent = message;
      shownFor = q;
      highlight(-1);
      open(true);
    }

    function render(answer, q) {
      list.textContent = "";
      head.textContent = "";
      foot.textContent = "";
      answer.hits.forEach(function (hit, n) {
        var a = document.createElement("a");
        a.className = "mss-item";
        a.id = id + "-opt-" + n;
        a.href = linkUrl(hit);
        a.tabIndex = -1;  // reached with the arrow keys, not Tab
        a.setAttribute("role", "option");
        a.setAttribute("aria-selected", "false");
        var t = document.createElement("span");
        t.className = "mss-title";
        t.textContent = hit.title;
        var s = document.createElement("span");
        s.className = "mss-snippet";
        s.innerHTML = hit.snippet;  // escaped by the server, only <mark> added
        a.appendChild(t);
        a.appendChild(s);
        a.addEventListener("mousedown", function (e) { e.preventDefault(); });  // keep focus in the box
        list.appendChild(a);
      });
      if (!answer.hits.length) {
        var empty = document.createElement("div");
        empty.className = "mss-empty";
        empty.textContent = "No results";
        if (answer.did_you_mean) {
          var dym = document.createElement("a");
          dym.className = "mss-dym";
          dym.href = resultsPage(answer.did_you_mean);
          dym.textContent = answer.did_you_mean;
          dym.addEventListener("mousedown", function (e) { e.preventDefault(); });
          empty.appendChild(document.createTextNode(". Did you mean "));
          empty.appendChild(dym);
          empty.appendChild(document.createTextNode("?"));
        }
        foot.appendChild(empty);
      }
      // The words found nothing and the hits are the correction's: said, as on the full page.
      var corrected = answer.showing_corrected && answer.did_you_mean && answer.hits.length ? answer.did_you_mean : "";
      if (corrected) {
        var note = document.createElement("div");
        note.className = "mss-corrected";
        note.appendChild(document.createTextNode("Showing results for "));
        var strong = document.createElement("strong");
        strong.textContent = corrected;
        note.appendChild(strong);
        head.appendChild(note);
      }
      if (answer.total > answer.hits.length) {
        var more = document.createElement("a");
        more.className = "mss-more";
        more.href = resultsPage(q);
        more.textContent = "All " + answer.total + " results →";
        more.addEventListener("mousedown", function (e) { e.preventDefault(); });
        foot.appendChild(more);
      }
      live.textContent = answer.hits.length ? (corrected ? "Showing results for " + corrected + ": " : "") +
                                                answer.total + (answer.total === 1 ? " result" : " results") + ", use the arrow keys to choose"
                                            : "No results" + (answer.did_you_mean ? ". Did you mean " + answer.did_you_mean + "?" : "");
      shownFor = q;
      highlight(-1);
      open(true);
    }
    function search() {
      var q = input.value.trim();
      if (!q) { open(false); shownFor = null; live.textContent = ""; return; }
      if (controller) controller.abort();
      controller = null;
      var url = base + "/api/search?partial=1&related=0&per_page=" + perPage + "&q=" + encodeURIComponent(q);
      // Over the server's 8 KiB request line: refused (414) before any CORS header is added,
      // which a page on another site could not even read. Said here instead.
      if (url.length > 8000) { refused("This search is too long. Please shorten it.", q); return; }
      controller = new AbortController();
      fetch(url, { signal: controller.signal })
        .then(function (r) {
          // An error's body may not be JSON (a proxy's page): the status still says enough.
          return r.json().catch(function () { return {}; }).then(function (answer) { return { status: r.status, answer: answer }; });
        })
        // An answer for words no longer in the box (typing went on) is not shown: it would
        // replace the list, and the option chosen, under the visitor's keys.
        .then(function (got) {
          if (q !== input.value.trim()) return;
          var answer = got.answer || {}, error = answer.error || {};
          if (got.status === 200 && answer.hits) render(answer, q);
          // The visitor's own query refused (a finished bad date): said, not "No results".
          else if (error.code === "bad_query" && error.message) refused(error.message, q);
          // Any other refusal: the last query's results are not left standing as if they were
          // this one's. Too long (over the byte limit, 400; over 8 KiB, 414), or unavailable.
          else if (got.status === 414 || (got.status === 400 && /\blong\b/.test(error.message || "")))
            refused("This search is too long. Please shorten it.", q);
          else if (got.status >= 500) refused("Search is not available right now. Please try again in a moment.", q);
          else refused("This search could not be run.", q);
        })
        .catch(function (e) {
          // Aborted for newer words: theirs comes. Unreachable server: said, the old list cleared.
          if (e && e.name === "AbortError") return;
          if (q === input.value.trim()) refused("Search is not available right now. Please try again in a moment.", q);
        });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      // The option chosen was one for the words before: Enter now opens the results for these
      // (it opened the old option's article; helper-95).
      highlight(-1);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (e) {
      // A key an input method takes (Enter confirming Japanese or Chinese text, arrows choosing
      // among its candidates) is the IME's, not a choice in the list; keyCode 229 is how Safari
      // sends the Enter that ends a composition.
      if (e.isComposing || e.keyCode === 229) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (popup.hidden) {  // reopen what was shown, or ask
          if (shownFor !== null && shownFor === input.value.trim()) open(true);
          else search();
          return;
        }
        highlight(e.key === "ArrowDown" ? (active + 1) % Math.max(options().length, 1)
                                        : (active <= 0 ? options().length - 1 : active - 1));
      } else if (e.key === "Escape") {
        if (!popup.hidden) { open(false); e.preventDefault(); }
      } else if (e.key === "Enter") {
        var q = input.value.trim();
        if (!popup.hidden && active >= 0) { e.preventDefault(); window.location.href = options()[active].href; }
        else if (q) { e.preventDefault(); window.location.href = resultsPage(q); }  // the full results page
      } else if (e.key === "Tab") {
        open(false);
      } else if (e.key === "ArrowLeft" || e.key === "ArrowRight" || e.key === "Home" || e.key === "End") {
        highlight(-1);  // the caret moves in the box, and the choice goes back to it (ARIA's combobox)
      }
    });
    input.addEventListener("blur", function () { open(false); });
  }

  function init() { document.querySelectorAll("input[data-mssearch]").forEach(attach); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
