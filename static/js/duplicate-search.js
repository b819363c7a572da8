// On the page to mark a duplicate, list the matching threads as staff type
// words of the original's title: the script asks for the same page with
// the form's fields and puts its list in place. Without it the form's
// Find button does the same with a page load.
(function () {
  "use strict";
  var form = document.querySelector("[data-testid=duplicate-search]");
  var box = document.getElementById("duplicate-candidates");
  var status = document.getElementById("duplicate-status");
  if (!form || !box || !window.fetch || !window.DOMParser || !window.URLSearchParams) return;
  var input = form.querySelector("[name=q]");
  var timer = 0, last = input.value.trim(), seq = 0;
  function ask() {
    var q = input.value.trim();
    if (q === last || q.length < 2) return;
    last = q;
    var mine = ++seq;
    // Read the fields each time: session.js may have put a fresh token in them.
    var url = form.getAttribute("action") + "?" + new URLSearchParams(new FormData(form)).toString();
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (mine !== seq || !html) return;
        var found = new DOMParser().parseFromString(html, "text/html").getElementById("duplicate-candidates");
        if (!found) return;
        box.replaceChildren.apply(box, Array.prototype.slice.call(found.childNodes));
        var heading = box.querySelector("h2");
        if (status) status.textContent = heading ? heading.textContent : "";
      })
      .catch(function () {});
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 300);
  });
})();
