/* Regulation pages: the findings chart on the reconciliation page (vendored
 * ECharts, data from a json_script block), the ledger line a link points at
 * highlighted, and the unit of measure following the chosen item on the entry
 * form. No code or style travels in the page itself (CSP).
 */
(function () {
  "use strict";

  function drawFindings(holder) {
    var source = document.getElementById(holder.getAttribute("data-chart-source"));
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    if (!data.kinds.length) {
      holder.hidden = true;
      return;
    }
    holder.style.height = Math.max(180, data.kinds.length * 40 + 80) + "px";
    var chart = window.echarts.init(holder, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: data.kinds },
      series: [
        { name: data.labels.open, type: "bar", stack: "f", data: data.open, itemStyle: { color: "#dc3545" } },
        { name: data.labels.closed, type: "bar", stack: "f", data: data.closed, itemStyle: { color: "#198754" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function highlightTarget() {
    if (!window.location.hash || window.location.hash.indexOf("#entry-") !== 0) return;
    var row = document.getElementById(window.location.hash.slice(1));
    if (row) row.classList.add("table-warning");
  }

  function followItemUnit() {
    var item = document.getElementById("id_substance");
    var unit = document.getElementById("id_measure_unit");
    if (!item || !unit) return;
    item.addEventListener("change", function () {
      var option = item.options[item.selectedIndex];
      var code = option && option.getAttribute("data-unit");
      if (code) unit.value = code;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart='findings']").forEach(drawFindings);
    highlightTarget();
    followItemUnit();
  });
})();
