// mssearch widget: turns any <input data-mssearch> into an as-you-type search box with a
// drop-down of results. Include /widget.css and this script from the mssearch server; the
// API is called on the server the script came from (CORS must allow the page's origin).
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";

  function attach(input) {
    var wrap = document.createElement("span");
    wrap.className = "mss-wrap";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var list = document.createElement("div");
    list.className = "mss-dropdown";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    wrap.appendChild(list);
    input.setAttribute("autocomplete", "off");
    var timer = null, controller = null, active = -1;
    var perPage = parseInt(input.getAttribute("data-mssearch-results") || "6", 10);

    function items() { return list.querySelectorAll(".mss-item"); }
    function highlight(i) {
      var all = items();
      all.forEach(function (el) { el.classList.remove("mss-active"); });
      active = Math.max(-1, Math.min(i, all.length - 1));
      if (active >= 0) all[active].classList.add("mss-active");
    }
    // Only a path or an http(s) URL becomes a link, never "javascript:" or "data:", whatever the
    // answer holds: on the embedding page only that site's CSP applies.
    // An article without a page of its own elsewhere is shown by the mssearch server itself
    // (/articles/ID there, not on the embedding site).
    function linkUrl(hit) {
      var url = typeof hit.url === "string" ? hit.url : "";
      var own = "/articles/" + encodeURIComponent(hit.id);
      return /^(https?:\/\/|\/(?!\/))[^\s\\]*$/i.test(url) && url !== own ? url : base + own;
    }

    function render(answer, q) {
      list.textContent = "";
      if (!answer.hits.length) {
        var empty = document.createElement("div");
        empty.className = "mss-empty";
        empty.textContent = answer.did_you_mean ? "Did you mean " + answer.did_you_mean + "?" : "No results";
        list.appendChild(empty);
      }
      answer.hits.forEach(function (hit) {
        var a = document.createElement("a");
        a.className = "mss-item";
        a.href = linkUrl(hit);
        a.setAttribute("role", "option");
        var t = document.createElement("span");
        t.className = "mss-title";
        t.textContent = hit.title;
        var s = document.createElement("span");
        s.className = "mss-snippet";
        s.innerHTML = hit.snippet;  // escaped by the server, only <mark> added
        a.appendChild(t);
        a.appendChild(s);
        list.appendChild(a);
      });
      if (answer.total > answer.hits.length) {
        var more = document.createElement("a");
        more.className = "mss-more";
        more.href = base + "/?q=" + encodeURIComponent(q);
        more.textContent = "All " + answer.total + " results →";
        list.appendChild(more);
      }
      active = -1;
      list.hidden = false;
    }
    function search() {
      var q = input.value.trim();
      if (!q) { list.hidden = true; return; }
      if (controller) controller.abort();
      controller = new AbortController();
      fetch(base + "/api/search?partial=1&per_page=" + perPage + "&q=" + encodeURIComponent(q),
            { signal: controller.signal })
        .then(function (r) { return r.json(); })
        .then(function (answer) { if (answer.hits) render(answer, q); })
        .catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (list.hidden || active < 0) && input.value.trim()) {
        // No result chosen: open the full results page for what was typed.
        window.location.href = base + "/?q=" + encodeURIComponent(input.value.trim());
        e.preventDefault();
        return;
      }
      if (list.hidden) return;
      if (e.key === "ArrowDown") { highlight(active + 1); e.preventDefault(); }
      else if (e.key === "ArrowUp") { highlight(active - 1); e.preventDefault(); }
      else if (e.key === "Escape") { list.hidden = true; }
      else if (e.key === "Enter" && active >= 0) { items()[active].click(); e.preventDefault(); }
    });
    document.addEventListener("click", function (e) { if (!wrap.contains(e.target)) list.hidden = true; });
  }

  function init() { document.querySelectorAll("input[data-mssearch]").forEach(attach); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
