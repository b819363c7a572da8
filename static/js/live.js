// Live updates: when the page names an event stream (data-live-src on
// body), listen to it and keep the page current without a reload. Each
// event is re-dispatched on document as a "roundtable:live" CustomEvent
// (detail: {id, type, data, at}); a page script that shows the change
// itself calls preventDefault(). Events carry ids only, so what to show is
// fetched from the server in this session (the rt token when the page has
// one): on a thread page the post, from …/t/<thread>/p/<post>/fragment, is
// inserted, replaced or updated in place; on the list in its default order
// the thread's row, from …/t/<thread>/row, is inserted or moved to the top.
// On a long thread's earlier pages, new replies (which go on the last) are
// counted for a reload.
// Each change is said in the page's polite live region; the focus never
// moves, and the reply box is never touched. Anything else (another order
// of the list, a thread's pins and locks, a failed fetch) is counted in the
// live region with a link that reloads, and so is a "missed" event: the
// server replays at most a hundred events to a page that reconnects, and
// says so when it missed more. Events whose data names another activity
// ({"link": ...}) are ignored. A broken stream reconnects and resumes from
// the last event id it saw; a refused one (too many streams, a busy
// server) is tried again later, each time later (see connect). Without
// this script the pages and their forms work the same, with a reload.
(function () {
  "use strict";
  var src = document.body && document.body.getAttribute("data-live-src");
  var status = document.querySelector("[data-live-status]");
  if (!src || !window.EventSource) return;
  // The live region moves from the page's end to just after the heading of
  // what changes (the list, the replies), where a reader sees it in any
  // frame; it moves before anything is said in it.
  var anchor = document.querySelector("[data-live-anchor]");
  if (status && anchor) anchor.insertAdjacentElement("afterend", status);
  // The stream is this activity's; an event that names another activity
  // (data.link) is not this page's news all the same.
  var m = /\/a\/([^\/?]+)\/events/.exec(src);
  var link = m ? decodeURIComponent(m[1]) : "";
  var base = m ? "/a/" + m[1] : "";
  // Without a cookie in the LMS frame the session is the token in the URL.
  var rt = new URL(src, window.location.href).searchParams.get("rt") || "";

  // Which page this is: a thread, the list in its default order, or other.
  var path = window.location.pathname;
  var rest = base && path.indexOf(base) === 0 ? path.slice(base.length) : null;
  var tm = rest === null ? null : /^\/t\/([^\/]+)$/.exec(rest);
  var threadID = tm ? decodeURIComponent(tm[1]) : "";
  var latestList = (rest === "" || rest === "/") && defaultOrder(new URLSearchParams(window.location.search));

  function defaultOrder(q) {
    var ok = true;
    q.forEach(function (v, k) {
      if (k !== "rt" && !(k === "sort" && v === "activity")) ok = false;
    });
    return ok;
  }

  // Event types the server may send; a new type is added here.
  var TYPES = ["thread.created", "thread.updated", "post.created", "post.updated",
    "post.removed", "vote", "answer.accepted", "answer.unaccepted", "message", "missed"];

  // The live region: the latest change shown in place, then what waits
  // for a reload.
  var said = null, posts = 0, updates = 0;

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function render() {
    if (!status) return;
    status.textContent = "";
    if (said) {
      status.appendChild(document.createTextNode(said.text));
      if (said.href) {
        var to = document.createElement("a");
        to.href = said.href;
        to.textContent = said.title;
        status.appendChild(to);
      }
    }
    if (posts || updates) {
      var parts = [];
      if (posts) parts.push(plural(posts, "new post", "new posts"));
      if (updates) parts.push(plural(updates, "update", "updates"));
      status.appendChild(document.createTextNode((said ? ". " : "") + parts.join(" and ") + " — "));
      var a = document.createElement("a");
      a.href = window.location.href;
      a.textContent = "Show";
      a.addEventListener("click", function (e) {
        e.preventDefault();
        window.location.reload();
      });
      status.appendChild(a);
    }
    status.classList.add("live-status--active");
  }

  // say announces a change shown in place; linkTo (a thread's link in the
  // list) adds a link to it.
  function say(text, linkTo) {
    said = { text: text };
    if (linkTo) {
      said.href = linkTo.getAttribute("href");
      said.title = linkTo.textContent;
    }
    render();
  }

  function waitForReload(ev) {
    if (/^(thread|post)\.created$/.test(ev.type)) posts++; else updates++;
    render();
  }

  // Changes are shown one at a time, in the order they happened.
  var queue = Promise.resolve();
  function later(ev, show) {
    queue = queue.then(show).catch(function () { waitForReload(ev); });
  }

  // get fetches a fragment: null when it is not (or no longer) the
  // viewer's to see.
  function get(p) {
    // session.js keeps the page's token fresh in data-rt.
    var t = document.body.getAttribute("data-rt") || rt;
    var url = base + p + (t ? "?rt=" + encodeURIComponent(t) : "");
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (r) {
      if (r.status === 404) return null;
      if (!r.ok) throw new Error("fragment " + p + ": " + r.status);
      return r.text().then(function (html) {
        var t = document.createElement("template");
        t.innerHTML = html.trim();
        if (!t.content.firstElementChild) throw new Error("empty fragment " + p);
        return { node: t.content.firstElementChild, parent: r.headers.get("Roundtable-Post-Parent") || "" };
      });
    });
  }

  // patch puts fresh in old's place. When the focus is inside old, old is
  // brought up to date around the focused element instead, which stays.
  function patch(old, fresh) {
    var active = document.activeElement;
    if (!active || active === document.body || !old.contains(active)) {
      old.replaceWith(fresh);
      return;
    }
    morph(old, fresh, active);
  }

  function key(n) {
    if (n.nodeType !== 1) return "#" + n.nodeType;
    return n.tagName + "|" + (n.getAttribute("data-testid") || n.getAttribute("action") || n.getAttribute("name") || n.className);
  }

  function morph(a, b, active) {
    if (a.nodeType !== 1 || b.nodeType !== 1 || a.tagName !== b.tagName) {
      a.replaceWith(b);
      return;
    }
    Array.prototype.slice.call(a.attributes).forEach(function (at) {
      // A tabindex a script gave the focused element keeps it focusable.
      if (!b.hasAttribute(at.name) && at.name !== "tabindex") a.removeAttribute(at.name);
    });
    Array.prototype.slice.call(b.attributes).forEach(function (at) {
      if (a.getAttribute(at.name) !== at.value) a.setAttribute(at.name, at.value);
    });
    if (a === active) {
      if (!/^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) {
        a.replaceChildren.apply(a, Array.prototype.slice.call(b.childNodes));
      }
      return;
    }
    var kids = Array.prototype.slice.call(a.childNodes);
    var keep = kids.filter(function (c) { return c.contains(active); })[0];
    var fresh = Array.prototype.slice.call(b.childNodes);
    var twin = fresh.filter(function (c) { return key(c) === key(keep); })[0];
    if (!twin) {
      // What had the focus is gone from the fresh version.
      a.replaceWith(b);
      return;
    }
    kids.forEach(function (c) { if (c !== keep) a.removeChild(c); });
    var i = fresh.indexOf(twin);
    fresh.slice(0, i).forEach(function (c) { a.insertBefore(c, keep); });
    fresh.slice(i + 1).forEach(function (c) { a.appendChild(c); });
    morph(keep, twin, active);
  }

  // The thread page.

  function postEl(id) { return document.getElementById("post-" + id); }

  function postPath(id) {
    return "/t/" + encodeURIComponent(threadID) + "/p/" + encodeURIComponent(id) + "/fragment";
  }

  function article(node) { return node.matches("article") ? node : node.querySelector("article"); }

  function insertPost(id) {
    // One's own post is on the page already, after the redirect.
    if (!id || postEl(id)) return;
    return get(postPath(id)).then(function (f) {
      if (!f || postEl(id)) return;
      if (f.parent) {
        var parent = postEl(f.parent);
        var block = parent && parent.closest(".reply");
        if (!block) throw new Error("no reply " + f.parent + " on the page");
        var children = block.querySelector(":scope > .children");
        if (!children) {
          children = document.createElement("div");
          children.className = "children";
          block.appendChild(children);
        }
        children.appendChild(f.node);
      } else if (f.node.matches(".reply")) {
        var heading = document.getElementById("replies-heading");
        if (!heading) throw new Error("no replies on the page");
        var section = heading.parentNode;
        // A long thread's new replies go on its last page: an earlier
        // page counts them for a reload instead.
        if (section.hasAttribute("data-earlier-page")) throw new Error("a reply on a later page");
        var last = section.lastElementChild;
        if (last && last.matches("nav.reply-pages")) section.insertBefore(f.node, last);
        else section.appendChild(f.node);
        var n = section.hasAttribute("data-pages") ? (parseInt(heading.textContent, 10) || 0) + 1 :
          section.querySelectorAll(":scope > .reply").length;
        heading.textContent = plural(n, "reply", "replies");
      } else {
        return;
      }
      say("New reply");
    });
  }

  function looks(a) {
    return {
      removed: !!a.querySelector("[data-testid=removed]"),
      hidden: !!a.querySelector("[data-testid=hidden-placeholder], [data-testid=hidden]"),
      endorsed: !!a.querySelector("[data-testid=endorsed]")
    };
  }

  // refresh replaces a post shown on the page with its fresh version and
  // returns how it looked before and after (null when it is not shown).
  function refresh(id) {
    if (!postEl(id)) return Promise.resolve(null);
    return get(postPath(id)).then(function (f) {
      var old = postEl(id);
      if (!old) return null;
      // The thread is no longer the viewer's to see: a reload says so.
      if (!f) throw new Error("post " + id + " is gone");
      var was = looks(old);
      patch(old, article(f.node));
      return { was: was, is: looks(postEl(id)) };
    });
  }

  function updatePost(id, type) {
    return refresh(id).then(function (c) {
      if (!c) return;
      var w = c.was, i = c.is;
      if (type === "vote") say("Votes changed");
      else if (i.removed && !w.removed) say("A post was removed");
      else if (i.hidden && !w.hidden) say("A post was hidden by moderators");
      else if (w.hidden && !i.hidden) say("A post was restored");
      else if (i.endorsed && !w.endorsed) say("Answer endorsed by staff");
      else if (w.endorsed && !i.endorsed) say("Endorsement removed");
      else say("A post was edited");
    });
  }

  function accept(id, on) {
    // The answer accepted before is accepted no more.
    var ids = [id];
    Array.prototype.forEach.call(document.querySelectorAll("article.post.accepted"), function (a) {
      if (a.id !== "post-" + id) ids.push(a.id.slice("post-".length));
    });
    return ids.reduce(function (p, pid) {
      return p.then(function () { return refresh(pid); });
    }, Promise.resolve()).then(function () {
      var badge = document.querySelector(".thread-flags [data-testid=" + (on ? "unanswered" : "answered") + "]");
      if (badge) {
        badge.className = on ? "badge ok" : "badge warn";
        badge.setAttribute("data-testid", on ? "answered" : "unanswered");
        badge.textContent = on ? "Answered" : "Unanswered";
      }
      say(on ? "Answer accepted" : "Answer no longer accepted");
    });
  }

  function onThreadPage(ev) {
    var d = ev.data || {};
    // Other threads' news is not this page's.
    if (d.thread !== threadID) return;
    switch (ev.type) {
    case "post.created":
      return later(ev, function () { return insertPost(d.post); });
    case "post.updated":
    case "post.removed":
    case "vote":
      return later(ev, function () { return updatePost(d.post, ev.type); });
    case "answer.accepted":
    case "answer.unaccepted":
      return later(ev, function () { return accept(d.post, ev.type === "answer.accepted"); });
    default:
      // The thread's pins, locks and duplicates change its header and
      // forms: a reload shows them.
      waitForReload(ev);
    }
  }

  // The list, in its default order (latest activity first).

  function rowEl(id) {
    var rows = document.querySelectorAll("[data-testid=threads] > [data-thread-id]");
    for (var i = 0; i < rows.length; i++) if (rows[i].getAttribute("data-thread-id") === id) return rows[i];
    return null;
  }

  function putFirst(row) {
    var list = document.querySelector("[data-testid=threads]");
    if (!list) {
      var empty = document.querySelector("[data-testid=empty]");
      if (!empty) throw new Error("no thread list on the page");
      list = document.createElement("ul");
      list.className = "thread-list";
      list.setAttribute("data-testid", "threads");
      empty.replaceWith(list);
    }
    // Pinned threads stay first.
    var before = list.firstElementChild;
    if (!row.querySelector("[data-testid=pinned]")) {
      while (before && before.querySelector("[data-testid=pinned]")) before = before.nextElementSibling;
    }
    list.insertBefore(row, before);
  }

  function updateRow(ev, id) {
    var news = ev.type === "thread.created" || ev.type === "post.created";
    if (!news && !rowEl(id)) return;
    return get("/t/" + encodeURIComponent(id) + "/row").then(function (f) {
      var row = rowEl(id);
      if (!f) {
        // Hidden by moderators, say: no longer in this person's list.
        if (row && !row.contains(document.activeElement)) row.remove();
        return;
      }
      if (news && !(row && row.contains(document.activeElement))) {
        if (row) row.remove();
        putFirst(f.node);
      } else if (row) {
        patch(row, f.node);
      } else {
        return;
      }
      var to = rowEl(id).querySelector("[data-testid=thread-link]");
      if (ev.type === "thread.created") {
        var kind = rowEl(id).querySelector("[data-kind]");
        say("New " + (kind ? kind.getAttribute("data-kind") : "thread") + ": ", to);
      } else if (ev.type === "post.created") {
        say("New reply in ", to);
      } else if (ev.type === "answer.accepted") {
        say("Answer accepted in ", to);
      }
    });
  }

  function onList(ev) {
    var d = ev.data || {};
    if (!d.thread) return waitForReload(ev);
    later(ev, function () { return updateRow(ev, d.thread); });
  }

  function onEvent(e) {
    if (e.lastEventId) lastId = e.lastEventId;
    var ev;
    try { ev = JSON.parse(e.data); } catch (err) { return; }
    if (link && ev.data && ev.data.link && ev.data.link !== link) return;
    // Too much to replay: only a reload shows it all.
    if (ev.type === "missed") return waitForReload(ev);
    var ce = new CustomEvent("roundtable:live", { detail: ev, cancelable: true });
    if (!document.dispatchEvent(ce)) return;
    if (threadID && window.fetch) onThreadPage(ev);
    else if (latestList && window.fetch) onList(ev);
    else waitForReload(ev);
  }

  // The stream. EventSource reconnects by itself when a stream that was
  // open breaks, but never after a refusal (the server's bounds on open
  // streams answer 429 or 503; an ended session 401 or 403): then this page
  // tries again itself, later each time (about 5 s, 10 s, 20 s... up to 5
  // minutes, at random within half of it either way, so that a classroom's
  // pages do not all come back at once), from the last event it saw.
  var es = null, lastId = "", failures = 0, timer = 0;

  function connect() {
    timer = 0;
    var url = src;
    if (lastId) {
      var u = new URL(src, window.location.href);
      u.searchParams.set("lastEventId", lastId);
      url = u.pathname + u.search;
    }
    es = new EventSource(url, { withCredentials: true });
    es.addEventListener("open", function () { failures = 0; });
    es.addEventListener("error", function () {
      if (es.readyState !== EventSource.CLOSED || timer) return;
      es.close();
      var delay = Math.min(300000, 5000 * Math.pow(2, failures)) * (0.5 + Math.random());
      failures = Math.min(failures + 1, 10);
      timer = window.setTimeout(connect, delay);
    });
    TYPES.forEach(function (t) { es.addEventListener(t, onEvent); });
  }

  connect();
  window.addEventListener("pagehide", function () {
    if (timer) window.clearTimeout(timer);
    timer = -1;
    es.close();
  });
})();
