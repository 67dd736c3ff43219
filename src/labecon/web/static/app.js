// The scenario page: levers (sliders), the YAML editor with inline validation, a cash fan.
// Everything goes through the REST API of the same server; nothing is fetched elsewhere.
(function () {
  "use strict";
  const page = document.getElementById("scenario");
  if (!page) return;
  const name = page.dataset.name;
  let version = Number(page.dataset.version);
  const editor = document.getElementById("editor");
  const problems = document.getElementById("problems");
  const chart = document.getElementById("chart");
  const status = document.getElementById("status");
  const leverBox = document.getElementById("levers");
  const values = {};
  let pending = null;

  async function api(method, path, body) {
    const response = await fetch(path, {
      method: method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = response.status === 204 ? null : await response.json();
    return { ok: response.ok, status: response.status, data: data };
  }

  function format(value, kind) {
    if (kind === "money") {
      const a = Math.abs(value);
      if (a >= 1e9) return "$" + (value / 1e9).toFixed(2) + "B";
      if (a >= 1e6) return "$" + (value / 1e6).toFixed(1) + "M";
      return "$" + value.toFixed(0);
    }
    if (kind === "rate") return (100 * value).toFixed(1) + "%";
    return Number(value).toPrecision(3);
  }

  function draw(result) {
    const x = result.months;
    const traces = [
      { x: x, y: result.cash.p95, mode: "lines", line: { width: 0 }, name: "p95", hoverinfo: "skip", showlegend: false },
      { x: x, y: result.cash.p5, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(31,119,180,0.2)", name: "p5–p95" },
      { x: x, y: result.cash.p50, mode: "lines", line: { color: "#1f77b4" }, name: "median cash" },
    ];
    Plotly.react(chart, traces, {
      margin: { t: 30, r: 10, b: 40, l: 70 },
      title: { text: "Cash (p5, median, p95)" },
      yaxis: { tickformat: "$.3s" },
    }, { displayModeBar: false, responsive: true });
    chart.dataset.draws = String(Number(chart.dataset.draws || "0") + 1);
    chart.dataset.median = String(result.cash.p50[result.cash.p50.length - 1]);
    status.textContent = "P(insolvent) " + (100 * result.insolvent).toFixed(1) + "%";
  }

  async function rerun() {
    const answer = await api("POST", "/api/preview", { text: editor.value, inputs: values });
    if (answer.ok) {
      draw(answer.data);
    } else {
      showProblems(answer.data.detail);
    }
  }

  function schedule(task, delay) {
    clearTimeout(pending);
    pending = setTimeout(task, delay);
  }

  function showProblems(detail) {
    problems.innerHTML = "";
    const list = Array.isArray(detail) ? detail : [{ loc: [], msg: String(detail) }];
    for (const problem of list) {
      const item = document.createElement("li");
      const path = (problem.loc || []).filter((p) => p !== "body" && p !== "text").join(".");
      item.textContent = (path ? path + ": " : "") + problem.msg;
      problems.appendChild(item);
    }
    problems.hidden = list.length === 0;
  }

  async function loadLevers() {
    const answer = await api("POST", "/api/levers", { text: editor.value });
    leverBox.innerHTML = "";
    if (!answer.ok) return;
    for (const lever of answer.data) {
      values[lever.name] = lever.value;
      const row = document.createElement("label");
      row.className = "lever";
      const title = document.createElement("span");
      title.textContent = lever.name;
      const shown = document.createElement("output");
      shown.textContent = format(lever.value, lever.kind);
      const slider = document.createElement("input");
      Object.assign(slider, { type: "range", min: lever.low, max: lever.high, step: lever.step, value: lever.value });
      slider.dataset.name = lever.name;
      slider.addEventListener("input", () => {
        values[lever.name] = Number(slider.value);
        shown.textContent = format(Number(slider.value), lever.kind);
        schedule(rerun, 120);
      });
      row.append(title, slider, shown);
      leverBox.appendChild(row);
    }
  }

  editor.addEventListener("input", () => schedule(async () => {
    const answer = await api("POST", "/api/scenarios/validate", { text: editor.value });
    showProblems(answer.data.problems);
    if (answer.data.valid) {
      await loadLevers();
      await rerun();
    }
  }, 300));

  document.getElementById("save").addEventListener("click", async () => {
    const answer = await api("PUT", "/api/scenarios/" + encodeURIComponent(name), { text: editor.value, version: version });
    if (answer.ok) {
      version = answer.data.version;
      page.dataset.version = String(version);
      document.getElementById("version").textContent = "version " + version;
      status.textContent = "Saved as version " + version;
    } else {
      showProblems(answer.data.detail);
    }
  });

  loadLevers().then(rerun);
})();

// The data page: launch list prices of first-party text models (genai-prices), by tier.
(function () {
  "use strict";
  const chart = document.getElementById("prices");
  if (!chart) return;
  fetch("/api/prices").then((r) => r.json()).then((rows) => {
    const tiers = {};
    for (const row of rows) {
      (tiers[row.tier] = tiers[row.tier] || []).push(row);
    }
    const traces = Object.keys(tiers).sort().map((tier) => ({
      x: tiers[tier].map((r) => r.launch_date),
      y: tiers[tier].map((r) => r.blended_usd_per_mtok),
      text: tiers[tier].map((r) => r.provider + " " + r.name),
      mode: "markers",
      type: "scatter",
      name: tier,
    }));
    Plotly.react(chart, traces, {
      title: { text: "Launch list price, blended (USD per million tokens)" },
      yaxis: { type: "log", title: { text: "USD/Mtok" } },
      margin: { t: 40, r: 10, b: 40, l: 60 },
    }, { displayModeBar: false, responsive: true });
    chart.dataset.draws = String(Number(chart.dataset.draws || "0") + 1);
    chart.dataset.points = String(rows.length);
  });
})();

// The run page: a stored run's status, then its yearly cash fan and metrics once complete.
(function () {
  "use strict";
  const page = document.getElementById("run");
  if (!page) return;
  const id = page.dataset.id;
  const chart = document.getElementById("run-chart");
  const status = document.getElementById("run-status");

  function draw(document_) {
    const cash = document_.views.cash.cash;
    const x = document_.years;
    Plotly.react(chart, [
      { x: x, y: cash.p95, mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { x: x, y: cash.p5, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(31,119,180,0.2)", name: "p5–p95" },
      { x: x, y: cash.p50, mode: "lines+markers", line: { color: "#1f77b4" }, name: "median" },
    ], {
      title: { text: "Cash at the end of each year" },
      yaxis: { tickformat: "$.3s" },
      margin: { t: 40, r: 10, b: 40, l: 70 },
    }, { displayModeBar: false, responsive: true });
    chart.dataset.draws = String(Number(chart.dataset.draws || "0") + 1);
    const table = document.getElementById("metrics");
    for (const [name, value] of Object.entries(document_.metrics)) {
      if (typeof value !== "object" || value === null || !("p50" in value)) continue;
      const row = table.insertRow();
      row.insertCell().textContent = name;
      row.insertCell().textContent = value.p50 === null ? "—" : Number(value.p50).toPrecision(4);
    }
  }

  async function poll() {
    const run = await (await fetch("/api/runs/" + id)).json();
    status.textContent = run.status + " (" + run.done + " of " + run.samples + " samples)";
    page.dataset.status = run.status;
    if (run.status === "complete") {
      draw(await (await fetch("/api/runs/" + id + "/result")).json());
    } else if (run.status === "queued" || run.status === "running") {
      setTimeout(poll, 300);
    }
  }
  poll();
})();
