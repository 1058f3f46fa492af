/* Dashboard charts with the vendored ECharts: townships side by side (bars),
 * monthly trends (lines) and people by status (pie).
 *
 * Each holder names its JSON block (written by Django's json_script) in
 * data-chart-source, so no code or style travels in the page. Tooltips are
 * drawn on the canvas (richText): an HTML tooltip would need inline styles the
 * Content-Security-Policy refuses. On the big screen (a holder inside
 * [data-screen]) the charts are dark and larger, and they are drawn again when
 * HTMX swaps in a fresh panel.
 */
(function () {
  "use strict";

  function dark(holder) {
    return !!holder.closest("[data-screen]");
  }

  function units(data) {
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.units, axisLabel: { interval: 0, rotate: data.units.length > 6 ? 40 : 0 } },
      yAxis: { type: "value" },
      series: data.side.map(function (s) {
        return { name: s.name + "（" + s.unit + "）", type: "bar", data: s.data };
      })
    };
  }

  function trend(data) {
    return {
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", boundaryGap: false, data: data.trend.months },
      yAxis: { type: "value", minInterval: 1 },
      series: data.trend.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, connectNulls: false };
      })
    };
  }

  function status(data) {
    return {
      tooltip: { trigger: "item", renderMode: "richText", formatter: "{b}：{c}人（{d}%）" },
      legend: { bottom: 0, type: "scroll" },
      series: [{
        name: "人员状态",
        type: "pie",
        radius: ["35%", "65%"],
        center: ["50%", "45%"],
        data: data.status,
        label: { formatter: "{b}\n{c}人" }
      }]
    };
  }

  var BUILDERS = { units: units, trend: trend, status: status };

  function draw(holder) {
    var source = document.getElementById(holder.getAttribute("data-chart-source"));
    var build = BUILDERS[holder.getAttribute("data-dashboard-chart")];
    if (!source || !build || !window.echarts) return;
    // A JSON block (json_script) on a full page; an attribute in a panel HTMX swapped in,
    // since HTMX removes the script elements of what it swaps.
    var text = source.hasAttribute("data-chart-json")
      ? source.getAttribute("data-chart-json")
      : source.textContent;
    var data = JSON.parse(text);
    var screen = dark(holder);
    // Set through the CSSOM, which the Content-Security-Policy allows (no style attribute).
    holder.style.height = (screen ? 38 : 300) + (screen ? "vh" : "px");
    var old = window.echarts.getInstanceByDom(holder);
    if (old) old.dispose();
    var chart = window.echarts.init(holder, screen ? "dark" : null, { renderer: "canvas" });
    var option = build(data);
    option.animation = false;
    if (screen) {
      option.backgroundColor = "transparent";
      option.textStyle = { fontSize: 18 };
      if (option.legend) option.legend.textStyle = { fontSize: 18 };
      // Axis labels do not inherit the global text size; a TV is read from across a room.
      [option.xAxis, option.yAxis].forEach(function (axis) {
        if (axis) axis.axisLabel = Object.assign({}, axis.axisLabel, { fontSize: 16 });
      });
    }
    chart.setOption(option);
    holder.setAttribute("data-drawn", "1");
  }

  function drawAll(root) {
    root.querySelectorAll("[data-dashboard-chart]").forEach(draw);
  }

  function resizeAll() {
    document.querySelectorAll("[data-dashboard-chart]").forEach(function (holder) {
      var chart = window.echarts && window.echarts.getInstanceByDom(holder);
      if (chart) chart.resize();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
  window.addEventListener("resize", resizeAll);
})();
