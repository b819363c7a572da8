// The review form keeps a draft as the reviewer types: a few seconds after
// the last change it posts the form as "save" in the background, and says
// when the draft was kept. Without JavaScript, "Save draft" does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) return;
  var status = form.querySelector("[data-autosave-status]");
  var timer = null;
  var sending = false;
  var again = false;
  function say(text) {
    if (status) status.textContent = text;
  }
  function save() {
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    var data = new FormData(form);
    // The paragraphs' comments are outside the form element, tied to it
    // by their form attribute; FormData collects them too.
    data.set("action", "save");
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", Accept: "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) {
        if (r.ok) say("Draft saved at " + body.saved + ".");
        else say((body && body.detail) || "Your draft could not be saved: use Save draft.");
      });
    }).catch(function () {
      say("Your draft could not be saved: check your connection, or use Save draft.");
    }).then(function () {
      sending = false;
      if (again) {
        again = false;
        save();
      }
    });
  }
  function changed(e) {
    var t = e.target;
    if (!t || !t.name || (t.form !== form && t.getAttribute("form") !== form.id)) return;
    clearTimeout(timer);
    timer = setTimeout(save, 2000);
  }
  document.addEventListener("input", changed);
  document.addEventListener("change", changed);
})();
