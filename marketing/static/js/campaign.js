// The campaign page while approved bids are on their way to Amazon: re-reads the page every few seconds and
// swaps in its keywords table (outcome and current bid) until no row is sending any more. The chart stays.
(function () {
  "use strict";
  var delay = 2000;

  function sending() {
    return document.querySelector("#targets [data-sending]") !== null;
  }

  function poll() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var fresh = html && new DOMParser().parseFromString(html, "text/html").querySelector("#targets tbody");
        if (fresh) { document.querySelector("#targets tbody").replaceWith(fresh); }
        window.setTimeout(next, fresh ? delay : delay * 5);
      })
      .catch(function () { window.setTimeout(next, delay * 5); });
  }

  function next() {
    if (sending()) { poll(); }
  }

  if (sending()) { window.setTimeout(poll, delay); }
})();
