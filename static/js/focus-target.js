// Put keyboard focus where an action led: after a redirect to a fragment
// (a new reply at #post-ID, the moderation heading), or a same-page link to
// one, focus its target so screen readers announce it and Tab continues
// from there. Without this script the browser still scrolls to the target.
(function () {
  "use strict";
  function focusTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!id) return;
    var el = document.getElementById(id);
    if (!el) return;
    // A field the page asks to focus (a form sent back with an error) wins.
    var auto = document.querySelector("[autofocus]");
    if (auto && auto !== el) return;
    if (el.tabIndex < 0 && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    el.focus();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusTarget);
  } else {
    focusTarget();
  }
  window.addEventListener("hashchange", focusTarget);
})();
