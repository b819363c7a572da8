// The session's link token. See docs/sessions.md.
//
// - A page whose session the cookie carries has no token in its links and
//   forms (no data-rt on body). When it was opened with one in its address
//   (the first page after a launch), the token leaves the address
//   (history.replaceState): the cookie does its work from then on.
// - A page with data-rt is one whose cookie did not come back (third-party
//   cookies blocked inside the LMS frame): its links and forms carry the
//   token. Outside a frame the token still leaves the address bar, so it is
//   not copied, bookmarked or shown on screen; it stays in the history
//   entry's state, so a reload or a Back to this entry, refused for want of
//   a token, finds it there (data-session-ended) and asks again with it.
//   Inside the LMS frame the address keeps the freshest token instead:
//   there is no address bar to clean, and a refused page in a frame could
//   not run this script.
// - Tokens are short-lived; every few minutes (data-rt-every) a page with
//   one asks for a fresh one (data-rt-refresh) and puts it in its links and
//   forms, so a person who reads or writes for long is not cut off.
(function () {
  "use strict";
  var body = document.body;
  if (!body || !window.history || !window.URL) return;
  var token = body.getAttribute("data-rt");

  function keepInState(t) {
    var state = history.state && typeof history.state === "object" ? history.state : {};
    state.rt = t;
    return state;
  }

  if (!token) {
    var here = new URL(window.location.href);
    var st = history.state;
    if (body.hasAttribute("data-session-ended")) {
      // A refused page: try once more with the token this entry kept.
      if (st && st.rt && !here.searchParams.has("rt")) {
        here.searchParams.set("rt", st.rt);
        window.location.replace(here.href);
      }
      return;
    }
    // The cookie carried the session: the address needs no token. (A
    // refusal in the LMS frame keeps it: without it, a reload there would
    // not even be shown in the frame.)
    var carried = here.searchParams.get("rt");
    if (carried && body.hasAttribute("data-session-cookie")) {
      here.searchParams.delete("rt");
      history.replaceState(keepInState(carried), "", here.pathname + here.search + here.hash);
    }
    return;
  }

  var framed = window.top !== window;

  function remember(t) {
    var u = new URL(window.location.href);
    if (!framed) {
      u.searchParams.delete("rt");
    } else if (u.searchParams.has("rt")) {
      u.searchParams.set("rt", t);
    }
    history.replaceState(keepInState(t), "", u.pathname + u.search + u.hash);
  }
  remember(token);

  // swap puts the fresh token wherever the page carries the old one.
  function swap(old, fresh) {
    var attrs = ["href", "action", "data-live-src", "data-suggest-url"];
    Array.prototype.forEach.call(document.querySelectorAll("[href], [action], [data-live-src], [data-suggest-url]"), function (el) {
      attrs.forEach(function (a) {
        var v = el.getAttribute(a);
        if (v && v.indexOf(old) >= 0) el.setAttribute(a, v.split(old).join(fresh));
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("input[name=rt]"), function (el) {
      if (el.value === old) el.value = fresh;
    });
    body.setAttribute("data-rt", fresh);
  }

  var refreshURL = body.getAttribute("data-rt-refresh");
  var every = parseInt(body.getAttribute("data-rt-every"), 10);
  if (!refreshURL || !window.fetch || !(every > 0)) return;
  var last = Date.now();
  function refresh() {
    last = Date.now();
    var current = body.getAttribute("data-rt");
    fetch(refreshURL + "?rt=" + encodeURIComponent(current), {
      credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" }
    }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (d) {
      if (!d || !d.token || d.token === current) return;
      swap(current, d.token);
      remember(d.token);
    }).catch(function () {});
  }
  window.setInterval(refresh, every);
  // Timers sleep in a hidden tab: catch up when it shows again.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && Date.now() - last > every) refresh();
  });
})();
