// Copy buttons of the admin console: each button names, in data-copy, the
// id of a read-only field whose value it copies. Without JavaScript the
// buttons stay hidden and the fields can be selected by hand.
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
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var label = (button.getAttribute("aria-label") || "Copy value").replace(/^Copy /, "");
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { done(button, label); },
          function () { fallback(field, button, label); });
      } else {
        fallback(field, button, label);
      }
    });
  });
})();
