/* The township bar chart of venue colours, drawn with the vendored ECharts.
 *
 * Reads its data from the JSON block named by data-chart-source (written by
 * Django's json_script), so no code or style travels in the page. The tooltip
 * is drawn on the canvas (richText), since an HTML tooltip would need inline
 * styles that the Content-Security-Policy refuses.
 */
(function () {
  "use strict";

  var COLOURS = { green: "#198754", yellow: "#ffc107", red: "#dc3545", blue: "#0d6efd" };
  var ROW_HEIGHT = 34;

  function draw(holder) {
    var source = document.getElementById(holder.getAttribute("data-chart-source"));
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    if (!data.townships.length) {
      holder.hidden = true;
      return;
    }
    holder.style.height = Math.max(160, data.townships.length * ROW_HEIGHT + 90) + "px";
    var chart = window.echarts.init(holder, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: data.townships },
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          stack: "venues",
          data: s.data,
          itemStyle: { color: COLOURS[s.key] },
          emphasis: { focus: "series" }
        };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart-source]").forEach(draw);
  });
})();
