/* jindu: the territory tree. A node's children are fetched by htmx the first time it
 * is opened (hx-trigger="click once"); Bootstrap's collapse shows and hides them.
 * This only turns the node's chevron to match. */
(function () {
  "use strict";

  function chevron(list, open) {
    var toggle = document.querySelector('[aria-controls="' + list.id + '"] .bi');
    if (!toggle) return;
    toggle.classList.toggle("bi-chevron-right", !open);
    toggle.classList.toggle("bi-chevron-down", open);
  }

  document.addEventListener("show.bs.collapse", function (event) {
    if (event.target.id && event.target.id.indexOf("unit-") === 0) chevron(event.target, true);
  });
  document.addEventListener("hide.bs.collapse", function (event) {
    if (event.target.id && event.target.id.indexOf("unit-") === 0) chevron(event.target, false);
  });
})();
