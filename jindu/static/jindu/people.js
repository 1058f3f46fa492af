/* jindu: small behaviours of the register's pages. Loaded with defer; no inline handlers.
 *
 *  - a revealed value ([data-people-revealed]) goes back to its mask on "隐藏", and by
 *    itself after two minutes, so that it does not stay on an unattended screen;
 *  - the export menu asks for a reason only when the full ID numbers are ticked;
 *  - the person form asks for the key-person reason only when "重点人员" is ticked.
 */
(function () {
  "use strict";

  var HIDE_AFTER_MS = 120000;

  function hide(holder) {
    var value = holder.querySelector("[data-people-revealed]");
    if (!value) return;
    var masked = document.createElement("span");
    masked.className = "font-monospace";
    masked.textContent = value.getAttribute("data-masked") || "";
    while (holder.firstChild) holder.removeChild(holder.firstChild);
    holder.appendChild(masked);
  }

  function armTimers(root) {
    (root || document).querySelectorAll("[data-people-revealed]").forEach(function (value) {
      var holder = value.closest(".jd-reveal");
      if (!holder || holder.dataset.peopleTimer) return;
      holder.dataset.peopleTimer = "1";
      window.setTimeout(function () { hide(holder); }, HIDE_AFTER_MS);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-people-hide]");
    if (!button) return;
    var holder = button.closest(".jd-reveal");
    if (holder) hide(holder);
  });

  function follow(checkbox, box) {
    if (!checkbox || !box) return;
    var sync = function () { box.classList.toggle("d-none", !checkbox.checked); };
    checkbox.addEventListener("change", sync);
    sync();
  }

  function setUp(root) {
    var exportForm = root.querySelector("[data-people-export]");
    if (exportForm) {
      follow(exportForm.querySelector("input[name=full]"),
             exportForm.querySelector("[data-people-export-reason]"));
    }
    var reason = root.querySelector("[data-people-key-reason]");
    var keyPerson = root.querySelector("input[name=key_person]");
    // Keep the reason visible when it carries an error, whatever the box says.
    if (reason && keyPerson && !reason.querySelector(".is-invalid")) follow(keyPerson, reason);
    armTimers(root);
  }

  document.addEventListener("htmx:afterSwap", function (event) { armTimers(event.target.parentNode || document); });
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
})();
