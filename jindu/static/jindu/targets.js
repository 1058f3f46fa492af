/* Targets: the running sums of a breakdown form, compared with the county target
 * as one types, so that a breakdown that does not add up shows before it is saved.
 */
(function () {
  "use strict";

  function parse(text) {
    var value = parseFloat(String(text).trim());
    return isNaN(value) ? null : value;
  }

  function refresh(form) {
    form.querySelectorAll("[data-sum]").forEach(function (out) {
      var kind = out.getAttribute("data-sum");
      var whole = parse(out.getAttribute("data-whole"));
      var total = 0;
      var any = false;
      form.querySelectorAll('[data-share="' + kind + '"]').forEach(function (input) {
        var value = parse(input.value);
        if (value !== null) {
          total += value;
          any = true;
        }
      });
      if (!any) {
        out.textContent = "—";
        out.className = "";
        return;
      }
      var rounded = Math.round(total * 1000) / 1000;
      out.textContent = String(rounded);
      out.className = whole !== null && Math.abs(rounded - whole) < 0.0005 ? "text-success fw-semibold" : "text-danger fw-semibold";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("breakdown-form");
    if (!form) return;
    form.addEventListener("input", function () { refresh(form); });
    refresh(form);
  });
})();
