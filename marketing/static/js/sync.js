// Live progress of the seller page's sync panel: polls its JSON endpoint while a run is active.
(function () {
  "use strict";
  var panel = document.querySelector(".sync-panel[data-sync-url]");
  if (!panel) { return; }
  var url = panel.getAttribute("data-sync-url");
  var delay = 2000;

  function show(run) {
    if (!run) { return; }
    Object.keys(run).forEach(function (key) {
      var node = panel.querySelector('[data-field="' + key + '"]');
      if (!node) { return; }
      var value = run[key];
      if (key === "error" || key === "notice" || key === "waiting") {
        node.hidden = !value;
      }
      node.textContent = value === null || value === undefined ? "–" : String(value);
    });
    var bar = panel.querySelector("[data-progress]");
    if (bar) {
      bar.max = run.reports_total || 1;
      bar.value = run.reports_done;
    }
    var button = panel.querySelector("[data-sync-button]");
    if (button) { button.disabled = run.active; }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        var run = body && body.run;
        show(run);
        if (run && run.active) { window.setTimeout(poll, delay); }
      })
      .catch(function () { window.setTimeout(poll, delay * 5); });
  }

  if (panel.getAttribute("data-active") === "true") { window.setTimeout(poll, delay); }
})();
