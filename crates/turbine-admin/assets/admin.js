// Turbine admin: small progressive enhancements (the pages work without them, except pickers).
(function () {
  "use strict";
  // Theme: follow the system unless the user chose; remember the choice.
  var saved = null;
  try { saved = localStorage.getItem("turbine-admin-theme"); } catch (e) { /* private mode */ }
  if (saved) document.documentElement.setAttribute("data-theme", saved);

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) return;
    var toggle = t.closest("[data-theme-toggle]");
    if (toggle) {
      var current = document.documentElement.getAttribute("data-theme") ||
        (window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
      var next = current === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try { localStorage.setItem("turbine-admin-theme", next); } catch (e) { /* ignore */ }
      return;
    }
    // Picker: choosing a row fills the hidden input, or navigates (filters).
    var item = t.closest("[data-ac-value]");
    if (item) {
      var box = item.closest("[data-ac]");
      if (!box) return;
      var value = item.getAttribute("data-ac-value");
      var nav = box.getAttribute("data-ac-navigate");
      if (nav !== null) {
        var sep = nav.indexOf("?") >= 0 && nav.length > 1 ? "&" : "";
        window.location.href = nav + sep + encodeURIComponent(box.getAttribute("data-ac-param")) + "=" + encodeURIComponent(value);
        return;
      }
      var target = box.querySelector("[data-ac-target]");
      if (target) target.value = value;
      var label = box.querySelector("[data-ac-label]");
      if (label) label.textContent = item.getAttribute("data-ac-label") + " #" + value;
      var results = box.querySelector(".ac-results");
      if (results) results.innerHTML = "";
      var search = box.querySelector("input[type=search]");
      if (search) search.value = "";
      return;
    }
    var clear = t.closest("[data-ac-clear]");
    if (clear) {
      var b = clear.closest("[data-ac]");
      var h = b && b.querySelector("[data-ac-target]");
      if (h) h.value = "";
      var l = b && b.querySelector("[data-ac-label]");
      if (l) l.textContent = "None chosen";
    }
  });

  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (t instanceof HTMLInputElement && t.hasAttribute("data-ac-manual")) {
      var box = t.closest("[data-ac]");
      var target = box && box.querySelector("[data-ac-target]");
      if (target) target.value = t.value;
    }
  });

  // Bulk selection: select all, and a count of the selected rows.
  function updateCount(form) {
    var out = form.querySelector("[data-selected-count]");
    if (!out) return;
    var n = form.querySelectorAll("input[name=ids]:checked").length;
    out.textContent = n ? n + " selected" : "";
  }
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (!(t instanceof HTMLInputElement) || !t.form) return;
    if (t.hasAttribute("data-select-all")) {
      t.form.querySelectorAll("input[name=ids]").forEach(function (c) { c.checked = t.checked; });
    }
    if (t.hasAttribute("data-select-all") || t.name === "ids") updateCount(t.form);
  });

  // Escape closes an open picker.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    document.querySelectorAll(".ac-results").forEach(function (r) { r.innerHTML = ""; });
  });
})();
