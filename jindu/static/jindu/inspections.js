/* jindu inspection forms (venue inspections, patrols). Loaded with defer; no inline handlers.
 *
 *  - each check item ([data-check-item]) shows its problem field only when the
 *    item is marked failed (or when the field already holds text or an error);
 *  - the fix deadline ([data-fix-deadline]) shows only when some item failed;
 *  - chosen photos are listed with their sizes, and a photo over the limit is
 *    named before the form is sent (the server checks again, by content);
 *  - [data-locate] fills latitude and longitude from the device, where allowed.
 */
(function () {
  "use strict";

  function failed(item) {
    var chosen = item.querySelector("input[data-check-result]:checked");
    return chosen && chosen.value === "fail";
  }

  function syncItem(item) {
    var holder = item.querySelector("[data-problem]");
    if (!holder) return;
    var input = holder.querySelector("input, textarea");
    var keep = (input && input.value.trim() !== "") || holder.querySelector(".is-invalid");
    holder.hidden = !(failed(item) || keep);
  }

  function syncForm(form) {
    var items = form.querySelectorAll("[data-check-item]");
    var anyFailed = false;
    items.forEach(function (item) {
      syncItem(item);
      if (failed(item)) anyFailed = true;
    });
    var deadline = form.querySelector("[data-fix-deadline]");
    if (deadline && items.length) {
      var input = deadline.querySelector("input");
      var keep = (input && input.value) || deadline.querySelector(".is-invalid");
      deadline.hidden = !(anyFailed || keep);
    }
  }

  function sizeText(bytes) {
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function listPhotos(input) {
    var form = input.form;
    var out = form && form.querySelector("[data-photo-preview]");
    if (!out) return;
    var limit = parseFloat(form.getAttribute("data-photo-limit-mb") || "5") * 1024 * 1024;
    out.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var line = document.createElement("div");
      var tooBig = file.size > limit;
      line.className = tooBig ? "text-danger" : "";
      line.textContent = file.name + "（" + sizeText(file.size) + "）" + (tooBig ? " 超过5MB，将被拒绝" : "");
      out.appendChild(line);
    });
  }

  function locate(button) {
    var form = button.form;
    var status = form.querySelector("[data-locate-status]");
    status.textContent = button.getAttribute("data-text-busy");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.querySelector("input[name=latitude]").value = position.coords.latitude.toFixed(6);
        form.querySelector("input[name=longitude]").value = position.coords.longitude.toFixed(6);
        status.textContent = "±" + Math.round(position.coords.accuracy) + " m";
      },
      function () {
        status.textContent = button.getAttribute("data-text-failed");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[data-check-result]")) {
      syncForm(target.form);
      if (target.value === "fail") {
        var item = target.closest("[data-check-item]");
        var problem = item && item.querySelector("[data-problem] input");
        if (problem) problem.focus();
      }
    }
    if (target.matches && target.matches("input[type=file][name=photos]")) listPhotos(target);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-locate]");
    if (button) locate(button);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("[data-check-item]")) syncForm(form);
    });
    if (window.isSecureContext && navigator.geolocation) {
      document.querySelectorAll("[data-locate]").forEach(function (b) { b.hidden = false; });
    }
  });
})();
