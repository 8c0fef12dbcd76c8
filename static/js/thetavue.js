/* ThetaVue's few behaviours: expand/collapse all, copy a token, add a strategy row.
   Loaded from static/ (the Content-Security-Policy allows no inline script). */
(function () {
  "use strict";

  function onClick(selector, handler) {
    document.addEventListener("click", function (event) {
      var target = event.target.closest(selector);
      if (target) handler(target, event);
    });
  }

  // First visit: tell the server the browser's time zone (never overrides a chosen one).
  document.addEventListener("DOMContentLoaded", function () {
    var url = document.body.getAttribute("data-tz-report");
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!url || !zone || !window.fetch) return;
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    var body = new URLSearchParams({ time_zone: zone, only_if_unset: "1" });
    fetch(url, { method: "POST", headers: headers, body: body, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 204) document.body.removeAttribute("data-tz-report");
      }, function () {});
  });

  // Expand or collapse every strategy group of a book.
  onClick("[data-toggle-all]", function (button) {
    var root = document.querySelector(button.getAttribute("data-toggle-all"));
    if (!root) return;
    var groups = root.querySelectorAll("details");
    var anyClosed = Array.prototype.some.call(groups, function (d) { return !d.open; });
    groups.forEach(function (d) { d.open = anyClosed; });
    button.textContent = anyClosed ? "Collapse all" : "Expand all";
  });

  // Copy a freshly created API token.
  onClick("[data-copy]", function (button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    }, function () {
      button.textContent = "Select and copy";
    });
  });

  // Add a strategy row to the plan editor from its <template>.
  onClick("[data-formset-add]", function (button) {
    var prefix = button.getAttribute("data-formset-add");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var template = document.getElementById(prefix + "-empty");
    var body = document.getElementById(prefix + "-rows");
    if (!total || !template || !body) return;
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) return;
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var first = body.lastElementChild && body.lastElementChild.querySelector("select, input");
    if (first) first.focus();
  });
})();
