// labecon's dashboard: the scenario page (levers, YAML editor, cash fan), the run page, the
// compare page and the data page. Everything goes through the REST API of the same server;
// nothing is fetched elsewhere. Each chart counts its redraws in data-draws (tests read it).
const labecon = (function () {
  "use strict";

  // A server bound beyond loopback wants its API token on writes: asked once, kept in this
  // browser (localStorage), sent as "Authorization: Bearer TOKEN".
  const TOKEN_KEY = "labecon.token";

  async function api(method, path, body, retried) {
    const headers = body ? { "Content-Type": "application/json" } : {};
    const token = window.localStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    const response = await fetch(path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.status === 401 && !retried) {
      const given = window.prompt("This server needs its API token for changes (labecon serve --token):");
      if (given) {
        window.localStorage.setItem(TOKEN_KEY, given.trim());
        return api(method, path, body, true);
      }
    }
    const data = response.status === 204 ? null : await response.json();
    return { ok: response.ok, status: response.status, data: data };
  }

  // Money as analysts write it: -$22.95B, $4.08B, $310.5M.
  function money(value) {
    if (value === null || value === undefined) return "—";
    const a = Math.abs(value);
    const sign = value < 0 ? "−" : "";
    if (a >= 1e12) return sign + "$" + (a / 1e12).toFixed(2) + "T";
    if (a >= 1e9) return sign + "$" + (a / 1e9).toFixed(2) + "B";
    if (a >= 1e6) return sign + "$" + (a / 1e6).toFixed(1) + "M";
    return sign + "$" + a.toFixed(0);
  }

  // The kind of a value by its name (the API's kinds: money, share, probability, month).
  function kindOf(name) {
    if (/_usd$|_usd_|^operating_income_\d{4}$/.test(name)) return "money";
    if (/^share_|probability|^insolvent$/.test(name)) return "probability";
    if (/_month$/.test(name)) return "month";
    return "number";
  }

  // A value as a person reads it: money, percentages, months as they are, else 4 digits.
  function show(kind, value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "string") return value;
    if (kind === "money") return money(value);
    if (kind === "probability" || kind === "share") return (100 * value).toFixed(1) + "%";
    return Number(value).toPrecision(4);
  }

  // A signed difference in the value's kind: +$4.12B, −0.8%.
  function signed(kind, value) {
    const text = show(kind, value);
    return value > 0 ? "+" + text : text;
  }

  const COLORS = ["31,119,180", "214,39,40", "44,160,44", "148,103,189", "255,127,14", "140,86,75"];

  // Traces of a fan: p5–p95 band, p25–p75 band (if given), the median line.
  function fan(x, stats, name, index) {
    const rgb = COLORS[(index || 0) % COLORS.length];
    const band = (low, high, alpha, label) => [
      { x: x, y: stats[high], mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false, legendgroup: name },
      { x: x, y: stats[low], mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(" + rgb + "," + alpha + ")", name: label, legendgroup: name },
    ];
    let traces = band("p5", "p95", 0.15, name + " p5–p95");
    if (stats.p25) traces = traces.concat(band("p25", "p75", 0.25, name + " p25–p75"));
    traces.push({ x: x, y: stats.p50, mode: "lines", line: { color: "rgb(" + rgb + ")" }, name: name + " median", legendgroup: name });
    return traces;
  }

  function plot(chart, traces, title) {
    Plotly.react(chart, traces, {
      margin: { t: 40, r: 10, b: 40, l: 70 },
      title: { text: title },
      yaxis: { tickprefix: "$", exponentformat: "B" },
      legend: { orientation: "h" },
    }, { displayModeBar: false, responsive: true });
    chart.dataset.draws = String(Number(chart.dataset.draws || "0") + 1);
  }

  function showProblems(list, detail) {
    list.innerHTML = "";
    const problems = Array.isArray(detail) ? detail : [{ loc: [], msg: String(detail) }];
    for (const problem of problems) {
      const item = document.createElement("li");
      const path = (problem.loc || []).filter((p) => p !== "body" && p !== "text").join(".");
      item.textContent = (path ? path + ": " : "") + problem.msg;
      list.appendChild(item);
    }
    list.hidden = problems.length === 0;
  }

  function row(table, cells, header) {
    const tr = table.insertRow();
    for (const cell of cells) {
      const td = document.createElement(header ? "th" : "td");
      td.textContent = cell;
      tr.appendChild(td);
    }
  }

  return { api: api, money: money, kindOf: kindOf, show: show, signed: signed, fan: fan, plot: plot, showProblems: showProblems, row: row };
})();

// The index: start a stored scenario from a built-in example (it extends the example).
(function () {
  "use strict";
  const list = document.getElementById("examples");
  if (!list) return;
  const taken = new Set(JSON.parse(list.dataset.taken || "[]"));
  list.querySelectorAll("button.start").forEach((button) => button.addEventListener("click", async () => {
    const example = button.dataset.example;
    let name = example;
    for (let n = 2; taken.has(name); n++) name = example + "-" + n;
    const answer = await labecon.api("POST", "/api/scenarios", { name: name, text: "extends: " + example + "\n" });
    if (answer.ok) {
      window.location.href = "/scenarios/" + encodeURIComponent(name);
    } else {
      labecon.showProblems(document.getElementById("problems"), answer.data.detail);
    }
  }));
})();

// The scenario page: levers (sliders), the YAML editor with inline validation, a cash fan.
// While a slider is dragged each move is drawn from QUICK samples; letting it go (or typing
// a value) draws FULL samples at once. A newer preview of this page supersedes one still
// running (the server stops it). Each FULL redraw records how long it took from the
// change that asked for it (#chart's data-took, ms; bench/preview.py --browser reads it).
(function () {
  "use strict";
  const page = document.getElementById("scenario");
  if (!page) return;
  const QUICK = 1000;
  const FULL = 10000;
  const name = page.dataset.name;
  const session = Math.random().toString(36).slice(2) + Date.now().toString(36);
  let version = Number(page.dataset.version);
  let ticket = 0;
  const editor = document.getElementById("editor");
  const problems = document.getElementById("problems");
  const chart = document.getElementById("chart");
  const status = document.getElementById("status");
  const leverBox = document.getElementById("levers");
  const swings = document.getElementById("swings");
  const generations = document.getElementById("generations");
  const values = {};
  let pending = null;

  // Each generation's median training cost and lifetime revenue and profit, by release month.
  function drawGenerations(g) {
    const x = g.release_month.map((m, i) => m || "gen " + g.generation[i]);
    const bar = (key, name, color) => ({ type: "bar", x: x, y: g[key], name: name, marker: { color: color } });
    Plotly.react(generations, [
      bar("training_cost_usd", "training cost", "rgba(214,39,40,0.7)"),
      bar("lifetime_revenue_usd", "lifetime revenue", "rgba(31,119,180,0.7)"),
      bar("lifetime_profit_usd", "lifetime profit", "rgba(44,160,44,0.8)"),
    ], {
      title: { text: "Generations, by release (medians)" },
      barmode: "group",
      margin: { t: 40, r: 10, b: 40, l: 70 },
      yaxis: { tickprefix: "$", exponentformat: "B" },
      legend: { orientation: "h" },
    }, { displayModeBar: false, responsive: true });
    generations.dataset.draws = String(Number(generations.dataset.draws || "0") + 1);
    generations.dataset.cost = String(g.training_cost_usd[g.training_cost_usd.length - 1]);
  }

  function draw(result) {
    drawGenerations(result.generations);
    labecon.plot(chart, labecon.fan(result.months, result.cash, "cash"), "Cash (" + result.samples.toLocaleString("en") + " samples)");
    chart.dataset.median = String(result.cash.p50[result.cash.p50.length - 1]);
    chart.dataset.samples = String(result.samples);
    status.textContent = "P(insolvent) " + (100 * result.insolvent).toFixed(1) + "% over " + result.samples.toLocaleString("en") + " samples";
  }

  async function previewOf(samples) {
    const mine = ++ticket;
    const asked = performance.now();
    const answer = await labecon.api("POST", "/api/preview", { text: editor.value, inputs: values, samples: samples, session: session, ticket: mine });
    if (mine !== ticket || answer.status === 409) return; // a newer preview is on its way
    if (answer.ok) {
      const answered = performance.now() - asked;
      draw(answer.data);
      // The time from the change to the redraw, taken when the browser next paints, and
      // the part of it spent waiting for the answer.
      requestAnimationFrame(() => {
        chart.dataset.took = String(performance.now() - asked);
        chart.dataset.answered = String(answered);
        chart.dataset.tookSamples = String(samples);
      });
    } else {
      labecon.showProblems(problems, answer.data.detail);
    }
  }

  const quick = () => previewOf(QUICK);
  const full = () => previewOf(FULL);

  function schedule(task, delay) {
    clearTimeout(pending);
    pending = setTimeout(task, delay);
  }

  function now(task) {
    clearTimeout(pending);
    task();
  }

  // The levers' tornado: how far each moves the capital need from its p5 to its p95.
  function drawSwings(levers) {
    const ranked = levers.filter((l) => l.swing !== null).reverse(); // largest on top
    swings.hidden = ranked.length === 0;
    if (ranked.length === 0) return;
    Plotly.react(swings, [{
      type: "bar", orientation: "h",
      x: ranked.map((l) => l.swing), y: ranked.map((l) => l.name),
      marker: { color: "rgba(31,119,180,0.7)" },
    }], {
      title: { text: "What moves the capital need (p5 to p95 of each input)" },
      margin: { t: 40, r: 10, b: 40, l: 10 },
      xaxis: { tickprefix: "$", exponentformat: "B" },
      yaxis: { automargin: true },
    }, { displayModeBar: false, responsive: true });
    swings.dataset.draws = String(Number(swings.dataset.draws || "0") + 1);
  }

  async function loadLevers() {
    const answer = await labecon.api("POST", "/api/levers", { text: editor.value });
    leverBox.innerHTML = "";
    for (const name of Object.keys(values)) delete values[name]; // the text's levers only
    if (!answer.ok) return;
    drawSwings(answer.data);
    for (const lever of answer.data) {
      values[lever.name] = lever.value;
      const label = document.createElement("label");
      label.className = "lever";
      const title = document.createElement("span");
      title.textContent = lever.name;
      const shown = document.createElement("output");
      const format = (v) => (lever.kind === "money" ? labecon.money(v) : lever.kind === "rate" ? (100 * v).toFixed(1) + "%" : Number(v).toPrecision(3));
      shown.textContent = format(lever.value);
      if (lever.swing !== null) title.title = "p5 to p95 moves the capital need by " + labecon.money(lever.swing);
      const slider = document.createElement("input");
      Object.assign(slider, { type: "range", min: lever.low, max: lever.high, step: lever.step, value: lever.value });
      slider.dataset.name = lever.name;
      const exact = document.createElement("input"); // the same value, typed
      Object.assign(exact, { type: "number", step: "any", value: Number(lever.value).toPrecision(4) });
      exact.dataset.name = lever.name;
      const set = (value) => {
        values[lever.name] = value;
        shown.textContent = format(value);
      };
      slider.addEventListener("input", () => { // dragging: quick draws as it moves
        exact.value = Number(slider.value).toPrecision(4);
        set(Number(slider.value));
        schedule(quick, 60);
      });
      slider.addEventListener("change", () => { // let go (or a key pressed): the full draw
        set(Number(slider.value));
        now(full);
      });
      exact.addEventListener("change", () => {
        if (exact.value === "" || !Number.isFinite(Number(exact.value))) return;
        slider.value = exact.value; // a typed value may lie outside p5..p95: the slider stops at its end
        set(Number(exact.value));
        now(full);
      });
      const row = document.createElement("span");
      row.className = "row";
      row.append(slider, exact);
      label.append(title, row, shown);
      leverBox.appendChild(label);
    }
  }

  editor.addEventListener("input", () => schedule(async () => {
    const answer = await labecon.api("POST", "/api/scenarios/validate", { text: editor.value });
    labecon.showProblems(problems, answer.data.problems);
    if (answer.data.valid) {
      await loadLevers();
      await full();
    }
  }, 300));

  document.getElementById("save").addEventListener("click", async () => {
    const answer = await labecon.api("PUT", "/api/scenarios/" + encodeURIComponent(name), { text: editor.value, version: version });
    if (answer.ok) {
      version = answer.data.version;
      page.dataset.version = String(version);
      document.getElementById("version").textContent = "version " + version;
      status.textContent = "Saved as version " + version;
    } else {
      labecon.showProblems(problems, answer.data.detail);
    }
  });

  document.getElementById("run-button").addEventListener("click", async () => {
    const answer = await labecon.api("POST", "/api/runs", { scenario: name, samples: FULL });
    if (answer.ok) {
      window.location.href = "/runs/" + answer.data.id;
    } else {
      labecon.showProblems(problems, answer.data.detail);
    }
  });

  loadLevers().then(full);
})();

// The run page: a stored run's status, then its monthly fans, generations and metrics.
(function () {
  "use strict";
  const page = document.getElementById("run");
  if (!page) return;
  const id = page.dataset.id;
  const status = document.getElementById("run-status");
  const TITLES = { cash: "Cash at month end", revenue: "Revenue a month", operating_income: "Operating income a month" };
  const GENERATION_COLUMNS = [
    "generation", "release_month", "training_cost_usd", "lifetime_revenue_usd",
    "lifetime_profit_usd", "roi_multiple", "payback_months", "share_released", "share_paid_back",
  ];

  function drawFans(monthly) {
    for (const key of Object.keys(TITLES)) {
      labecon.plot(document.getElementById("run-" + key), labecon.fan(monthly.months, monthly[key], key.replace("_", " "), 0), TITLES[key]);
    }
  }

  function drawYearly(result) { // a run stored before monthly fans were kept: yearly ones
    const views = { cash: result.views.cash.cash, revenue: result.views.expensed.revenue, operating_income: result.views.expensed.operating_income };
    for (const key of Object.keys(TITLES)) {
      labecon.plot(document.getElementById("run-" + key), labecon.fan(result.years, views[key], key, 0), TITLES[key].replace("a month", "a year").replace("month end", "year end"));
    }
  }

  function drawTables(result) {
    const generations = document.getElementById("generations");
    labecon.row(generations, GENERATION_COLUMNS.map((c) => c.replace(/_usd$/, "").replace(/_/g, " ")), true);
    for (const generation of result.generations.p50) {
      labecon.row(generations, GENERATION_COLUMNS.map((c) => (c === "generation" ? String(generation[c]) : labecon.show(labecon.kindOf(c), generation[c]))));
    }
    const metrics = document.getElementById("metrics");
    labecon.row(metrics, ["metric", "p5", "median", "p95", "probability"], true);
    for (const [name, value] of Object.entries(result.metrics)) {
      if (typeof value === "object" && value !== null && "p50" in value) {
        const kind = labecon.kindOf(name);
        labecon.row(metrics, [name, labecon.show(kind, value.p5), labecon.show(kind, value.p50), labecon.show(kind, value.p95), "probability" in value ? labecon.show("probability", value.probability) : ""]);
      } else if (typeof value === "number" && name !== "samples" && name !== "seed") {
        labecon.row(metrics, [name, "", labecon.show(labecon.kindOf(name), value), "", ""]);
      }
    }
  }

  const cancel = document.getElementById("cancel");
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    await labecon.api("POST", "/api/runs/" + id + "/cancel");
  });

  async function poll() {
    const run = (await labecon.api("GET", "/api/runs/" + id)).data;
    cancel.hidden = !(run.status === "queued" || run.status === "running");
    const summarising = run.status === "running" && run.done === run.samples;
    status.textContent = (summarising ? "summarising" : run.status) + " (" + run.done + " of " + run.samples + " samples)" + (run.error ? ": " + run.error : "");
    if (run.status === "complete") {
      const result = (await labecon.api("GET", "/api/runs/" + id + "/result")).data;
      const monthly = await labecon.api("GET", "/api/runs/" + id + "/monthly");
      if (monthly.ok) drawFans(monthly.data); else drawYearly(result);
      drawTables(result);
    } else if (run.status === "queued" || run.status === "running") {
      setTimeout(poll, 300);
    }
    page.dataset.status = run.status;
  }
  poll();
})();

// The compare page: stored scenarios on common random numbers, the first ticked the reference.
(function () {
  "use strict";
  const page = document.getElementById("compare");
  if (!page) return;
  const chart = document.getElementById("compare-chart");
  const table = document.getElementById("compare-table");
  const status = document.getElementById("compare-status");
  const problems = document.getElementById("problems");
  const ticked = Array.from(document.querySelectorAll("#choices input:checked")).map((b) => b.value);
  const order = JSON.parse(page.dataset.chosen || "[]").filter((n) => ticked.includes(n)); // as asked
  document.querySelectorAll("#choices input").forEach((box) => box.addEventListener("change", () => {
    const at = order.indexOf(box.value);
    if (box.checked && at < 0) order.push(box.value);
    if (!box.checked && at >= 0) order.splice(at, 1);
  }));

  function draw(document_) {
    let traces = [];
    document_.scenarios.forEach((s, i) => {
      const f = document_.fans[s.label];
      traces = traces.concat(labecon.fan(f.months, f.cash, s.label, i));
    });
    labecon.plot(chart, traces, "Cash at month end (" + document_.samples.toLocaleString("en") + " samples)");
    table.innerHTML = "";
    const labels = document_.scenarios.map((s) => s.label);
    labecon.row(table, ["metric"].concat(labels.map((l, i) => (i === 0 ? l + " (reference)" : l + " (difference ± se)"))), true);
    for (const [metric, entry] of Object.entries(document_.metrics)) {
      const cells = [metric];
      labels.forEach((label, i) => {
        const m = entry.scenarios[label];
        // months: the share of samples reaching it (its difference is in that share)
        const kind = entry.kind === "month" ? "probability" : entry.kind;
        const value = entry.kind === "month" ? (100 * m.probability).toFixed(0) + "% reached, median " + (m.median_month || "—")
          : labecon.show(kind, m.p50 === null ? m.mean : m.p50);
        const diff = i === 0 ? "" : " (" + labecon.signed(kind, m.diff_mean) + " ± " + labecon.show(kind, m.diff_se) + ")";
        cells.push(value + diff);
      });
      labecon.row(table, cells);
    }
  }

  async function run() {
    labecon.showProblems(problems, []);
    status.textContent = "running…";
    const samples = Number(document.getElementById("compare-samples").value);
    const answer = await labecon.api("POST", "/api/compare", { scenarios: order, samples: samples });
    status.textContent = "";
    if (answer.ok) {
      draw(answer.data);
      page.dataset.compared = order.join(",");
    } else {
      labecon.showProblems(problems, answer.data.detail);
    }
  }

  document.getElementById("compare-button").addEventListener("click", run);
  if (order.length >= 2) run();
})();

// The data page: launch list prices of first-party text models (genai-prices), by tier.
(function () {
  "use strict";
  const chart = document.getElementById("prices");
  if (!chart) return;
  labecon.api("GET", "/api/prices").then((answer) => {
    const rows = answer.data;
    const tiers = {};
    for (const r of rows) {
      (tiers[r.tier] = tiers[r.tier] || []).push(r);
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
