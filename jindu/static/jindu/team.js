/* jindu: adding a help-team member. A platform account fits only the roles that
 * work in the platform (cadre, police, doctor, social worker, grid worker); for
 * the others the account chooser is hidden. Without this script every field
 * shows and the server says what does not fit. */
(function () {
  "use strict";

  function update(form) {
    var role = form.querySelector("[data-team-role]");
    var account = form.querySelector("[data-team-account]");
    if (!role || !account) return;
    var roles = (form.getAttribute("data-account-roles") || "").split(" ");
    var fits = roles.indexOf(role.value) !== -1;
    account.hidden = !fits;
    if (!fits) {
      var user = form.querySelector("[data-team-user]");
      if (user) user.value = "";
    }
  }

  document.addEventListener("change", function (event) {
    if (!event.target.matches || !event.target.matches("[data-team-role]")) return;
    var form = event.target.closest("[data-team-form]");
    if (form) update(form);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-team-form]").forEach(update);
  });
})();
