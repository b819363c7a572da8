// While someone types a title on the new-thread form, show threads of the
// cohort with similar words (GET data-suggest-url&title=…, an HTML fragment
// the server escaped), so a question already answered is found before it is
// asked again. Without this script the form works just the same.
(function () {
  "use strict";
  var region = document.querySelector("[data-suggest-url]");
  var title = document.getElementById("title");
  if (!region || !title || !window.fetch) return;
  var timer = 0, last = "", seq = 0;
  function show(html) {
    region.innerHTML = html;
  }
  function ask() {
    var q = title.value.trim();
    if (q === last) return;
    last = q;
    var mine = ++seq;
    if (q.length < 3) { show(""); return; }
    // Read each time: session.js may have put a fresh token in it.
    var url = region.getAttribute("data-suggest-url");
    var sep = url.indexOf("?") < 0 ? "?" : "&";
    fetch(url + sep + "title=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (mine === seq) show(html.trim()); })
      .catch(function () {});
  }
  title.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 300);
  });
  if (title.value) ask();
})();
