// The composer of posts, on every textarea marked data-composer: a
// Write/Preview tab pair (the preview rendered by the server, sanitised as
// posts are), a Markdown toolbar with Ctrl/Cmd+B, I and K, completion of
// @names and #tags in a listbox (the ARIA combobox pattern), drafts kept
// in this browser's localStorage, and Reply and Quote opening the reply
// form under the post they answer. Without this script the forms still
// work: Preview sends the form back rendered, and Reply opens the page
// with the form in place.
(function () {
  "use strict";
  if (!document.querySelector || !window.fetch) return;

  var uid = 0;
  function nextID(prefix) { uid += 1; return prefix + "-" + uid; }

  // ---- Drafts ----
  // A draft is kept under the textarea's data-draft-key while typing. A
  // post sent remembers its key in sessionStorage; the page it lands on
  // clears the draft if it is a thread without a form error (the post was
  // taken), and keeps it otherwise.
  var SENT = "roundtable-draft-sent";
  function store() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function saveDraft(key, text) {
    var s = store();
    if (!s || !key) return;
    try {
      if (text.trim() === "") s.removeItem(key);
      else s.setItem(key, JSON.stringify({ text: text, at: Date.now() }));
    } catch (e) { /* storage full or refused: the text stays in the box */ }
  }
  function readDraft(key) {
    var s = store();
    if (!s || !key) return "";
    try {
      var d = JSON.parse(s.getItem(key) || "null");
      return d && typeof d.text === "string" ? d.text : "";
    } catch (e) { return ""; }
  }
  function dropDraft(key) {
    var s = store();
    if (s && key) try { s.removeItem(key); } catch (e) { /* nothing kept */ }
  }
  (function settleSent() {
    var key = "";
    try { key = window.sessionStorage.getItem(SENT) || ""; window.sessionStorage.removeItem(SENT); } catch (e) { return; }
    if (!key) return;
    var refused = document.querySelector("[data-testid=form-error], .error-summary");
    if (document.querySelector("article.thread") && !refused) dropDraft(key);
  })();

  // ---- Editing the text ----
  function replaceRange(ta, start, end, text, selStart, selEnd) {
    ta.focus();
    ta.setSelectionRange(start, end);
    // execCommand keeps the browser's undo; where it is refused, set the value.
    var done = false;
    try { done = document.execCommand && document.execCommand("insertText", false, text); } catch (e) { done = false; }
    if (!done) {
      ta.value = ta.value.slice(0, start) + text + ta.value.slice(end);
      ta.dispatchEvent(new Event("input", { bubbles: true }));
    }
    ta.setSelectionRange(selStart, selEnd);
  }
  function wrap(ta, before, after, placeholder) {
    var s = ta.selectionStart, e = ta.selectionEnd;
    var sel = ta.value.slice(s, e) || placeholder;
    replaceRange(ta, s, e, before + sel + after, s + before.length, s + before.length + sel.length);
  }
  // prefixLines starts each selected line with prefix (n: numbered).
  function prefixLines(ta, prefix, numbered) {
    var v = ta.value, s = ta.selectionStart, e = ta.selectionEnd;
    var from = v.lastIndexOf("\n", s - 1) + 1;
    var to = v.indexOf("\n", e);
    if (to < 0) to = v.length;
    var lines = v.slice(from, to).split("\n");
    var out = lines.map(function (l, i) { return (numbered ? (i + 1) + ". " : prefix) + l; }).join("\n");
    replaceRange(ta, from, to, out, from, from + out.length);
  }
  var actions = {
    bold: function (ta) { wrap(ta, "**", "**", "bold text"); },
    italic: function (ta) { wrap(ta, "_", "_", "italic text"); },
    code: function (ta) {
      var sel = ta.value.slice(ta.selectionStart, ta.selectionEnd);
      if (sel.indexOf("\n") >= 0) wrap(ta, "```\n", "\n```", "");
      else wrap(ta, "`", "`", "code");
    },
    link: function (ta) {
      var s = ta.selectionStart, e = ta.selectionEnd;
      var text = ta.value.slice(s, e) || "link text";
      var ins = "[" + text + "](https://)";
      var urlAt = s + text.length + 3;
      replaceRange(ta, s, e, ins, urlAt, urlAt + 8);
    },
    quote: function (ta) { prefixLines(ta, "> "); },
    bullets: function (ta) { prefixLines(ta, "- "); },
    numbers: function (ta) { prefixLines(ta, "", true); }
  };
  var buttons = [
    ["bold", "Bold (Ctrl+B)", "B"], ["italic", "Italic (Ctrl+I)", "I"], ["code", "Code", "</>"],
    ["link", "Link (Ctrl+K)", "Link"], ["quote", "Quote", "\u201C"], ["bullets", "Bulleted list", "\u2022"],
    ["numbers", "Numbered list: 1, 2, 3", "1."]
  ];

  // ---- Preview ----
  function csrfOf(form) {
    var f = form && form.querySelector("input[name=csrf]");
    return f ? f.value : "";
  }
  function renderPreview(ta, panel) {
    var body = panel.querySelector(".post-body");
    var url = ta.getAttribute("data-preview-url");
    if (!url || !body) return Promise.resolve();
    var data = new URLSearchParams();
    data.set("csrf", csrfOf(ta.form));
    data.set("body", ta.value);
    panel.setAttribute("aria-busy", "true");
    return fetch(url, { method: "POST", credentials: "same-origin", headers: { "Accept": "text/html" }, body: data })
      .then(function (r) {
        if (r.ok) return r.text();
        return r.text().then(function () {
          var p = document.createElement("p");
          p.className = "field-error";
          p.textContent = r.status === 413 ? "This text is too long to preview." :
            r.status === 429 ? "Too many previews in a minute: wait a few seconds." : "The preview could not be shown.";
          return p.outerHTML;
        });
      })
      .then(function (html) {
        // The server sanitised it as it does every post.
        body.innerHTML = html.trim() || "<p class=\"muted\">Nothing to preview yet.</p>";
      })
      .catch(function () { body.textContent = "The preview could not be shown."; })
      .then(function () { panel.removeAttribute("aria-busy"); });
  }

  // ---- Completion of @names and #tags ----
  // One listbox per field; the field is its combobox.
  function completer(field, forWhat, findToken) {
    var url = field.getAttribute("data-complete-url") || field.getAttribute("data-complete-tags");
    if (!url) return;
    var list = document.createElement("ul");
    list.id = nextID("complete");
    list.className = "composer-complete";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    field.parentNode.insertBefore(list, field.nextSibling);
    field.setAttribute("role", "combobox");
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-expanded", "false");
    field.setAttribute("aria-controls", list.id);
    var items = [], active = -1, token = null, timer = 0, seq = 0, picked = false;
    function close() {
      list.hidden = true;
      list.innerHTML = "";
      items = [];
      active = -1;
      field.setAttribute("aria-expanded", "false");
      field.removeAttribute("aria-activedescendant");
    }
    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) {
        li.setAttribute("aria-selected", j === i ? "true" : "false");
      });
      if (i >= 0 && list.children[i]) field.setAttribute("aria-activedescendant", list.children[i].id);
      else field.removeAttribute("aria-activedescendant");
    }
    function pick(i) {
      var it = items[i];
      if (!it || !token) return;
      var text = it.value + (forWhat === "tag" ? " " : " ");
      if (field.tagName === "TEXTAREA") {
        replaceRange(field, token.start, token.end, text, token.start + text.length, token.start + text.length);
      } else {
        field.value = field.value.slice(0, token.start) + text + field.value.slice(token.end);
        field.setSelectionRange(token.start + text.length, token.start + text.length);
        field.dispatchEvent(new Event("input", { bubbles: true }));
      }
      close();
    }
    function show(found) {
      items = found || [];
      list.innerHTML = "";
      if (!items.length) { close(); return; }
      items.forEach(function (it, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = it.label;
        if (it.value.charAt(0) === "@" && it.label.toLowerCase() !== it.value.slice(1)) {
          var h = document.createElement("span");
          h.className = "muted";
          h.textContent = " " + it.value;
          li.appendChild(h);
        }
        // mousedown, not click: the field keeps the focus.
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      field.setAttribute("aria-expanded", "true");
      highlight(0);
    }
    function ask() {
      token = findToken(field);
      if (!token || token.query.length < 1) { close(); return; }
      var mine = ++seq;
      var sep = url.indexOf("?") < 0 ? "?" : "&";
      fetch(url + sep + "for=" + forWhat + "&q=" + encodeURIComponent(token.query),
        { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (d) { if (mine === seq) show(d.items); })
        .catch(function () {});
    }
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    field.addEventListener("blur", function () { setTimeout(close, 100); });
    // The Enter that picked writes no line break, whichever events follow it.
    field.addEventListener("keypress", function (e) {
      if (picked && e.key === "Enter") e.preventDefault();
      picked = false;
    });
    field.addEventListener("keydown", function (e) {
      if (list.hidden) return;
      if (e.key === "ArrowDown") { e.preventDefault(); highlight((active + 1) % items.length); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight((active - 1 + items.length) % items.length); }
      else if (e.key === "Enter" || e.key === "Tab") { if (active >= 0) { e.preventDefault(); picked = true; pick(active); } }
      else if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(); }
    });
  }
  // mentionToken is the @name being typed before the caret, if any.
  function mentionToken(ta) {
    var upto = ta.value.slice(0, ta.selectionStart);
    var m = /(^|[\s(>])@([\p{L}\p{N}][\p{L}\p{N}._-]{0,39})$/u.exec(upto);
    if (!m) return null;
    var start = upto.length - m[2].length - 1;
    return { start: start, end: ta.selectionStart, query: m[2] };
  }
  // tagToken is the tag being typed before the caret in the tags field.
  function tagToken(input) {
    var upto = input.value.slice(0, input.selectionStart);
    var m = /(^|[\s,])#?([\p{L}\p{N}-]+)$/u.exec(upto);
    if (!m) return null;
    return { start: upto.length - m[2].length - (upto.charAt(upto.length - m[2].length - 1) === "#" ? 1 : 0), end: input.selectionStart, query: m[2] };
  }

  // ---- One composer ----
  function setUp(ta) {
    if (ta.getAttribute("data-composer-ready")) return;
    ta.setAttribute("data-composer-ready", "1");
    var form = ta.form;
    var panel = document.querySelector("[data-composer-preview='" + ta.id + "']");
    // Read each time: moving the reply form changes the post it answers.
    function draftOf() { return ta.getAttribute("data-draft-key") || ""; }
    var key = draftOf();

    // Tabs: Write shows the textarea and toolbar, Preview the rendered text.
    var tabs = document.createElement("div");
    tabs.className = "composer-tabs";
    tabs.setAttribute("role", "tablist");
    tabs.setAttribute("aria-label", "Write or preview");
    var write = document.createElement("button");
    var prev = document.createElement("button");
    var writePane = document.createElement("div");
    writePane.className = "composer-write";
    [[write, "Write"], [prev, "Preview"]].forEach(function (b) {
      b[0].type = "button";
      b[0].id = nextID("tab");
      b[0].setAttribute("role", "tab");
      b[0].textContent = b[1];
      b[0].setAttribute("data-composer-tab", b[1].toLowerCase());
      tabs.appendChild(b[0]);
    });
    writePane.id = nextID("write");
    writePane.setAttribute("role", "tabpanel");
    writePane.setAttribute("aria-labelledby", write.id);
    write.setAttribute("aria-controls", writePane.id);

    var toolbar = document.createElement("div");
    toolbar.className = "composer-toolbar";
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-label", "Formatting");
    toolbar.setAttribute("aria-controls", ta.id);
    buttons.forEach(function (b, i) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "small secondary";
      btn.setAttribute("aria-label", b[1]);
      btn.title = b[1];
      // The label holds the visible text too, for those who speak it.
      btn.textContent = b[2];
      btn.setAttribute("data-format", b[0]);
      // One tab stop: arrows move along the toolbar.
      btn.tabIndex = i === 0 ? 0 : -1;
      btn.addEventListener("click", function () { actions[b[0]](ta); });
      toolbar.appendChild(btn);
    });
    toolbar.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
      var all = Array.prototype.slice.call(toolbar.querySelectorAll("button"));
      var i = all.indexOf(document.activeElement);
      if (i < 0) return;
      e.preventDefault();
      var j = (i + (e.key === "ArrowRight" ? 1 : all.length - 1)) % all.length;
      all[i].tabIndex = -1;
      all[j].tabIndex = 0;
      all[j].focus();
    });

    ta.parentNode.insertBefore(tabs, ta);
    ta.parentNode.insertBefore(writePane, ta);
    writePane.appendChild(toolbar);
    writePane.appendChild(ta);
    if (panel) {
      panel.id = panel.id || nextID("preview");
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", prev.id);
      prev.setAttribute("aria-controls", panel.id);
      writePane.parentNode.insertBefore(panel, writePane.nextSibling);
    } else {
      prev.hidden = true;
    }
    var formButton = form && form.querySelector("[data-composer-preview-button]");
    if (formButton && panel) formButton.hidden = true;

    function select(which) {
      var showPreview = which === "preview";
      write.setAttribute("aria-selected", showPreview ? "false" : "true");
      prev.setAttribute("aria-selected", showPreview ? "true" : "false");
      write.tabIndex = showPreview ? -1 : 0;
      prev.tabIndex = showPreview ? 0 : -1;
      writePane.hidden = showPreview;
      if (panel) panel.hidden = !showPreview;
      if (showPreview && panel) renderPreview(ta, panel);
    }
    write.addEventListener("click", function () { select("write"); ta.focus(); });
    prev.addEventListener("click", function () { select("preview"); });
    tabs.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
      e.preventDefault();
      var to = document.activeElement === write ? prev : write;
      if (to.hidden) return;
      to.focus();
      to.click();
    });
    // A form sent back to preview opens on its Preview tab.
    select(panel && !panel.hidden ? "preview" : "write");

    ta.addEventListener("keydown", function (e) {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return;
      var k = e.key.toLowerCase();
      var act = k === "b" ? "bold" : k === "i" ? "italic" : k === "k" ? "link" : "";
      if (!act) return;
      e.preventDefault();
      actions[act](ta);
    });

    completer(ta, "mention", mentionToken);

    // Drafts: restored into an empty box (a box the server filled, with
    // a refused post or a quote, keeps what it holds), or over the post's
    // own text on an edit form first opened.
    if (key) {
      var kept = readDraft(key);
      if (kept && kept !== ta.value && (ta.value.trim() === "" || ta.hasAttribute("data-draft-over"))) {
        ta.value = kept;
        var note = document.createElement("p");
        note.className = "hint composer-draft-note";
        note.setAttribute("data-testid", "draft-restored");
        note.textContent = "Your unsent text was restored from this browser.";
        writePane.parentNode.insertBefore(note, tabs);
      }
      var saveTimer = 0;
      ta.addEventListener("input", function () {
        clearTimeout(saveTimer);
        saveTimer = setTimeout(function () { saveDraft(draftOf(), ta.value); }, 400);
      });
      // Leaving the page saves at once what the pause had not.
      window.addEventListener("pagehide", function () { if (ta.value.trim() !== "") saveDraft(draftOf(), ta.value); });
    }
    if (form) {
      form.addEventListener("submit", function (e) {
        var sub = e.submitter;
        if (sub && sub.name === "preview") return;
        saveDraft(draftOf(), ta.value);
        try { window.sessionStorage.setItem(SENT, draftOf()); } catch (err) { /* the draft stays */ }
      });
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-composer]"), setUp);
  var tags = document.querySelector("input[data-complete-tags]");
  if (tags) completer(tags, "tag", tagToken);

  // ---- Reply and Quote under the post ----
  var section = document.getElementById("reply");
  var replyForm = section && section.querySelector("form");
  if (!replyForm) return;
  var replyBox = replyForm.querySelector("textarea[data-composer]");
  var parentField = replyForm.querySelector("[data-reply-parent]");
  var atField = replyForm.querySelector("[data-reply-at]");
  var heading = section.querySelector("[data-reply-heading]");
  var home = document.querySelector("[data-reply-home]");
  var baseKey = replyBox ? (replyBox.getAttribute("data-draft-key") || "").replace(/\/reply\/[^\/]*$/, "/reply/") : "";

  // moveTo puts the form under the post article (or back at the end) and
  // switches its draft to the post answered.
  function moveTo(article, parentID, name) {
    if (!replyBox) return;
    saveDraft(replyBox.getAttribute("data-draft-key"), replyBox.value);
    var holder;
    if (article) {
      holder = document.getElementById("reply-" + article.id.replace(/^post-/, ""));
      if (!holder) {
        holder = document.createElement("div");
        holder.className = "reply-here";
        holder.id = "reply-" + article.id.replace(/^post-/, "");
        holder.tabIndex = -1;
        article.parentNode.insertBefore(holder, article.nextSibling);
      }
    } else {
      holder = home;
    }
    if (!holder) return;
    holder.innerHTML = "";
    holder.appendChild(section);
    if (parentField) parentField.value = parentID || "";
    if (atField) atField.value = article ? article.id.replace(/^post-/, "") : "";
    if (heading) heading.textContent = name ? "Reply to " + name : "Your reply";
    if (baseKey) {
      var key = baseKey + (parentID || "");
      replyBox.setAttribute("data-draft-key", key);
      replyBox.value = readDraft(key);
    }
  }
  document.addEventListener("click", function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    var link = e.target.closest && e.target.closest("a[data-reply-link], a[data-quote-link], a[data-reply-to-thread]");
    if (!link) return;
    if (link.hasAttribute("data-reply-to-thread")) {
      if (!home || home.contains(section)) return;
      e.preventDefault();
      moveTo(null, "", "");
      replyBox.focus();
      return;
    }
    var article = link.closest("article.post");
    if (!article) return;
    var name = article.getAttribute("data-quote-name") || "";
    if (link.hasAttribute("data-quote-link")) {
      // A quote of what is selected in the post; with nothing selected,
      // the page quotes the post's own Markdown.
      var sel = window.getSelection ? String(window.getSelection()) : "";
      var body = article.querySelector("[data-testid=post-body]");
      var within = sel && window.getSelection().rangeCount && body && body.contains(window.getSelection().getRangeAt(0).commonAncestorContainer);
      if (!within) return;
      e.preventDefault();
      if (!article.classList.contains("opening")) moveTo(article, link.getAttribute("data-quote-link"), name);
      var q = "> **" + name.replace(/[*_]/g, "") + "** wrote:\n>\n" +
        sel.trim().split("\n").map(function (l) { return "> " + l; }).join("\n") + "\n\n";
      // After what is already typed, on a paragraph of its own.
      var start = replyBox.value.length;
      var text = (start && !/\n\n$/.test(replyBox.value) ? "\n\n" : "") + q;
      replaceRange(replyBox, start, start, text, start + text.length, start + text.length);
      return;
    }
    e.preventDefault();
    moveTo(article, link.getAttribute("data-reply-link"), name);
    if (window.history && history.replaceState) history.replaceState(null, "", link.href);
    replyBox.focus();
  });
})();
