// The print rendering of the quarterly review (read by headless Chromium from a file, so a classic
// script): draw every [data-figure] as a static chart, then mark the page ready. The figures carry
// the light template (carloan/charts.py) and are drawn as they are: the PDF is light whatever
// mode the person reads the pages in (static/js/plot_theme.js is for the pages).
(function () {
  "use strict";
  var node = document.getElementById("kpi-figures");
  var figures = node ? JSON.parse(node.textContent) : {};
  function lookup(path) {
    return path.split(".").reduce(function (at, part) {
      return at ? at[part] : undefined;
    }, figures);
  }
  var charts = document.querySelectorAll("[data-figure]");
  var pending = [];
  for (var i = 0; i < charts.length; i += 1) {
    var figure = lookup(charts[i].dataset.figure);
    if (!figure || !window.Plotly) continue;
    var layout = Object.assign({}, figure.layout, {
      width: charts[i].clientWidth,
      height: charts[i].clientHeight,
      hovermode: false,
    });
    pending.push(window.Plotly.newPlot(charts[i], figure.data, layout, { staticPlot: true }));
  }
  Promise.all(pending).then(function () {
    document.body.dataset.ready = "1";
  });
})();
