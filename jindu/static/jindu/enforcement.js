/* jindu: small behaviours of the enforcement pages. Loaded with defer; no inline handlers.
 *
 *  - a revealed ID number ([data-enforcement-revealed]) goes back to its mask on "隐藏",
 *    and by itself after two minutes, so that it does not stay on an unattended screen;
 *  - a field that only matters when a box is ticked ([data-enforcement-follows="name"])
 *    shows only then, unless it carries an error.
 */
(function () {
  "use strict";

  var HIDE_AFTER_MS = 120000;

  function hide(holder) {
    var value = holder.querySelector("[data-enforcement-revealed]");
    if (!value) return;
    var masked = document.createElement("span");
    masked.className = "font-monospace";
    masked.textContent = value.getAttribute("data-masked") || "";
    while (holder.firstChild) holder.removeChild(holder.firstChild);
    holder.appendChild(masked);
  }

  function armTimers(root) {
    (root || document).querySelectorAll("[data-enforcement-revealed]").forEach(function (value) {
      var holder = value.closest(".jd-reveal");
      if (!holder || holder.dataset.enforcementTimer) return;
      holder.dataset.enforcementTimer = "1";
      window.setTimeout(function () { hide(holder); }, HIDE_AFTER_MS);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-enforcement-hide]");
    if (!button) return;
    var holder = button.closest(".jd-reveal");
    if (holder) hide(holder);
  });

  function followers(form) {
    form.querySelectorAll("[data-enforcement-follows]").forEach(function (box) {
      var checkbox = form.querySelector("input[type=checkbox][name=" + box.getAttribute("data-enforcement-follows") + "]");
      if (!checkbox || box.querySelector(".is-invalid")) return;
      var sync = function () { box.classList.toggle("d-none", !checkbox.checked); };
      checkbox.addEventListener("change", sync);
      sync();
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) { armTimers(event.target.parentNode || document); });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-enforcement-form]").forEach(followers);
    armTimers(document);
  });
})();
