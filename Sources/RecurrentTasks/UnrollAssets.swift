/// The unroller page's markup, style and script, inlined into every page (no request of any kind).
enum UnrollAssets {
    static let body = #"""
    <header>
      <h1 id="title">Unrolled</h1>
      <p id="subtitle"></p>
      <div class="controls" role="toolbar" aria-label="time steps">
        <button id="first" title="first step (Home)">first</button>
        <button id="back" title="previous step (←)">◀</button>
        <button id="play" title="play or pause (space)">▶ play</button>
        <button id="next" title="next step (→)">▶</button>
        <label>step <input id="step" type="range" min="0" value="0"></label><span id="stepLabel" class="fixed"></span>
        <label>layer <select id="lane"></select></label>
        <label>unit <input id="unit" type="number" min="0" value="0"></label>
        <label>heat map <select id="view"></select></label>
        <label>sort units <select id="sort"><option value="index">by index</option><option value="variance">by variance</option><option value="saturation">by saturation</option></select></label>
      </div>
    </header>
    <main>
      <section id="timelineBox" class="wide"><h2>Timeline</h2><p class="note">One column per step; each lane is a layer and direction, coloured by the selected unit's h. The edge marks h(t−1) → h(t) (h(t+1) → h(t) going backward).</p><div id="timeline" class="scroll"></div></section>
      <section><h2>The cell at step <span id="cellStep"></span></h2><div id="cell"></div><pre id="equation"></pre></section>
      <section><h2 id="outputsTitle">Outputs</h2><div id="outputs"></div></section>
      <section class="wide"><h2>State heat map</h2><p class="note">Units × time. Click a unit (a row) to colour the input by its activation.</p><div id="heatmap" class="scroll"></div><div id="legend"></div>
        <p><button id="exportSVG">export heat map as SVG</button> <button id="exportCSV">export values as CSV</button></p></section>
      <section><h2>Gradient through time</h2><p class="note" id="gradientNote"></p><div id="gradients"></div><p class="note">Hover a step of the timeline: the bars show ‖∂y<sub>t</sub>/∂x<sub>t′</sub>‖, which earlier inputs drive that output.</p><div id="connectivity"></div></section>
      <section><h2>Gate saturation</h2><p class="note">Fraction of gate values below 0.1 and above 0.9, per layer.</p><div id="saturation"></div></section>
      <section class="wide"><h2>What if</h2><div id="whatif"></div>
        <p><output id="selftest" data-max-diff=""></output></p></section>
    </main>
    """#

    static let style = #"""
    :root { --ink: #1b1b1b; --muted: #5a5a5a; --line: #d0d0d0; --accent: #0b61a4; --bg: #fbfbfa; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
    header { padding: 12px 20px 8px; border-bottom: 1px solid var(--line); background: #fff; position: sticky; top: 0; z-index: 2; }
    h1 { font-size: 20px; margin: 0; } h2 { font-size: 15px; margin: 0 0 6px; }
    #subtitle { margin: 2px 0 8px; color: var(--muted); }
    .controls { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; }
    .controls label { display: inline-flex; gap: 4px; align-items: center; }
    button { font: inherit; padding: 2px 8px; border: 1px solid #888; border-radius: 4px; background: #fff; cursor: pointer; }
    button:focus-visible, input:focus-visible, select:focus-visible, [tabindex]:focus-visible { outline: 3px solid #e69f00; outline-offset: 1px; }
    #play { width: 6.5em; } .fixed { display: inline-block; min-width: 9em; font-variant-numeric: tabular-nums; }
    main { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 14px; padding: 14px 20px; }
    section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; min-width: 0; }
    section.wide { grid-column: 1 / -1; }
    .note { color: var(--muted); margin: 0 0 6px; font-size: 12.5px; }
    .scroll { overflow-x: auto; }
    pre { white-space: pre-wrap; font-size: 12.5px; background: #f4f4f2; padding: 6px; border-radius: 4px; min-height: 5.5em; }
    svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
    .token { font-family: ui-monospace, Menlo, monospace; }
    table.probs { border-collapse: collapse; font-variant-numeric: tabular-nums; }
    table.probs td { padding: 1px 6px; } .bar { fill: var(--accent); }
    textarea { width: 100%; min-height: 4em; font: 13px ui-monospace, Menlo, monospace; }
    @media (max-width: 700px) { main { grid-template-columns: 1fr; padding: 8px; } header { position: static; } }
    """#

    static let script = #"""
    "use strict";
    const DATA = JSON.parse(document.getElementById("data").textContent);
    const $ = (id) => document.getElementById(id);
    const NS = "http://www.w3.org/2000/svg";
    function f32(o) {
      if (!o || o.f32 === undefined) return new Float32Array(0);
      const s = atob(o.f32), bytes = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
      return new Float32Array(bytes.buffer);
    }
    function el(tag, attrs, parent, text) {
      const e = document.createElementNS(NS, tag);
      for (const k in attrs) e.setAttribute(k, attrs[k]);
      if (text !== undefined) e.textContent = text;
      if (parent) parent.appendChild(e);
      return e;
    }
    function svg(w, h, parent) { parent.innerHTML = ""; return el("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img" }, parent); }
    const sigmoid = (x) => 1 / (1 + Math.exp(-x));

    // Colour-blind-safe scales: diverging blue – light grey – orange, sequential dark blue → yellow.
    const NEG = [33, 102, 172], MID = [247, 247, 247], POS = [230, 97, 1];
    function mix(a, b, t) { return `rgb(${a.map((v, i) => Math.round(v + (b[i] - v) * t)).join(",")})`; }
    function diverging(v, scale) { const t = Math.max(-1, Math.min(1, v / (scale || 1))); return t < 0 ? mix(MID, NEG, -t) : mix(MID, POS, t); }
    const SEQ = [[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]];
    function sequential(t) {
      t = Math.max(0, Math.min(1, t)) * (SEQ.length - 1);
      const i = Math.min(Math.floor(t), SEQ.length - 2);
      return mix(SEQ[i], SEQ[i + 1], t - i);
    }

    // ---- the model, as the library computes it -------------------------------------------
    function prepare(d) {
      const m = Object.assign({}, d);
      m.W = {};
      for (const name in d.weights) {
        const w = d.weights[name];
        m.W[name] = { shape: w.shape, v: f32(w.data) };
        // A large embedding table carries some rows: its most frequent and the input's.
        if (w.rows) m.W[name].rows = new Map(w.rows.map((id, i) => [id, i]));
      }
      m.T = d.tokens.length;
      m.featureWidth = d.features;
      m.featureValues = f32(d.featureValues);
      m.trace.outputs = f32(d.trace.outputs);
      m.trace.gradientNorms = Array.from(f32(d.trace.gradientNorms));
      m.trace.networkOutput = Array.from(f32(d.trace.networkOutput));
      const links = f32(d.trace.connectivity), T = d.tokens.length;
      m.trace.connectivity = [];
      for (let r = 0; r < links.length / T; r++) m.trace.connectivity.push(Array.from(links.subarray(r * T, (r + 1) * T)));
      for (const lane of m.trace.lanes) {
        lane.h = f32(lane.h);
        for (const g in lane.gates) lane.gates[g] = f32(lane.gates[g]);
      }
      return m;
    }
    function matvec(w, x, bias) {
      const [rows, cols] = w.shape, out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        let s = bias ? bias.v[r] : 0;
        const o = r * cols;
        for (let c = 0; c < cols; c++) s += w.v[o + c] * x[c];
        out[r] = s;
      }
      return out;
    }
    // example: {ids: [[...]], features: Float32Array, T}; edits: {lane, unit, zero, gate, clamp}
    function forward(m, ex, edits) {
      const T = ex.T, H = m.units, W = m.W;
      const xs = [];
      for (let t = 0; t < T; t++) {
        const v = [];
        ex.ids.forEach((ids, c) => {
          const e = W[`embeddings.${c}.weight`], E = e.shape[1];
          const row = e.rows ? e.rows.get(ids[t]) : ids[t];
          if (row === undefined) throw new Error(`"${ex.tokens ? ex.tokens[t] : ids[t]}" is not among the rows this page carries (its most frequent words and the original input's)`);
          for (let k = 0; k < E; k++) v.push(e.v[row * E + k]);
        });
        for (let k = 0; k < m.featureWidth; k++) v.push(ex.features[t * m.featureWidth + k]);
        xs.push(v);
      }
      let input = xs;
      const lanes = [], finals = [];
      for (let l = 0; l < m.layers; l++) {
        const outs = [];
        for (let d = 0; d < m.directions; d++) {
          const s = `_l${l}` + (d ? "_reverse" : "");
          const ih = W["rnn.weight_ih" + s], hh = W["rnn.weight_hh" + s], bih = W["rnn.bias_ih" + s], bhh = W["rnn.bias_hh" + s];
          const laneIndex = l * m.directions + d, edit = edits && edits.lane === laneIndex ? edits : null;
          let h = new Float64Array(H), c = new Float64Array(H);
          const hs = new Array(T), gates = {};
          const names = m.cell === "lstm" ? ["c", "f", "g", "i", "o"] : m.cell === "gru" ? ["n", "r", "z"] : ["a"];
          for (const g of names) gates[g] = new Float64Array(T * H);
          const order = [...Array(T).keys()];
          if (d) order.reverse();
          for (const t of order) {
            const a = matvec(ih, input[t], bih), b = matvec(hh, h, bhh);
            const next = new Float64Array(H);
            const clamp = (g, j, v) => (edit && edit.gate === g && edit.unit === j ? edit.clamp : v);
            if (m.cell === "lstm") {
              const cn = new Float64Array(H);
              for (let j = 0; j < H; j++) {
                const i = clamp("i", j, sigmoid(a[j] + b[j])), f = clamp("f", j, sigmoid(a[H + j] + b[H + j]));
                const g = clamp("g", j, Math.tanh(a[2 * H + j] + b[2 * H + j])), o = clamp("o", j, sigmoid(a[3 * H + j] + b[3 * H + j]));
                cn[j] = f * c[j] + i * g;
                next[j] = o * Math.tanh(cn[j]);
                const k = t * H + j;
                gates.i[k] = i; gates.f[k] = f; gates.g[k] = g; gates.o[k] = o; gates.c[k] = cn[j];
              }
              c = cn;
            } else if (m.cell === "gru") {
              for (let j = 0; j < H; j++) {
                const r = clamp("r", j, sigmoid(a[j] + b[j])), z = clamp("z", j, sigmoid(a[H + j] + b[H + j]));
                const n = clamp("n", j, Math.tanh(a[2 * H + j] + r * b[2 * H + j]));
                next[j] = (1 - z) * n + z * h[j];
                const k = t * H + j;
                gates.r[k] = r; gates.z[k] = z; gates.n[k] = n;
              }
            } else {
              for (let j = 0; j < H; j++) { gates.a[t * H + j] = a[j] + b[j]; next[j] = Math.tanh(a[j] + b[j]); }
            }
            if (edit && edit.zero) { next[edit.unit] = 0; if (m.cell === "lstm") c[edit.unit] = 0; }
            h = next;
            hs[t] = h;
          }
          lanes.push({ layer: l, direction: d, h: hs, gates: gates });
          outs.push(hs);
          if (l === m.layers - 1) finals.push(h);
        }
        input = [];
        for (let t = 0; t < T; t++) input.push(outs.flatMap((o) => Array.from(o[t])));
      }
      let outputs;
      if (m.head === "step") {
        outputs = input.map((v) => softmax(matvec(W["head.weight"], v, W["head.bias"])));
      } else {
        let summary = finals.flatMap((h) => Array.from(h));
        if (m.maxPooling) summary = summary.concat(input[0].map((_, k) => Math.max(...input.map((v) => v[k]))));
        let out = Array.from(matvec(W["head.weight"], summary, W["head.bias"]));
        if (W["bag.weight"]) {
          const bw = W["bag.weight"], C = bw.shape[1];
          out = out.map((v, k) => v + ex.ids[0].reduce((s, id) => s + bw.v[id * C + k], 0) / T);
        }
        if (W["skip.weight"]) out = out.map((v, k) => v + matvec(W["skip.weight"], Array.from(ex.features), W["skip.bias"])[k]);
        outputs = [out];
      }
      return { lanes: lanes, outputs: outputs };
    }
    function softmax(v) { const top = Math.max(...v), e = Array.from(v, (x) => Math.exp(x - top)), s = e.reduce((a, b) => a + b, 0); return e.map((x) => x / s); }
    // Per-step outputs as the trace holds them: a sequence classifier's are its prefixes'.
    function stepOutputs(m, ex, edits) {
      const run = forward(m, ex, edits);
      if (m.head !== "sequence") return { run: run, outputs: run.outputs };
      const outputs = [];
      for (let t = 1; t <= ex.T; t++) {
        const prefix = { T: t, ids: ex.ids.map((ids) => ids.slice(0, t)), features: ex.features.slice(0, t * m.featureWidth) };
        outputs.push(softmax(forward(m, prefix, edits).outputs[0]));
      }
      return { run: run, outputs: outputs };
    }

    // ---- state ---------------------------------------------------------------------------
    const M = prepare(DATA.main), C = DATA.compare ? prepare(DATA.compare) : null;
    const state = { step: 0, lane: M.trace.lanes.length - 1, unit: 0, view: "h", sort: "index", playing: null, hover: null, edits: null };
    let current = null;  // the lanes and outputs on screen (the library's, or recomputed after an edit)
    function example(m) { return { T: m.T, ids: m.ids, features: m.featureValues }; }
    function laneName(m, i) { const l = m.trace.lanes[i]; return `layer ${l.layer + 1}` + (m.directions > 1 ? (l.direction ? " backward" : " forward") : ""); }
    function fromTrace(m) {
      const H = m.units;
      const lanes = m.trace.lanes.map((l) => {
        const hs = [];
        for (let t = 0; t < m.T; t++) hs.push(l.h.subarray(t * H, (t + 1) * H));
        return { layer: l.layer, direction: l.direction, h: hs, gates: l.gates };
      });
      const w = m.trace.outputWidth, rows = [];
      for (let r = 0; r < m.trace.outputs.length / w; r++) rows.push(Array.from(m.trace.outputs.subarray(r * w, (r + 1) * w)));
      return { lanes: lanes, outputs: rows };
    }
    function value(lane, name, t, j) {
      if (name === "h") return lane.h[t][j];
      const g = lane.gates[name];
      return g ? g[t * M.units + j] : 0;
    }

    // ---- rendering -----------------------------------------------------------------------
    function renderAll() { renderTimeline(); renderCell(); renderOutputs(); renderHeatmap(); renderConnectivity(); writeHash(); }
    function renderTimeline() {
      const T = M.T, cw = 26, lh = 22, top = 34, lanes = current.lanes;
      const s = svg(80 + T * cw, top + lanes.length * lh + 10, $("timeline"));
      const unitLane = current.lanes[state.lane];
      const scale = Math.max(1e-6, ...unitLane.h.map((h) => Math.abs(h[state.unit])));
      for (let t = 0; t < T; t++) {
        const x = 80 + t * cw;
        const col = el("g", { "data-step": t, tabindex: -1 }, s);
        if (t === state.step) el("rect", { x: x - 1, y: 0, width: cw, height: top + lanes.length * lh + 8, fill: "#fff3d6", stroke: "#e69f00" }, col);
        el("rect", { x: x, y: 4, width: cw - 2, height: 22, fill: diverging(unitLane.h[t][state.unit], scale), class: "tokenCell" }, col);
        const label = M.unknown[t] ? "?" : M.tokens[t] === " " ? "␣" : M.tokens[t] === "\n" ? "⏎" : M.tokens[t];
        el("text", { x: x + (cw - 2) / 2, y: 19, "text-anchor": "middle", class: "token" }, col, label.length > 3 ? label.slice(0, 3) + "…" : label).appendChild(el("title", {}, null, M.tokens[t] + (M.unknown[t] ? " (unknown to the model)" : "")));
        lanes.forEach((lane, i) => {
          const v = lane.h[t][Math.min(state.unit, M.units - 1)];
          el("rect", { x: x, y: top + i * lh, width: cw - 2, height: lh - 4, fill: diverging(v, 1), "data-lane": i, rx: 3 }, col);
        });
        col.addEventListener("mouseenter", () => { state.hover = t; renderConnectivity(); });
        col.addEventListener("click", () => setStep(t));
      }
      lanes.forEach((lane, i) => {
        el("text", { x: 4, y: top + i * lh + 13 }, s, laneName(M, i).replace("layer ", "L"));
        const t = state.step, from = lane.direction ? t + 1 : t - 1;
        if (from >= 0 && from < T) {
          const y = top + i * lh + (lh - 4) / 2, x1 = 80 + from * cw + (cw - 2) / 2, x2 = 80 + t * cw + (cw - 2) / 2;
          el("line", { x1: x1, y1: y, x2: x2 + (x2 > x1 ? -6 : 6), y2: y, stroke: "#1b1b1b", "stroke-width": 2, "marker-end": "url(#arrow)" }, s);
        }
      });
      const defs = el("defs", {}, s), marker = el("marker", { id: "arrow", markerWidth: 6, markerHeight: 6, refX: 3, refY: 3, orient: "auto" }, defs);
      el("path", { d: "M0,0 L6,3 L0,6 z", fill: "#1b1b1b" }, marker);
      $("stepLabel").textContent = `${state.step + 1} of ${T}: ${JSON.stringify(M.tokens[state.step])}`;
    }
    const EQUATIONS = {
      lstm: ["i = σ(W_ii x + b_ii + W_hi h + b_hi)", "f = σ(W_if x + b_if + W_hf h + b_hf)", "g = tanh(W_ig x + b_ig + W_hg h + b_hg)",
             "o = σ(W_io x + b_io + W_ho h + b_ho)", "c' = f ⊙ c + i ⊙ g", "h' = o ⊙ tanh(c')"],
      gru: ["r = σ(W_ir x + b_ir + W_hr h + b_hr)", "z = σ(W_iz x + b_iz + W_hz h + b_hz)", "n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))",
            "h' = (1 − z) ⊙ n + z ⊙ h"],
      rnn: ["a = W_ih x + b_ih + W_hh h + b_hh", "h' = tanh(a)"],
    };
    function renderCell() {
      const lane = current.lanes[state.lane], t = state.step, j = state.unit, T = M.T;
      const prevT = lane.direction ? t + 1 : t - 1, hasPrev = prevT >= 0 && prevT < T;
      const hPrev = hasPrev ? lane.h[prevT][j] : 0, h = lane.h[t][j];
      $("cellStep").textContent = `${t + 1}, ${laneName(M, state.lane)}, unit ${j}`;
      const s = svg(380, 190, $("cell"));
      const box = (x, y, label, v, isGate, w = 62) => {
        el("rect", { x: x, y: y, width: w, height: 40, rx: 6, fill: isGate ? sequential(v) : diverging(v, 1), stroke: "#555" }, s);
        el("rect", { x: x + 3, y: y + 23, width: w - 6, height: 14, rx: 3, fill: "#fff", opacity: 0.85 }, s);
        el("text", { x: x + w / 2, y: y + 15, "text-anchor": "middle", fill: isGate && v < 0.5 ? "#fff" : "#1b1b1b" }, s, label);
        el("text", { x: x + w / 2, y: y + 34, "text-anchor": "middle" }, s, v.toFixed(4));
      };
      const arrow = (x1, y1, x2, y2) => el("line", { x1: x1, y1: y1, x2: x2, y2: y2, stroke: "#777", "stroke-width": 1.5 }, s);
      box(8, 130, "h(t−1)", hPrev, false);
      box(310, 130, "h(t)", h, false);
      el("text", { x: 190, y: 182, "text-anchor": "middle" }, s, `x(t) = ${JSON.stringify(M.tokens[t])}`);
      const g = (n) => value(lane, n, t, j);
      let eq;
      if (M.cell === "lstm") {
        const cPrev = hasPrev ? value(lane, "c", prevT, j) : 0;
        box(8, 20, "c(t−1)", cPrev, false); box(310, 20, "c(t)", g("c"), false);
        [["i", 82], ["f", 138], ["g", 194], ["o", 250]].forEach(([n, x]) => { box(x, 75, n, g(n), n !== "g", 50); arrow(x + 25, 115, x + 25, 130); });
        arrow(70, 40, 310, 40); arrow(70, 150, 310, 150);
        eq = EQUATIONS.lstm.join("\n") + `\n\nunit ${j}: c' = ${g("f").toFixed(4)} × ${cPrev.toFixed(4)} + ${g("i").toFixed(4)} × ${g("g").toFixed(4)} = ${g("c").toFixed(4)}` +
          `\n        h' = ${g("o").toFixed(4)} × tanh(${g("c").toFixed(4)}) = ${h.toFixed(4)}`;
      } else if (M.cell === "gru") {
        [["r", 100], ["z", 170], ["n", 240]].forEach(([n, x]) => { box(x - 10, 60, n, g(n), n !== "n"); arrow(x + 21, 100, x + 21, 130); });
        arrow(70, 150, 310, 150);
        eq = EQUATIONS.gru.join("\n") + `\n\nunit ${j}: h' = (1 − ${g("z").toFixed(4)}) × ${g("n").toFixed(4)} + ${g("z").toFixed(4)} × ${hPrev.toFixed(4)} = ${h.toFixed(4)}`;
      } else {
        box(160, 60, "a", g("a"), false); arrow(190, 100, 190, 130); arrow(70, 150, 310, 150);
        eq = EQUATIONS.rnn.join("\n") + `\n\nunit ${j}: h' = tanh(${g("a").toFixed(4)}) = ${h.toFixed(4)}`;
      }
      $("equation").textContent = eq;
    }
    function renderOutputs() {
      const box = $("outputs"), t = state.step, rows = current.outputs;
      box.innerHTML = "";
      const table = (probs, k) => {
        const order = probs.map((p, i) => i).sort((a, b) => probs[b] - probs[a]).slice(0, k);
        const tb = document.createElement("table"); tb.className = "probs";
        for (const i of order) {
          const tr = tb.insertRow();
          tr.insertCell().textContent = JSON.stringify(M.labels[i]);
          tr.insertCell().textContent = probs[i].toFixed(4);
          const bar = tr.insertCell(), b = svg(120, 12, bar);
          el("rect", { x: 0, y: 1, width: 120 * probs[i], height: 10, class: "bar" }, b);
        }
        box.appendChild(tb);
      };
      if (M.task === "language-model") {
        $("outputsTitle").textContent = `Next character after step ${t + 1}`;
        table(rows[t], 5);
        const p = document.createElement("p");
        p.innerHTML = `<label>temperature <input id="temperature" type="range" min="0.1" max="2" step="0.1" value="${state.temperature || 1}"></label> <span id="temperatureValue">${state.temperature || 1}</span> <button id="sample">sample a continuation</button>`;
        box.appendChild(p);
        const pre = document.createElement("pre"); pre.id = "continuation"; pre.textContent = state.continuation || ""; box.appendChild(pre);
        $("temperature").addEventListener("input", (e) => { state.temperature = Number(e.target.value); $("temperatureValue").textContent = e.target.value; });
        $("sample").addEventListener("click", () => { state.continuation = sample(100); $("continuation").textContent = state.continuation; });
      } else if (M.head === "step") {
        $("outputsTitle").textContent = "Tags";
        const tb = document.createElement("table"); tb.className = "probs";
        rows.forEach((probs, i) => {
          const k = probs.indexOf(Math.max(...probs)), tr = tb.insertRow();
          if (i === t) tr.style.background = "#fff3d6";
          tr.insertCell().textContent = M.tokens[i]; tr.insertCell().textContent = M.labels[k]; tr.insertCell().textContent = probs[k].toFixed(3);
        });
        box.appendChild(tb);
      } else if (M.head === "sequence") {
        $("outputsTitle").textContent = "Class probabilities on the input up to each step";
        const W = Math.max(300, 20 + M.T * 12), Hh = 150, legendRows = Math.ceil(M.labels.length / 6), s = svg(W, Hh + 16 + legendRows * 14, box);
        const colours = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"];
        M.labels.forEach((label, k) => {
          const pts = rows.map((p, i) => `${20 + i * ((W - 30) / Math.max(1, M.T - 1))},${10 + (1 - p[k]) * Hh}`).join(" ");
          el("polyline", { points: pts, fill: "none", stroke: colours[k % colours.length], "stroke-width": 2 }, s);
          el("text", { x: 22 + (k % 6) * 50, y: Hh + 24 + Math.floor(k / 6) * 14, fill: colours[k % colours.length] }, s, label.length > 7 ? label.slice(0, 7) + "…" : label);
        });
        el("line", { x1: 20 + t * ((W - 30) / Math.max(1, M.T - 1)), y1: 10, x2: 20 + t * ((W - 30) / Math.max(1, M.T - 1)), y2: Hh + 10, stroke: "#e69f00" }, s);
        table(rows[t], 4);
      } else {
        $("outputsTitle").textContent = "Forecast against the input window";
        const e = M.editing, raw = (v) => v * e.scale + e.mean;
        const inputs = Array.from(M.featureValues).map(raw), forecast = rows[0].map(raw), all = inputs.concat(forecast);
        const lo = Math.min(...all), hi = Math.max(...all), W = 360, Hh = 140, n = all.length;
        const s = svg(W, Hh + 30, box), X = (i) => 20 + i * ((W - 30) / Math.max(1, n - 1)), Y = (v) => 10 + (hi - v) / Math.max(1e-9, hi - lo) * Hh;
        el("polyline", { points: inputs.map((v, i) => `${X(i)},${Y(v)}`).join(" "), fill: "none", stroke: "#0072b2", "stroke-width": 2 }, s);
        el("polyline", { points: [inputs.length - 1].concat(forecast.map((_, i) => inputs.length + i)).map((i) => `${X(i)},${Y(all[i])}`).join(" "), fill: "none", stroke: "#d55e00", "stroke-width": 2, "stroke-dasharray": "5 3" }, s);
        el("rect", { x: X(inputs.length) - 4, y: 10, width: X(n - 1) - X(inputs.length) + 8, height: Hh, fill: "#d55e00", opacity: 0.08 }, s);
        el("text", { x: W - 4, y: Hh + 26, "text-anchor": "end", fill: "#d55e00" }, s, `forecast, horizon ${forecast.length}`);
        el("text", { x: 20, y: Hh + 26, fill: "#0072b2" }, s, "input window");
        const p = document.createElement("p"); p.textContent = "forecast: " + forecast.map((v) => v.toPrecision(5)).join(", "); box.appendChild(p);
      }
    }
    function sample(count) {
      const temperature = state.temperature || 1, chars = M.editing.characters;
      let ids = M.ids[0].slice(), text = "";
      for (let k = 0; k < count; k++) {
        const run = forward(M, { T: ids.length, ids: [ids], features: new Float32Array(0) }, state.edits);
        const logits = run.outputs[ids.length - 1].map((p) => Math.log(Math.max(p, 1e-30)) / temperature);
        const probs = softmax(logits);
        let r = Math.random(), next = 0;
        for (let i = 0; i < probs.length; i++) { r -= probs[i]; if (r <= 0) { next = i; break; } }
        if (next === 0) next = 1;
        ids.push(next);
        text += chars[next];
        if (ids.length > 200) ids = ids.slice(-200);
      }
      return text;
    }
    function unitOrder(lane) {
      const H = M.units, idx = [...Array(H).keys()];
      if (state.sort === "index") return idx;
      const score = idx.map((j) => {
        const vals = [];
        for (let t = 0; t < M.T; t++) vals.push(value(lane, state.view, t, j));
        if (state.sort === "variance") { const mean = vals.reduce((a, b) => a + b, 0) / vals.length; return vals.reduce((a, v) => a + (v - mean) ** 2, 0); }
        return vals.filter((v) => Math.abs(v) > 0.9 && Math.abs(v) <= 1 || v < 0.1 && v >= 0).length;
      });
      return idx.sort((a, b) => score[b] - score[a]);
    }
    function renderHeatmap() {
      const lane = current.lanes[state.lane], H = M.units, T = M.T, cw = Math.max(4, Math.min(18, Math.floor(900 / T))), ch = Math.max(3, Math.min(12, Math.floor(420 / H)));
      const order = unitOrder(lane);
      let scale = 1e-9;
      for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) scale = Math.max(scale, Math.abs(value(lane, state.view, t, j)));
      const isGate = !["h", "c", "a", "n", "g"].includes(state.view);
      const s = svg(60 + T * cw, 20 + H * ch, $("heatmap"));
      s.id = "heatmapSVG";
      order.forEach((j, row) => {
        for (let t = 0; t < T; t++) {
          const v = value(lane, state.view, t, j);
          el("rect", { x: 60 + t * cw, y: 10 + row * ch, width: cw, height: ch, fill: isGate ? sequential(v) : diverging(v, scale) }, s);
        }
        const hit = el("rect", { x: 0, y: 10 + row * ch, width: 60 + T * cw, height: ch, fill: "transparent", "data-unit": j, tabindex: 0, role: "button", "aria-label": `unit ${j}` }, s);
        hit.addEventListener("click", () => setUnit(j));
        hit.addEventListener("keydown", (e) => { if (e.key === "Enter") setUnit(j); });
        if (j === state.unit) el("rect", { x: 58, y: 10 + row * ch, width: T * cw + 4, height: ch, fill: "none", stroke: "#1b1b1b", "stroke-width": 1.5 }, s);
        if (ch >= 9) el("text", { x: 4, y: 10 + row * ch + ch - 2 }, s, `u${j}`);
      });
      el("rect", { x: 60 + state.step * cw, y: 8, width: cw, height: H * ch + 4, fill: "none", stroke: "#e69f00", "stroke-width": 2 }, s);
      const legend = svg(320, 36, $("legend"));
      for (let k = 0; k <= 100; k++) {
        const v = isGate ? k / 100 : (k / 50 - 1) * scale;
        el("rect", { x: 10 + k * 2.5, y: 4, width: 3, height: 12, fill: isGate ? sequential(v) : diverging(v, scale) }, legend);
      }
      el("text", { x: 10, y: 30 }, legend, isGate ? "0" : (-scale).toPrecision(3));
      el("text", { x: 135, y: 30, "text-anchor": "middle" }, legend, isGate ? "0.5" : "0");
      el("text", { x: 262, y: 30, "text-anchor": "end" }, legend, isGate ? "1" : scale.toPrecision(3));
      el("text", { x: 270, y: 14 }, legend, state.view);
    }
    function renderGradients() {
      const box = $("gradients"), models = [M].concat(C ? [C] : []), colours = ["#0072b2", "#d55e00"];
      $("gradientNote").textContent = `‖∂L/∂h_t‖ of the last layer, L = ${M.trace.lossDescription} (the library's backward pass over the input as given; log scale).`;
      const all = models.flatMap((m) => m.trace.gradientNorms).filter((v) => v > 0);
      const lo = Math.log10(Math.min(...all, 1)), hi = Math.log10(Math.max(...all, 1e-9)), W = 360, Hh = 150;
      const s = svg(W, Hh + 40, box);
      models.forEach((m, k) => {
        const n = m.trace.gradientNorms.length, X = (i) => 40 + i * ((W - 50) / Math.max(1, n - 1));
        const Y = (v) => 10 + (hi - Math.log10(Math.max(v, 1e-30))) / Math.max(1e-9, hi - lo) * Hh;
        el("polyline", { points: m.trace.gradientNorms.map((v, i) => `${X(i)},${Y(v)}`).join(" "), fill: "none", stroke: colours[k], "stroke-width": 2 }, s);
        el("text", { x: 42 + k * 160, y: Hh + 36, fill: colours[k] }, s, `${m.name} (${m.cell})`);
      });
      el("text", { x: 2, y: 16 }, s, `1e${hi.toFixed(0)}`); el("text", { x: 2, y: Hh + 10 }, s, `1e${lo.toFixed(0)}`);
      el("text", { x: 40, y: Hh + 22 }, s, "step 1"); el("text", { x: W - 10, y: Hh + 22, "text-anchor": "end" }, s, `step ${M.T}`);
    }
    function renderConnectivity() {
      const rows = M.trace.connectivity, box = $("connectivity");
      const t = rows.length === 1 ? 0 : Math.min(state.hover === null ? state.step : state.hover, rows.length - 1), row = rows[t];
      const top = Math.max(...row, 1e-12), W = 360, Hh = 70, s = svg(W, Hh + 28, box), bw = (W - 20) / row.length;
      row.forEach((v, i) => el("rect", { x: 10 + i * bw, y: 10 + Hh * (1 - v / top), width: Math.max(1, bw - 1), height: Hh * v / top, fill: sequential(v / top) }, s));
      el("text", { x: 10, y: Hh + 24 }, s, rows.length === 1 ? "inputs driving the output" : `inputs driving the output at step ${t + 1}`);
    }
    function renderSaturation() {
      const box = $("saturation"), lanes = fromTrace(M).lanes, W = 360, s = svg(W, 30 + lanes.length * 26, box);
      const gateNames = M.cell === "lstm" ? ["i", "f", "o"] : M.cell === "gru" ? ["r", "z"] : [];
      if (!gateNames.length) { box.textContent = "A SimpleRNN has no gates; its tanh saturates where |h| > 0.9: "; }
      lanes.forEach((lane, i) => {
        let low = 0, high = 0, n = 0;
        const names = gateNames.length ? gateNames : ["h"];
        for (const g of names) for (let t = 0; t < M.T; t++) for (let j = 0; j < M.units; j++) {
          const v = g === "h" ? Math.abs(lane.h[t][j]) : value(lane, g, t, j); n++;
          if (g !== "h" && v < 0.1) low++; if (v > 0.9) high++;
        }
        const y = 10 + i * 26;
        el("text", { x: 0, y: y + 13 }, s, laneName(M, i));
        el("rect", { x: 120, y: y, width: 200 * low / n, height: 16, fill: "#0072b2" }, s);
        el("rect", { x: 120 + 200 * low / n, y: y, width: 200 * high / n, height: 16, fill: "#e69f00" }, s);
        el("text", { x: 124 + 200 * (low + high) / n, y: y + 13 }, s, `${(100 * low / n).toFixed(0)}% / ${(100 * high / n).toFixed(0)}%`);
      });
      el("text", { x: 120, y: 24 + lanes.length * 26, fill: "#0072b2" }, s, "< 0.1"); el("text", { x: 170, y: 24 + lanes.length * 26, fill: "#e69f00" }, s, "> 0.9");
    }
    function renderWhatIf() {
      const box = $("whatif"), e = M.editing;
      const gates = M.cell === "lstm" ? ["i", "f", "g", "o"] : M.cell === "gru" ? ["r", "z", "n"] : [];
      box.innerHTML = "";
      if (e && e.kind !== "none") {
        const p = document.createElement("p");
        p.innerHTML = `<label>input (${e.kind === "values" ? "numbers, the last " + e.window + " are read" : "text"})<br><textarea id="editText"></textarea></label><br><button id="editRun">recompute with this input</button>`;
        box.appendChild(p);
        $("editText").value = e.kind === "values" ? Array.from(M.featureValues, (v) => (v * e.scale + e.mean).toPrecision(6)).join(", ") : M.tokens.join(e.kind === "words" ? " " : "");
        $("editRun").addEventListener("click", () => applyEdit($("editText").value));
      }
      const q = document.createElement("p");
      q.innerHTML = `In the selected layer and unit: <label><input type="checkbox" id="zeroUnit"> zero the unit</label> ` +
        (gates.length ? `<label>clamp gate <select id="clampGate"><option value="">none</option>${gates.map((g) => `<option>${g}</option>`).join("")}</select></label> <label>to <input id="clampValue" type="number" step="0.05" value="0" style="width:5em"></label>` : "") +
        ` <button id="editApply">recompute</button> <button id="editReset">back to the library's values</button>`;
      box.appendChild(q);
      const status = document.createElement("p"); status.id = "editStatus"; status.className = "note"; box.appendChild(status);
      $("editApply").addEventListener("click", () => {
        const gate = $("clampGate") ? $("clampGate").value : "";
        state.edits = { lane: state.lane, unit: state.unit, zero: $("zeroUnit").checked, gate: gate || null, clamp: Number(($("clampValue") || { value: 0 }).value) };
        recompute(example(M));
      });
      $("editReset").addEventListener("click", () => { state.edits = null; reload(); });
    }
    function encodeEdit(text) {
      const e = M.editing;
      if (e.kind === "characters") {
        const index = new Map(e.characters.map((c, i) => [c, i]));
        const chars = Array.from(text);
        return { tokens: chars, unknown: chars.map((c) => !index.has(c) || index.get(c) === 0), ex: { T: chars.length, ids: [chars.map((c) => index.get(c) || 0)], features: new Float32Array(0) } };
      }
      if (e.kind === "words") {
        let s = e.lower ? text.toLowerCase() : text;
        for (const f of e.filters) s = s.split(f).join(" ");
        const words = s.split(" ").filter((w) => w.length), ids = [], tokens = [], unknown = [];
        for (const w of words) {
          let id = e.index[w];
          if (id === undefined || (e.numWords > 0 && id >= e.numWords)) { if (e.oov < 0) continue; id = e.oov; }
          ids.push(id); tokens.push(id === e.oov ? "<OOV>" : w); unknown.push(id === e.oov);
        }
        return { tokens: tokens.slice(0, e.maxLength), unknown: unknown.slice(0, e.maxLength), ex: { T: Math.min(ids.length, e.maxLength), ids: [ids.slice(0, e.maxLength)], tokens: tokens.slice(0, e.maxLength), features: new Float32Array(0) } };
      }
      const values = text.split(/[\s,]+/).filter((v) => v.length).map(Number);
      if (values.some((v) => !isFinite(v))) throw new Error("every value must be a number");
      if (values.length < e.window) throw new Error(`the forecaster reads windows of ${e.window} values; ${values.length} given`);
      const w = values.slice(-e.window);
      return { tokens: w.map(String), unknown: w.map(() => false), ex: { T: e.window, ids: [], features: Float32Array.from(w, (v) => (v - e.mean) / e.scale) } };
    }
    function applyEdit(text) {
      try {
        const enc = encodeEdit(text);
        if (enc.ex.T === 0) throw new Error("the input is empty");
        M.tokens = enc.tokens; M.unknown = enc.unknown; M.T = enc.ex.T; M.ids = enc.ex.ids; M.featureValues = enc.ex.features;
        state.step = Math.min(state.step, M.T - 1);
        $("step").max = M.T - 1;
        recompute(enc.ex);
      } catch (err) { $("editStatus").textContent = "Not recomputed: " + err.message; }
    }
    function recompute(ex) {
      const r = stepOutputs(M, ex, state.edits);
      current = {
        lanes: r.run.lanes.map((l) => ({ layer: l.layer, direction: l.direction, h: l.h, gates: Object.fromEntries(Object.entries(l.gates)) })),
        outputs: r.outputs,
      };
      $("editStatus").textContent = "Recomputed in the page (the gradient panel still shows the library's values for the original input).";
      renderAll();
    }
    function reload() { location.hash = ""; location.reload(); }

    // ---- controls ------------------------------------------------------------------------
    function setStep(t) { state.step = Math.max(0, Math.min(M.T - 1, t)); $("step").value = state.step; renderAll(); }
    function setUnit(j) { state.unit = Math.max(0, Math.min(M.units - 1, j)); $("unit").value = state.unit; renderAll(); }
    function play() {
      if (state.playing) { clearInterval(state.playing); state.playing = null; $("play").textContent = "▶ play"; return; }
      $("play").textContent = "⏸ pause";
      state.playing = setInterval(() => { if (state.step >= M.T - 1) { play(); return; } setStep(state.step + 1); }, 450);
    }
    function writeHash() { history.replaceState(null, "", `#step=${state.step}&lane=${state.lane}&unit=${state.unit}&view=${state.view}&sort=${state.sort}`); }
    function readHash() {
      const p = new URLSearchParams(location.hash.slice(1));
      const n = (k, max) => { const v = parseInt(p.get(k), 10); return Number.isFinite(v) ? Math.max(0, Math.min(max, v)) : null; };
      if (n("step", M.T - 1) !== null) state.step = n("step", M.T - 1);
      if (n("lane", M.trace.lanes.length - 1) !== null) state.lane = n("lane", M.trace.lanes.length - 1);
      if (n("unit", M.units - 1) !== null) state.unit = n("unit", M.units - 1);
      if (p.get("view") && viewNames().includes(p.get("view"))) state.view = p.get("view");
      if (["index", "variance", "saturation"].includes(p.get("sort"))) state.sort = p.get("sort");
    }
    function viewNames() { return ["h"].concat(M.cell === "lstm" ? ["c", "i", "f", "g", "o"] : M.cell === "gru" ? ["r", "z", "n"] : ["a"]); }
    function download(name, type, text) {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([text], { type: type }));
      a.download = name; document.body.appendChild(a); a.click(); a.remove();
    }
    function csv() {
      const lane = current.lanes[state.lane], rows = ["step,token," + [...Array(M.units).keys()].map((j) => `${state.view}_${j}`).join(",")];
      for (let t = 0; t < M.T; t++) rows.push(`${t + 1},"${String(M.tokens[t]).replace(/"/g, '""')}",` + [...Array(M.units).keys()].map((j) => value(lane, state.view, t, j)).join(","));
      return rows.join("\n") + "\n";
    }
    function selfTest() {
      // The page's forward pass against the library's numbers embedded above.
      const mine = stepOutputs(M, example(M), null), lib = fromTrace(M);
      let worst = 0;
      mine.run.lanes.forEach((lane, i) => {
        for (let t = 0; t < M.T; t++) for (let j = 0; j < M.units; j++) {
          worst = Math.max(worst, Math.abs(lane.h[t][j] - lib.lanes[i].h[t][j]));
          for (const g in lib.lanes[i].gates) worst = Math.max(worst, Math.abs(lane.gates[g][t * M.units + j] - lib.lanes[i].gates[g][t * M.units + j]));
        }
      });
      mine.outputs.forEach((row, t) => row.forEach((v, k) => { worst = Math.max(worst, Math.abs(v - lib.outputs[t][k])); }));
      if (M.head !== "step") mine.run.outputs[0].forEach((v, k) => { worst = Math.max(worst, Math.abs(v - M.trace.networkOutput[k])); });
      const out = $("selftest");
      out.dataset.maxDiff = worst.toExponential(3);
      out.textContent = `The page's forward pass matches the library's to ${worst.toExponential(2)} (largest difference over every state, gate and output).`;
    }
    function init() {
      $("title").textContent = `Unrolled: ${M.name}`;
      $("subtitle").textContent = `${M.task}, ${M.layers} × ${M.cell.toUpperCase()}(${M.units})${M.directions > 1 ? ", bidirectional" : ""}, ${M.T} steps` + (C ? `; compared with ${C.name} (${C.cell.toUpperCase()})` : "");
      M.trace.lanes.forEach((_, i) => { const o = document.createElement("option"); o.value = i; o.textContent = laneName(M, i); $("lane").appendChild(o); });
      viewNames().forEach((v) => { const o = document.createElement("option"); o.value = v; o.textContent = v; $("view").appendChild(o); });
      readHash();
      $("step").max = M.T - 1; $("step").value = state.step; $("lane").value = state.lane; $("unit").max = M.units - 1; $("unit").value = state.unit;
      $("view").value = state.view; $("sort").value = state.sort;
      $("step").addEventListener("input", (e) => setStep(Number(e.target.value)));
      $("lane").addEventListener("change", (e) => { state.lane = Number(e.target.value); renderAll(); });
      $("unit").addEventListener("change", (e) => setUnit(Number(e.target.value)));
      $("view").addEventListener("change", (e) => { state.view = e.target.value; renderAll(); });
      $("sort").addEventListener("change", (e) => { state.sort = e.target.value; renderAll(); });
      $("first").addEventListener("click", () => setStep(0));
      $("back").addEventListener("click", () => setStep(state.step - 1));
      $("next").addEventListener("click", () => setStep(state.step + 1));
      $("play").addEventListener("click", play);
      $("exportSVG").addEventListener("click", () => download("heatmap.svg", "image/svg+xml", new XMLSerializer().serializeToString($("heatmapSVG"))));
      $("exportCSV").addEventListener("click", () => download("values.csv", "text/csv", csv()));
      document.addEventListener("keydown", (e) => {
        if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
        if (e.key === "ArrowRight") { setStep(state.step + 1); e.preventDefault(); }
        else if (e.key === "ArrowLeft") { setStep(state.step - 1); e.preventDefault(); }
        else if (e.key === "Home") setStep(0);
        else if (e.key === " ") { play(); e.preventDefault(); }
      });
      current = fromTrace(M);
      renderGradients(); renderSaturation(); renderWhatIf(); renderAll(); selfTest();
    }
    init();
    """#
}
