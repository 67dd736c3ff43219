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
