// Copy buttons: in the admin console each names, in data-copy, the id of a
// read-only field whose value it copies; on a thread, each post's "Copy
// link" names its link. Without JavaScript the buttons stay hidden (the
// fields can be selected by hand).
(function () {
  "use strict";
  var status = document.getElementById("copy-status");
  function announce(msg) {
    if (!status) return;
    status.textContent = "";
    // A fresh text node after a pause makes screen readers announce a
    // repeated message too.
    window.setTimeout(function () { status.textContent = msg; }, 60);
  }
  function selectField(field) {
    field.focus();
    field.select();
    if (field.setSelectionRange) field.setSelectionRange(0, field.value.length);
  }
  function done(button, label) {
    var text = button.textContent;
    button.textContent = "Copied";
    announce("Copied " + label);
    window.setTimeout(function () { button.textContent = text; }, 2000);
  }
  // write puts text on the clipboard where the page may, then calls copied;
  // otherwise, or when the browser refuses, it calls instead.
  function write(text, copied, instead) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(copied, instead);
    } else {
      instead();
    }
  }
  function fallback(field, button, label) {
    selectField(field);
    var ok = false;
    try { ok = document.execCommand && document.execCommand("copy"); } catch (e) { ok = false; }
    if (ok) {
      done(button, label);
    } else {
      announce(label + " selected: press Control+C, or Command+C on a Mac, to copy it");
    }
  }
  // A post's "Copy link" names its link in data-copy-link, without any
  // session token: the classmate who opens it comes with their own. Posts
  // a live update inserts get theirs shown too.
  function showLinks(root) {
    var links = root.querySelectorAll ? root.querySelectorAll("button[data-copy-link]") : [];
    Array.prototype.forEach.call(links, function (button) { button.hidden = false; });
    if (root.matches && root.matches("button[data-copy-link]")) root.hidden = false;
  }
  showLinks(document);
  if (window.MutationObserver) {
    // A post brought up to date in place takes the fresh version's
    // attributes, hidden among them.
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        if (r.type === "attributes") {
          if (r.target.hidden && r.target.matches("button[data-copy-link]")) r.target.hidden = false;
          return;
        }
        Array.prototype.forEach.call(r.addedNodes, function (n) { if (n.nodeType === 1) showLinks(n); });
      });
    }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["hidden"] });
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button[data-copy-link]");
    if (!button) return;
    var link = new URL(button.getAttribute("data-copy-link"), window.location.href).href;
    write(link, function () { done(button, "link"); }, function () { window.prompt("Copy this link:", link); });
  });
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var label = (button.getAttribute("aria-label") || "Copy value").replace(/^Copy /, "");
    button.hidden = false;
    button.addEventListener("click", function () {
      write(field.value, function () { done(button, label); }, function () { fallback(field, button, label); });
    });
  });
})();
