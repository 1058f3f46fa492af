/* jindu follow-up forms. Loaded with defer; no inline handlers.
 *
 *  - on the visit form ([data-jd-visit-form]) the help-kind field
 *    ([data-jd-help-kind]) shows only when the kind is "help given".
 */
(function () {
  "use strict";

  function sync(form) {
    var holder = form.querySelector("[data-jd-help-kind]");
    if (!holder) return;
    var chosen = form.querySelector("input[name=kind]:checked");
    var show = chosen && chosen.value === "help";
    holder.hidden = !show;
    var select = holder.querySelector("select");
    if (select) select.disabled = !show;
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("[data-jd-visit-form]");
    if (form && event.target.name === "kind") sync(form);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-jd-visit-form]").forEach(sync);
  });
})();
