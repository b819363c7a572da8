// The notifications page: the notifications it shows are marked seen as
// it opens, by posting its "Mark all as read" form (up to the newest
// shown) in the background; they keep their "New" badge on this page, and
// the header's count is cleared. Reading the page itself changes nothing,
// so that nothing but this page's own script marks them. Without
// JavaScript, the button does the same.
(function () {
  "use strict";
  var f = document.querySelector("form[data-mark-seen]");
  if (!f || !window.fetch || !window.FormData) return;
  var data = new FormData(f);
  data.append("quiet", "1");
  fetch(f.action, { method: "POST", body: new URLSearchParams(data), credentials: "same-origin" }).then(function (r) {
    if (!r.ok) return;
    var link = document.querySelector("[data-testid=notifications-link]");
    if (link) link.textContent = "Notifications";
  });
})();
