/* jindu: small behaviours for the shell. Loaded with defer; no inline handlers anywhere.
 *
 *  - data-confirm="…" on a form (submit) or on a button or link (click) asks first;
 *  - data-autosubmit on a form (or on one select) submits it when a select changes;
 *  - data-autodismiss on an alert closes it after a few seconds;
 *  - data-history-back on a link goes back one page;
 *  - htmx errors are shown as a toast; a full page answered to an htmx request
 *    (the sign-in page after a session ended) replaces the page instead of being
 *    swapped into a fragment.
 */
(function () {
  "use strict";

  var AUTODISMISS_MS = 6000;

  function texts() {
    var holder = document.getElementById("jd-toasts");
    var data = holder ? holder.dataset : {};
    return {
      error: data.textError || "操作未成功，请刷新页面后重试。",
      network: data.textNetwork || "无法连接服务器，请检查网络后重试。",
      confirmTitle: data.textConfirmTitle || "请确认",
      ok: data.textOk || "确定",
      cancel: data.textCancel || "取消",
      close: data.textClose || "关闭"
    };
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* ---------------------------------------------------------------- toasts */
  function toast(message, variant) {
    var holder = document.getElementById("jd-toasts");
    if (!holder) {
      window.alert(message);
      return;
    }
    var box = el("div", "toast align-items-center border-0 text-bg-" + (variant || "danger"));
    box.setAttribute("role", "alert");
    var row = el("div", "d-flex");
    row.appendChild(el("div", "toast-body", message));
    var close = el("button", "btn-close btn-close-white me-2 m-auto");
    close.type = "button";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", texts().close);
    row.appendChild(close);
    box.appendChild(row);
    holder.appendChild(box);
    if (window.bootstrap) {
      var t = window.bootstrap.Toast.getOrCreateInstance(box);
      box.addEventListener("hidden.bs.toast", function () { box.remove(); });
      t.show();
    }
  }

  /* ---------------------------------------------------------------- confirmation */
  var modal = null;

  function buildModal() {
    var t = texts();
    var root = el("div", "modal fade");
    root.id = "jd-confirm";
    root.tabIndex = -1;
    root.setAttribute("aria-hidden", "true");
    root.setAttribute("aria-labelledby", "jd-confirm-title");
    var dialog = el("div", "modal-dialog modal-dialog-centered");
    var content = el("div", "modal-content");
    var header = el("div", "modal-header");
    var title = el("h2", "modal-title h5", t.confirmTitle);
    title.id = "jd-confirm-title";
    header.appendChild(title);
    var body = el("div", "modal-body");
    var footer = el("div", "modal-footer");
    var cancel = el("button", "btn btn-outline-secondary", t.cancel);
    cancel.type = "button";
    cancel.setAttribute("data-bs-dismiss", "modal");
    var ok = el("button", "btn btn-primary", t.ok);
    ok.type = "button";
    footer.appendChild(cancel);
    footer.appendChild(ok);
    content.appendChild(header);
    content.appendChild(body);
    content.appendChild(footer);
    dialog.appendChild(content);
    root.appendChild(dialog);
    document.body.appendChild(root);
    return { root: root, body: body, ok: ok };
  }

  function askThen(message, proceed) {
    if (!window.bootstrap) {
      if (window.confirm(message)) proceed();
      return;
    }
    modal = modal || buildModal();
    modal.body.textContent = message;
    var instance = window.bootstrap.Modal.getOrCreateInstance(modal.root);
    var confirmed = false;
    modal.ok.onclick = function () {
      confirmed = true;
      instance.hide();
    };
    modal.root.addEventListener("hidden.bs.modal", function done() {
      modal.root.removeEventListener("hidden.bs.modal", done);
      if (confirmed) proceed();
    });
    instance.show();
  }

  // Capture phase, so that the question comes before htmx or the browser acts.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (!message || form.dataset.jdConfirmed === "1") {
      if (form.dataset) delete form.dataset.jdConfirmed;
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter || null;
    askThen(message, function () {
      form.dataset.jdConfirmed = "1";
      if (form.requestSubmit) form.requestSubmit(submitter);
      else form.submit();
    });
  }, true);

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("a[data-confirm], button[data-confirm]");
    if (!trigger) return;
    if (trigger.dataset.jdConfirmed === "1") {
      delete trigger.dataset.jdConfirmed;
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    askThen(trigger.getAttribute("data-confirm"), function () {
      trigger.dataset.jdConfirmed = "1";
      trigger.click();
    });
  }, true);

  /* ---------------------------------------------------------------- filters */
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("select, input[type=checkbox], input[type=radio]")) return;
    var form = target.form;
    if (!form) return;
    if (target.hasAttribute("data-autosubmit") || form.hasAttribute("data-autosubmit")) {
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    }
  });

  /* ---------------------------------------------------------------- small links */
  document.addEventListener("click", function (event) {
    var back = event.target.closest && event.target.closest("[data-history-back]");
    if (!back) return;
    if (window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    } else {
      back.setAttribute("href", "/");
    }
  });

  function autodismiss(root) {
    (root || document).querySelectorAll(".alert[data-autodismiss]").forEach(function (alert) {
      window.setTimeout(function () {
        if (window.bootstrap && document.body.contains(alert)) {
          window.bootstrap.Alert.getOrCreateInstance(alert).close();
        }
      }, AUTODISMISS_MS);
    });
  }

  /* ---------------------------------------------------------------- htmx */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var text = xhr && typeof xhr.responseText === "string" ? xhr.responseText : "";
    // A whole page where a fragment was expected: the session ended or the
    // server answered with an error page. Show it as a page.
    if (xhr && xhr.status < 400 && /^\s*<!doctype html/i.test(text) && xhr.responseURL) {
      event.detail.shouldSwap = false;
      window.location.assign(xhr.responseURL);
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    // Background polls fail quietly; the next one tries again.
    if (event.detail.requestConfig && event.detail.requestConfig.headers &&
        event.detail.requestConfig.headers["X-Jindu-Background"]) return;
    var t = texts();
    toast(t.error + (xhr ? " (" + xhr.status + ")" : ""), "danger");
  });

  document.addEventListener("htmx:sendError", function (event) {
    if (event.detail.requestConfig && event.detail.requestConfig.headers &&
        event.detail.requestConfig.headers["X-Jindu-Background"]) return;
    toast(texts().network, "warning");
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    autodismiss(event.target);
  });

  document.addEventListener("DOMContentLoaded", function () {
    autodismiss(document);
  });
})();
