// Progressive enhancement of the server-rendered search page: results update as the visitor
// types (debounced) or changes a filter, by fetching the same page's results fragment; the
// address bar keeps a shareable URL. Without JavaScript the form works as a plain GET form.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var results = document.getElementById("results");
  var input = document.getElementById("q");
  if (!form || !results || !input || !window.fetch) return;
  var timer = null;
  var controller = null;

  function params(extra) {
    var p = new URLSearchParams(new FormData(form));
    Object.keys(extra || {}).forEach(function (k) { p.set(k, extra[k]); });
    Array.from(p.keys()).forEach(function (k) { if (p.get(k) === "") p.delete(k); });
    return p;
  }

  function load(url, shareable) {
    if (controller) controller.abort();
    controller = new AbortController();
    var fragment = url + (url.indexOf("?") < 0 ? "?" : "&") + "fragment=1";
    fetch(fragment, { signal: controller.signal, headers: { "Accept": "text/html" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        results.innerHTML = html;  // server-rendered and escaped
        history.replaceState(null, "", shareable);
        form.classList.add("updated");
      })
      .catch(function () {});
  }

  function update(typing) {
    var p = params();
    var shareable = "/?" + p.toString();
    if (typing) p.set("partial", "1");
    load("/?" + p.toString(), shareable);
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { update(true); }, 250);
  });
  form.addEventListener("change", function (e) {
    if (e.target !== input) update(false);
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(timer);
    update(false);
  });
  results.addEventListener("click", function (e) {
    var a = e.target.closest("a");
    if (!a || a.origin !== location.origin || a.pathname !== "/") return;
    e.preventDefault();
    var u = new URL(a.href);
    if (u.searchParams.has("q")) input.value = u.searchParams.get("q");
    load(a.pathname + a.search, a.pathname + a.search);
    window.scrollTo(0, 0);
  });
})();
