// The activity settings' rubric builder (kind_peer_review.templ): adds
// "Add criterion", and on each criterion "Move up", "Move down" and
// "Remove", renumbering the rows' fields (crit_title_0, crit_title_1…) and
// crit_rows as the server reads them. Without JavaScript the form still
// works: blank rows add criteria, a cleared title removes one.
// It also fills a new peer review's time zone with the browser's.
(function () {
  "use strict";

  function fillZone() {
    var field = document.querySelector("input[data-fill-zone]");
    if (!field || field.value !== "UTC" || !window.Intl || !Intl.DateTimeFormat) return;
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) field.value = zone;
    } catch (e) { /* keep UTC */ }
  }

  var fieldName = /^crit_([a-z]+)_\d+$/;

  function button(label, cls, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary small " + cls;
    b.textContent = label;
    b.setAttribute("data-rubric-action", action);
    return b;
  }

  function setup(builder) {
    var list = builder.querySelector("[data-rubric-rows]");
    var count = builder.querySelector("[data-rubric-count]");
    var status = builder.querySelector("[data-rubric-status]");
    var max = parseInt(builder.getAttribute("data-max-rows"), 10) || 22;
    if (!list || !count) return;

    function rows() { return Array.prototype.slice.call(list.querySelectorAll("[data-rubric-row]")); }

    function announce(msg) {
      if (!status) return;
      status.textContent = "";
      window.setTimeout(function () { status.textContent = msg; }, 60);
    }

    function rename(el, attr, i) {
      var v = el.getAttribute(attr);
      if (!v) return;
      el.setAttribute(attr, v.split(" ").map(function (part) {
        return part.replace(/^(crit_[a-z]+_)\d+(-error)?$/, function (_, head, tail) { return head + i + (tail || ""); });
      }).join(" "));
    }

    // number names a row's fields after its place i.
    function number(row, i) {
      var legend = row.querySelector("[data-rubric-legend]");
      if (legend) legend.textContent = "Criterion " + (i + 1);
      Array.prototype.forEach.call(row.querySelectorAll("[name], [id], [for], [aria-describedby], [data-field]"), function (el) {
        if (fieldName.test(el.getAttribute("name") || "")) rename(el, "name", i);
        rename(el, "id", i);
        rename(el, "for", i);
        rename(el, "aria-describedby", i);
        rename(el, "data-field", i);
      });
    }

    // renumber names every row's fields after its place, and counts them.
    // A radio renamed into a group with a checked one would uncheck it, so
    // the checked ones are checked again after.
    function renumber() {
      var checked = Array.prototype.slice.call(list.querySelectorAll("input[type=radio]:checked"));
      var all = rows();
      all.forEach(function (row, i) {
        number(row, i);
        var up = row.querySelector("[data-rubric-action=up]");
        var down = row.querySelector("[data-rubric-action=down]");
        if (up) up.disabled = i === 0;
        if (down) down.disabled = i === all.length - 1;
      });
      checked.forEach(function (r) { r.checked = true; });
      count.value = String(all.length);
      add.disabled = all.length >= max;
    }

    function title(row) {
      var t = row.querySelector("input[name^=crit_title_]");
      return t && t.value.trim() ? "“" + t.value.trim() + "”" : "Blank criterion";
    }

    function blank(row) {
      Array.prototype.forEach.call(row.querySelectorAll("input, textarea"), function (el) {
        if (el.type === "radio") {
          el.checked = el.value === "optional";
        } else if (el.type === "number") {
          el.value = "0";
        } else if (el.type !== "button") {
          el.value = "";
        }
        el.removeAttribute("aria-invalid");
        var d = el.getAttribute("aria-describedby");
        if (d) {
          d = d.split(" ").filter(function (id) { return !/-error$/.test(id); }).join(" ");
          if (d) el.setAttribute("aria-describedby", d); else el.removeAttribute("aria-describedby");
        }
      });
      Array.prototype.forEach.call(row.querySelectorAll(".field-error"), function (p) { p.remove(); });
    }

    function controls(row) {
      var bar = document.createElement("div");
      bar.className = "criterion-actions";
      bar.appendChild(button("Move up", "", "up"));
      bar.appendChild(button("Move down", "", "down"));
      bar.appendChild(button("Remove", "danger", "remove"));
      row.appendChild(bar);
    }

    var add = button("Add criterion", "", "add");
    add.className = "secondary";
    var addBar = document.createElement("p");
    addBar.className = "rubric-add";
    addBar.appendChild(add);
    list.parentNode.insertBefore(addBar, list.nextSibling);

    rows().forEach(controls);
    renumber();

    builder.addEventListener("click", function (ev) {
      var b = ev.target.closest("[data-rubric-action]");
      if (!b || !builder.contains(b)) return;
      var action = b.getAttribute("data-rubric-action");
      var row = b.closest("[data-rubric-row]");
      var all = rows();
      if (action === "add") {
        if (all.length >= max) return;
        var fresh = all[all.length - 1].cloneNode(true);
        number(fresh, all.length);
        blank(fresh);
        list.appendChild(fresh);
        renumber();
        var t = fresh.querySelector("input[name^=crit_title_]");
        if (t) t.focus();
        announce("Criterion " + rows().length + " added.");
        return;
      }
      if (!row) return;
      var i = all.indexOf(row);
      if (action === "remove") {
        var name = title(row);
        if (all.length === 1) {
          blank(row);
        } else {
          row.remove();
        }
        renumber();
        var next = rows()[Math.min(i, rows().length - 1)];
        var focus = next && next.querySelector("input[name^=crit_title_]");
        if (focus) focus.focus();
        announce(name + " removed.");
      } else if (action === "up" && i > 0) {
        list.insertBefore(row, all[i - 1]);
        renumber();
        (b.disabled ? row.querySelector("[data-rubric-action=down]") : b).focus();
        announce(title(row) + " moved to criterion " + i + ".");
      } else if (action === "down" && i < all.length - 1) {
        list.insertBefore(all[i + 1], row);
        renumber();
        (b.disabled ? row.querySelector("[data-rubric-action=up]") : b).focus();
        announce(title(row) + " moved to criterion " + (i + 2) + ".");
      }
    });
  }

  fillZone();
  Array.prototype.forEach.call(document.querySelectorAll("[data-rubric]"), setup);
})();
