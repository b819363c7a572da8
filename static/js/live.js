// Live updates: when the page names an event stream (data-live-src on
// body), listen to it, re-dispatch each event on document as a
// "roundtable:live" CustomEvent (detail: {id, type, data, at}) for page
// scripts, and tell the reader in the live region that something new is
// there, with a link that reloads. Events whose data names another
// activity ({"link": ...}) are ignored. EventSource reconnects by itself and
// resumes from the last event id it saw.
(function () {
  "use strict";
  var src = document.body && document.body.getAttribute("data-live-src");
  var status = document.querySelector("[data-live-status]");
  if (!src || !window.EventSource) return;
  // A cohort's topic spans every activity of its course: events that name
  // another activity (data.link) are not this page's news.
  var m = /\/a\/([^\/?]+)\/events/.exec(src);
  var link = m ? decodeURIComponent(m[1]) : "";

  // Event types the server may send; a new type is added here.
  var TYPES = ["thread.created", "thread.updated", "post.created", "post.updated",
    "post.removed", "vote", "answer.accepted", "answer.unaccepted", "message"];
  var posts = 0, updates = 0;

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function show() {
    if (!status) return;
    var parts = [];
    if (posts) parts.push(plural(posts, "new post", "new posts"));
    if (updates) parts.push(plural(updates, "update", "updates"));
    status.textContent = parts.join(" and ") + " — ";
    var a = document.createElement("a");
    a.href = window.location.href;
    a.textContent = "Show";
    a.addEventListener("click", function (e) {
      e.preventDefault();
      window.location.reload();
    });
    status.appendChild(a);
    status.classList.add("live-status--active");
  }

  function onEvent(e) {
    var ev;
    try { ev = JSON.parse(e.data); } catch (err) { return; }
    if (link && ev.data && ev.data.link && ev.data.link !== link) return;
    var ce = new CustomEvent("roundtable:live", { detail: ev, cancelable: true });
    // A page script that shows the change itself calls preventDefault().
    if (!document.dispatchEvent(ce)) return;
    if (/^(thread|post)\.created$/.test(ev.type)) posts++; else updates++;
    show();
  }

  var es = new EventSource(src, { withCredentials: true });
  TYPES.forEach(function (t) { es.addEventListener(t, onEvent); });
  window.addEventListener("pagehide", function () { es.close(); });
})();
