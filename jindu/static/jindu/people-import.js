/* jindu: the register import pages. Checking or writing a sheet of 100,000 rows
 * takes several seconds: once a form is sent, its buttons are disabled (no second
 * upload or double write) and a status line says that the server is working.
 * The text comes from the page (#jd-import-texts, translated), or a default.
 */
(function () {
  "use strict";

  var DEFAULT_TEXT = "正在处理，请稍候……行数较多时需要几秒到几十秒，请勿重复提交。";

  document.addEventListener("submit", function (event) {
    // A confirmation dialog (app.js) may have stopped this submit; it sends again itself.
    if (event.defaultPrevented) return;
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    if (form.dataset.jdBusy) {
      event.preventDefault();
      return;
    }
    form.dataset.jdBusy = "1";
    var buttons = form.querySelectorAll("button[type=submit]");
    window.setTimeout(function () {
      // After the browser has taken the submitter's value, not before.
      buttons.forEach(function (button) { button.disabled = true; });
    }, 0);
    var status = document.createElement("p");
    status.className = "small text-body-secondary mt-2 mb-0 jd-import-busy";
    status.setAttribute("role", "status");
    var spinner = document.createElement("span");
    spinner.className = "spinner-border spinner-border-sm me-2";
    spinner.setAttribute("aria-hidden", "true");
    status.appendChild(spinner);
    var texts = document.getElementById("jd-import-texts");
    var text = (texts && texts.dataset.busyText) || DEFAULT_TEXT;
    status.appendChild(document.createTextNode(text));
    form.appendChild(status);
  });

  // Back from the next page (bfcache): the form is usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-jd-busy]").forEach(function (form) {
      delete form.dataset.jdBusy;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
      form.querySelectorAll(".jd-import-busy").forEach(function (n) { n.remove(); });
    });
  });
})();
