/* Aurum portal behaviour: the navigation toggle, "copy" buttons, and charts ([data-chart], uPlot).
   Loaded with `defer` on every page; no inline script anywhere (Content-Security-Policy). Documented in
   docs/portal.md. Everything is initialised on page load and on content htmx swaps in. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The elements matching ``selector`` in ``root``, ``root`` itself included (htmx:load names each
  // top-level element it swapped in).
  function each(root, selector, fn) {
    if (root.nodeType !== 1 && root !== document) return;
    if (root !== document && root.matches(selector)) fn(root);
    root.querySelectorAll(selector).forEach(fn);
  }

  function initNav(root) {
    each(root, ".nav-toggle", function (button) {
      if (button.dataset.ready) return;
      button.dataset.ready = "1";
      var nav = document.getElementById(button.getAttribute("aria-controls"));
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        button.setAttribute("aria-expanded", String(open));
        nav.classList.toggle("open", open);
      });
    });
  }

  // <button data-copy="#id">: copies the text of the element it names.
  function initCopy(root) {
    each(root, "[data-copy]", function (button) {
      if (button.dataset.ready) return;
      button.dataset.ready = "1";
      button.addEventListener("click", function () {
        var source = document.querySelector(button.dataset.copy);
        if (!source || !navigator.clipboard) return;
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          var label = button.textContent;
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 1500);
        }, function () { /* no clipboard permission: the text stays selectable */ });
      });
    });
  }

  // <input type="range" data-scrub-labels="[JSON list of labels]" data-scrub-output="#output-id">: shows the as-of the
  // slider points at while it moves; htmx (hx-get, debounced) re-renders the curve server-side.
  function initScrubbers(root) {
    each(root, "[data-scrub-labels]", function (input) {
      if (input.dataset.ready) return;
      input.dataset.ready = "1";
      var labels = JSON.parse(input.dataset.scrubLabels);
      var output = document.querySelector(input.dataset.scrubOutput);
      input.addEventListener("input", function () {
        var label = labels[Number(input.value)];
        if (output) output.textContent = label;
        input.setAttribute("aria-valuetext", label);
      });
    });
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  var ROLE_STYLE = {
    line: function () { return { stroke: cssVar("--chart-1"), width: 2, points: { show: true, size: 5, fill: cssVar("--surface") } }; },
    compare: function () { return { stroke: cssVar("--chart-2"), width: 2, dash: [6, 4], points: { show: true, size: 4, fill: cssVar("--surface") } }; },
    ghost: function () { return { stroke: cssVar("--chart-ghost"), width: 1.5, points: { show: false } }; },
    bid: function () { return { stroke: "transparent", width: 0, points: { show: false } }; },
    ask: function () { return { stroke: "transparent", width: 0, points: { show: false } }; },
    p10: function () { return { stroke: "transparent", width: 0, points: { show: false } }; },
    p90: function () { return { stroke: "transparent", width: 0, points: { show: false } }; },
    bar: function () { return { stroke: cssVar("--chart-1"), width: 2, points: { show: true, size: 6 } }; }
  };

  // A chart: <div class="chart" data-chart="{{ spec|json_attr }}"> (the spec as JSON in the attribute):
  // {x_labels: [...], series: [{label, role, values}], bands: [[upper, lower]], y_label,
  //  point_links: [url per x] (optional), point_target: "#selector" (optional)}.
  function renderChart(el) {
    if (typeof uPlot === "undefined") return;
    var spec = JSON.parse(el.dataset.chart);
    var labels = spec.x_labels;
    var data = [labels.map(function (_, i) { return i; })];
    var series = [{ label: spec.x_title || "Tenor", value: function (u, v) { return v == null ? "" : labels[v]; } }];
    spec.series.forEach(function (s) {
      var style = (ROLE_STYLE[s.role] || ROLE_STYLE.line)();
      style.label = s.label;
      style.spanGaps = false;
      style.value = function (u, v) { return v == null ? "–" : v.toFixed(spec.decimals == null ? 3 : spec.decimals); };
      series.push(style);
      data.push(s.values);
    });
    var bands = (spec.bands || []).map(function (pair) {
      return { series: [pair[0] + 1, pair[1] + 1], fill: cssVar("--chart-band") };
    });
    var axisColour = cssVar("--muted");
    var grid = { stroke: cssVar("--border"), width: 1 };
    var width = Math.max(el.clientWidth, 280);
    var opts = {
      width: width,
      height: el.clientWidth < 500 ? 260 : 340,
      series: series,
      bands: bands,
      scales: { x: { time: false } },
      // Room on the right for the last tenor's label, which the x axis centres on the plot's edge.
      padding: [null, Math.min(64, Math.max(12, 4 * String(labels[labels.length - 1] || "").length)), null, null],
      axes: [
        {
          stroke: axisColour, grid: grid, ticks: grid,
          values: function (u, splits) { return splits.map(function (v) { return Number.isInteger(v) && labels[v] != null ? labels[v] : ""; }); }
        },
        { stroke: axisColour, grid: grid, ticks: grid, label: spec.y_label || "", size: 60 }
      ],
      cursor: { points: { size: 8 } },
      legend: { live: true }
    };
    if (el._aurumPlot) el._aurumPlot.destroy();
    el.textContent = "";
    var plot = new uPlot(opts, data, el);
    if (spec.point_links) {
      plot.over.addEventListener("click", function () {
        var i = plot.cursor.idx;
        if (i == null || !spec.point_links[i]) return;
        if (spec.point_target && window.htmx) {
          window.htmx.ajax("GET", spec.point_links[i], { target: spec.point_target, swap: "innerHTML" });
        } else {
          window.location.href = spec.point_links[i];
        }
      });
      plot.over.classList.add("clickable");
    }
    el._aurumPlot = plot;
  }

  function initCharts(root) {
    each(root, "[data-chart]", function (el) {
      if (el.dataset.ready) return;
      el.dataset.ready = "1";
      renderChart(el);
    });
  }

  function init(root) {
    initNav(root);
    initCopy(root);
    initScrubbers(root);
    initCharts(root);
  }

  // One listener for every chart: a resized window resizes them, a changed colour scheme redraws them.
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el._aurumPlot && el.isConnected) el._aurumPlot.setSize({ width: Math.max(el.clientWidth, 280), height: el._aurumPlot.height });
    });
  });
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
      document.querySelectorAll("[data-chart]").forEach(function (el) { if (el._aurumPlot) renderChart(el); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // htmx:load fires on every piece of swapped-in content (the requesting element may have been replaced).
  document.addEventListener("htmx:load", function (event) { init(event.target); });
  window.aurumPortal = { init: init };
})();
