// Chart.js (vendored under /console/vendor) wrapped for the console's two chart shapes.

const PALETTE = ["#2f6fdd", "#e0803a", "#1f8a4c", "#9b59b6", "#c43d3d", "#16a2b8", "#b7791f",
  "#5a6473", "#d35ba0", "#7aa7f7"];
const live = new Set();

export const color = i => PALETTE[i % PALETTE.length];

/** Destroy the charts of the page being left, so canvases are released. */
export function destroyCharts() {
  for (const chart of live) chart.destroy();
  live.clear();
}

const money = v => "$" + Number(v).toLocaleString("en-US", { maximumFractionDigits: 0 });

/**
 * A stacked bar chart over periods. series: [{label, values}] aligned with labels.
 * onPick(periodIndex, seriesIndex) is called when a bar is clicked.
 */
export function stackedBars(canvas, labels, series, onPick) {
  const chart = new window.Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label, data: s.values, backgroundColor: color(i), borderWidth: 0, maxBarThickness: 40,
      })),
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "nearest", intersect: true },
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
        y: { stacked: true, ticks: { callback: money } },
      },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 12 } },
        tooltip: { callbacks: { label: ctx => `${ctx.dataset.label}: ${money(ctx.parsed.y)}` } },
      },
      onClick: (_event, elements) => {
        if (onPick && elements.length) onPick(elements[0].index, elements[0].datasetIndex);
      },
    },
  });
  live.add(chart);
  return chart;
}

/** A horizontal bar chart of before/after totals (rule preview). */
export function compareBars(canvas, labels, before, after) {
  const chart = new window.Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: [
        { label: "Before", data: before, backgroundColor: "#c8ced8" },
        { label: "After", data: after, backgroundColor: color(0) },
      ],
    },
    options: {
      indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
      scales: { x: { ticks: { callback: money } } },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
    },
  });
  live.add(chart);
  return chart;
}

/**
 * Pivot rows [{period, <key>, cost}] into chart series: the `limit` largest values of `key`
 * get their own series, the rest are summed as "other".
 */
export function pivot(rows, key, limit = 8) {
  const labels = [...new Set(rows.map(r => r.period))].sort();
  const totals = new Map();
  for (const r of rows) totals.set(r[key] ?? null, (totals.get(r[key] ?? null) || 0) + r.cost);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const shown = ranked.slice(0, limit);
  const hasOther = ranked.length > limit;
  const index = new Map(labels.map((l, i) => [l, i]));
  const series = shown.map(k => ({ key: k, label: k ?? "unattributed", values: labels.map(() => 0) }));
  const other = { key: undefined, label: "other", values: labels.map(() => 0) };
  for (const r of rows) {
    const at = shown.indexOf(r[key] ?? null);
    (at >= 0 ? series[at] : other).values[index.get(r.period)] += r.cost;
  }
  if (hasOther) series.push(other);
  return { labels, series };
}
