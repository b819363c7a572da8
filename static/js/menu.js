// Staff menus are details elements: they open, close and post without
// JavaScript. This only tidies them: one open at a time, Escape closes the
// open one (back to its summary), and a click elsewhere closes it.
(function () {
  "use strict";
  function openMenus() {
    return document.querySelectorAll("details.menu[open]");
  }
  document.addEventListener("toggle", function (e) {
    var menu = e.target;
    if (!menu.matches || !menu.matches("details.menu") || !menu.open) return;
    openMenus().forEach(function (m) { if (m !== menu) m.open = false; });
  }, true);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    openMenus().forEach(function (m) {
      var inside = m.contains(document.activeElement);
      m.open = false;
      if (inside) m.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (e) {
    openMenus().forEach(function (m) {
      if (!m.contains(e.target)) m.open = false;
    });
  });
})();
