/* Draws every server-built figure on the page: <script type="application/json" class="plotly-figure"
   data-target="id"> holds the figure; the element with that id receives the plot. No inline script, no eval,
   so the page keeps its strict Content-Security-Policy. `data-rendered` is set once drawn (tests wait on it). */
(function () {
  "use strict";
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  function draw(block) {
    var target = document.getElementById(block.getAttribute("data-target"));
    if (!target) { return; }
    var figure = JSON.parse(block.textContent);
    window.Plotly.newPlot(target, figure.data, figure.layout || {}, config).then(function () {
      target.setAttribute("data-rendered", "true");
    });
  }

  function drawAll() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("script.plotly-figure").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
