// Times on Roundtable's pages (<time data-moment>) say how long ago
// something happened, written by the server at the moment of the page.
// This keeps the words current as the page stays open, shows the exact
// time in the reader's own time zone on hover and to screen readers
// (title), and treats times that live updates insert the same way.
// Without JavaScript the page keeps the server's words and a UTC title.
(function () {
  "use strict";
  var MINUTE = 60000, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
  var exact, day, dayYear;
  try {
    exact = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
    day = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
    dayYear = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
  } catch (e) {
    return; // no Intl: the server's words and UTC title stay
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  // ago mirrors kit.Ago, in the reader's zone for dates.
  function ago(t, now) {
    var d = now - t;
    if (d < MINUTE) return "just now";
    if (d < HOUR) return plural(Math.floor(d / MINUTE), "minute") + " ago";
    if (d < DAY) return plural(Math.floor(d / HOUR), "hour") + " ago";
    if (d < 2 * DAY) return "yesterday";
    if (d < 7 * DAY) return plural(Math.floor(d / DAY), "day") + " ago";
    var when = new Date(t);
    return when.getFullYear() === new Date(now).getFullYear() ? day.format(when) : dayYear.format(when);
  }

  function show(el, now) {
    var t = Date.parse(el.getAttribute("datetime"));
    if (isNaN(t)) return;
    el.textContent = ago(t, now);
    el.title = exact.format(new Date(t));
  }

  function showAll(root) {
    var now = Date.now();
    var els = root.querySelectorAll ? root.querySelectorAll("time[data-moment]") : [];
    for (var i = 0; i < els.length; i++) show(els[i], now);
    if (root.matches && root.matches("time[data-moment]")) show(root, now);
  }

  showAll(document);
  window.setInterval(function () { showAll(document); }, MINUTE);
  if (window.MutationObserver) {
    new MutationObserver(function (records) {
      for (var i = 0; i < records.length; i++) {
        for (var j = 0; j < records[i].addedNodes.length; j++) {
          if (records[i].addedNodes[j].nodeType === 1) showAll(records[i].addedNodes[j]);
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  }
})();
