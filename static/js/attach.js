// Files in posts: an image or file pasted or dropped into a post's text
// (a textarea with data-attach-url) is uploaded to the discussion, and
// its Markdown goes in where the cursor was, in place of an "Uploading…"
// note. What happens is said in a live region under the text. Without
// JavaScript the form's file field does the same on sending.
(function () {
  "use strict";
  var seq = 0;

  function statusOf(area) {
    var id = area.id + "-attach-status";
    var el = document.getElementById(id);
    if (!el) {
      el = document.createElement("p");
      el.id = id;
      el.className = "attach-status";
      el.setAttribute("role", "status");
      el.setAttribute("aria-live", "polite");
      el.setAttribute("data-testid", "attach-status");
      area.insertAdjacentElement("afterend", el);
    }
    return el;
  }

  function say(area, msg, error) {
    var el = statusOf(area);
    el.classList.toggle("attach-error", !!error);
    el.textContent = msg;
  }

  // insert puts text at the cursor (replacing a selection), on lines of
  // its own, and leaves the cursor after it.
  function insert(area, text) {
    var start = area.selectionStart, end = area.selectionEnd, v = area.value;
    var before = v.slice(0, start), after = v.slice(end);
    if (before && !/\n$/.test(before)) text = "\n" + text;
    if (after && !/^\n/.test(after)) text = text + "\n";
    area.value = before + text + after;
    var at = before.length + text.length;
    area.setSelectionRange(at, at);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function replace(area, placeholder, text) {
    var i = area.value.indexOf(placeholder);
    if (i < 0) {
      insert(area, text);
      return;
    }
    area.value = area.value.slice(0, i) + text + area.value.slice(i + placeholder.length);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function upload(area, file) {
    var form = area.form;
    var data = new FormData();
    // The form's CSRF token, and its session token when it has one.
    ["csrf", "rt"].forEach(function (name) {
      var field = form && form.querySelector("input[type=hidden][name=" + name + "]");
      if (field) data.append(name, field.value);
    });
    data.append("file", file, file.name || "pasted-image.png");
    var name = file.name || "pasted image";
    var placeholder = "![Uploading " + name.replace(/[\[\]]/g, "") + "… #" + (++seq) + "]()";
    insert(area, placeholder);
    say(area, "Uploading " + name + "…");
    fetch(area.getAttribute("data-attach-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; },
        function () { return { ok: false, body: {} }; });
    }).then(function (r) {
      if (!r.ok || !r.body.markdown) {
        throw new Error(r.body.detail || "The upload did not work. Try again, or attach the file with the field below.");
      }
      replace(area, placeholder, r.body.markdown);
      say(area, "Attached " + r.body.name + ".");
    }).catch(function (err) {
      replace(area, placeholder, "");
      say(area, name + " was not attached: " + (err && err.message ? err.message : "the upload did not work."), true);
    });
  }

  function filesOf(transfer) {
    if (!transfer) return [];
    var out = [];
    if (transfer.files && transfer.files.length) {
      Array.prototype.forEach.call(transfer.files, function (f) { out.push(f); });
      return out;
    }
    Array.prototype.forEach.call(transfer.items || [], function (item) {
      if (item.kind === "file") {
        var f = item.getAsFile();
        if (f) out.push(f);
      }
    });
    return out;
  }

  function hook(area) {
    if (area.getAttribute("data-attach-hooked")) return;
    area.setAttribute("data-attach-hooked", "1");
    area.addEventListener("paste", function (e) {
      var files = filesOf(e.clipboardData);
      if (!files.length) return; // text pastes as usual
      e.preventDefault();
      files.forEach(function (f) { upload(area, f); });
    });
    area.addEventListener("dragover", function (e) {
      if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], "Files") >= 0) e.preventDefault();
    });
    area.addEventListener("drop", function (e) {
      var files = filesOf(e.dataTransfer);
      if (!files.length) return;
      e.preventDefault();
      area.focus();
      files.forEach(function (f) { upload(area, f); });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-attach-url]"), hook);
})();
