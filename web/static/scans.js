// kiemphieu: the scanned-ballots page — upload the scanner's stacks, follow
// each stack against its declared count, check the test deck, and settle
// each page the machine would not decide alone: the page's image with the
// layout's rows drawn over it and the machine's reading beside it; Enter
// confirms what the input holds, typed as at the desk.
"use strict";
(function () {
  const D = kp.data("scans-data");
  if (!D.layout) return; // no machine-readable paper: the page says so
  const M = D.messages;
  const $ = (id) => document.getElementById(id);
  const base = "/api/v1/contests/" + encodeURIComponent(D.contest);
  const svgNS = "http://www.w3.org/2000/svg";

  function t(key, ...args) {
    let i = 0;
    return (M[key] || key).replace(/%[sd]/g, () => String(args[i++]));
  }
  const ballots = kp.ballots(D, t);
  const names = new Map(D.candidates.map((c, i) => [c.id, (i + 1) + ". " + c.name]));

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    e.append(...children);
    return e;
  }

  function say(msg, ok) {
    $("alerts").replaceChildren(el("p", { className: ok ? "notice" : "alert", textContent: msg }));
  }

  // refusal is what a refused request says: the API's words for people,
  // or, when the answer carries none (a proxy's error page), its status.
  function refusal(status, body) { return kp.errorText(body) || t("scans.failed", status); }

  function reasonText(code) { return code ? (M["scans.reason." + code] || code) : ""; }
  function statusText(s) { return M["scans.status." + s] || s; }
  // blind: a page of the re-keying sample not yet keyed again.
  function blind(p) { return p.sample && !p.rekey && !p.settled; }
  function pageStatus(p) { return statusText(blind(p) ? "sample" : p.status); }
  function where(p) {
    return p.stack ? t("scans.at_stack", p.stack, p.position) : t("scans.at_batch", new Date(p.time).toLocaleTimeString(), p.file + 1, p.page);
  }

  // --- The upload -------------------------------------------------------

  const form = $("upload-form");
  const drop = $("drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    $("files").files = ev.dataTransfer.files;
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const files = [...$("files").files, ...$("camera").files];
    if (!files.length) { say(M["scans.need_files"]); return; }
    // The fields before the first file: the intake reads the stack first.
    const body = new FormData();
    if (form.stack.value) body.append("stack", form.stack.value);
    if (form.declared.value) body.append("declared", form.declared.value);
    for (const f of files) body.append("file", f, f.name);
    $("send").disabled = true;
    say(t("scans.sending", files.length), true);
    let res, data = null;
    try {
      res = await fetch(base + "/scans", { method: "POST", body, credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": kp.csrf } });
      const text = await res.text();
      if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
    } catch (e) {
      say(M["scans.net"]);
      return;
    } finally {
      $("send").disabled = false;
    }
    if (res.status === 401) { kp.signIn(); return; }
    if (!res.ok) { say(refusal(res.status, data)); return; }
    showAnswer(data.pages);
    form.reset();
    refresh();
  });

  function showAnswer(pages) {
    const n = { read: 0, doubtful: 0, rejected: 0 };
    for (const p of pages) n[p.status] = (n[p.status] || 0) + 1;
    say(t("scans.sent", pages.length, n.read, n.doubtful, n.rejected), true);
    $("answer-summary").textContent = t("scans.sent", pages.length, n.read, n.doubtful, n.rejected);
    $("answer-pages").tBodies[0].replaceChildren(...pages.map((p) => {
      let why = reasonText(p.reason);
      if (p.test_page) why = t("scans.test_page", p.test_page) + (why ? "; " + why : "");
      if (p.stored) why = M["scans.stored"] + (why ? "; " + why : "");
      return el("tr", { className: "st-" + p.status }, el("td", { textContent: t("scans.file_page", p.file + 1, p.page) }),
        el("td", { textContent: statusText(p.status) }), el("td", { textContent: why }));
    }));
    $("answer").hidden = false;
  }

  // --- The stacks, the test deck, the queue -------------------------------

  let pages = [], current = null;

  async function refresh() {
    const res = await kp.api("GET", base + "/scans");
    if (!res.ok) { say(refusal(res.status, res.body)); return; }
    const v = res.body;
    pages = v.pages;
    $("stacks").tBodies[0].replaceChildren(...v.stacks.map((s) =>
      el("tr", { className: s.mismatch ? "st-failed" : "" }, el("td", { textContent: String(s.stack) }),
        el("td", { className: "num", textContent: s.declared ? String(s.declared) : "—" }),
        el("td", { className: "num", textContent: String(s.received) }),
        el("td", { textContent: s.declared ? (s.mismatch ? M["scans.mismatch"] : M["scans.match"]) : "" }))));
    $("stacks-none").hidden = v.stacks.length > 0;
    renderDeck(v.deck || []);
    renderSample(v.sample);
    const waiting = pages.filter((p) => !p.test_page && (p.status !== "read" || p.sample) && !p.settled && !p.dismissed);
    $("queue-summary").textContent = waiting.length ? t("scans.queue_n", waiting.length) : M["scans.queue_none"];
    $("queue").replaceChildren(...waiting.map((p) => {
      const b = el("button", { type: "button", className: "link", textContent: where(p) + " — " + pageStatus(p) + (p.reason ? " (" + reasonText(p.reason) + ")" : "") });
      b.addEventListener("click", () => show(p));
      const li = el("li", {}, b);
      li.dataset.image = p.image;
      if (current && current.image === p.image) li.className = "current";
      return li;
    }));
    // The page under review stays until it is settled; then the next.
    if (current && waiting.some((p) => p.image === current.image)) return;
    if (waiting.length) show(waiting[0]);
    else { current = null; $("review").hidden = true; }
  }

  function renderSample(sm) {
    const s = $("sample-summary");
    if (!s || !sm) return;
    s.textContent = sm.percent ? t("scans.sample_summary", sm.percent, sm.drawn, sm.rekeyed, sm.agreed, sm.differed) : M["scans.sample_off"];
    const f = $("sample-form");
    if (f && document.activeElement !== f.percent) f.percent.value = String(sm.percent);
  }
  const sampleForm = $("sample-form");
  if (sampleForm) sampleForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const res = await kp.api("PUT", base + "/scans/sample", { percent: +sampleForm.percent.value });
    if (!res.ok) { say(refusal(res.status, res.body)); return; }
    say(t("scans.sample_saved", res.body.percent), true);
    refresh();
  });

  function renderDeck(deck) {
    const got = deck.filter((d) => d.received).length, right = deck.filter((d) => d.pass).length;
    const s = $("deck-summary");
    s.textContent = t("scans.deck_summary", got, deck.length, right) +
      (got === deck.length && right === deck.length ? " " + M["scans.deck_ok"] : got > right ? " " + M["scans.deck_bad"] : "");
    s.className = got > right ? "alert" : got === deck.length && right === got ? "notice" : "muted";
    $("deck").tBodies[0].replaceChildren(...deck.map((d) => {
      const cell = el("td", { textContent: !d.received ? M["scans.deck_missing"] : d.pass ? M["scans.deck_pass"] : M["scans.deck_fail"] });
      if (d.problems) cell.append(el("ul", {}, ...d.problems.map((pr) => el("li", { textContent: problemText(pr) }))));
      return el("tr", { className: !d.received ? "" : d.pass ? "st-ok" : "st-failed" },
        el("td", { textContent: d.page + ". " + d.title }), cell);
    }));
  }

  function problemText(pr) {
    const name = names.get(pr.candidate) || pr.candidate;
    const word = (w) => M["scans.word." + w] || M["desk.mark_" + w] || statusText(w);
    switch (pr.code) {
      case "status": return t("scans.problem.status", statusText(pr.got), statusText(pr.want));
      case "not_doubtful": return t("scans.problem.not_doubtful", name);
      default: return t("scans.problem." + pr.code, name, word(pr.got), word(pr.want));
    }
  }

  // --- The review ---------------------------------------------------------

  // homography solves for the projective map taking the four points from
  // (the layout's corner marks, mm) onto to (where the page shows them, px).
  function homography(from, to) {
    const A = [];
    for (let i = 0; i < 4; i++) {
      const [x, y] = from[i], [u, v] = to[i];
      A.push([x, y, 1, 0, 0, 0, -x * u, -y * u, u]);
      A.push([0, 0, 0, x, y, 1, -x * v, -y * v, v]);
    }
    for (let c = 0; c < 8; c++) {
      let p = c;
      for (let r = c + 1; r < 8; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
      [A[c], A[p]] = [A[p], A[c]];
      if (Math.abs(A[c][c]) < 1e-12) return null;
      for (let r = 0; r < 8; r++) {
        if (r === c) continue;
        const f = A[r][c] / A[c][c];
        for (let k = c; k < 9; k++) A[r][k] -= f * A[c][k];
      }
    }
    const h = A.map((row, i) => row[8] / row[i]);
    return (x, y) => {
      const w = h[6] * x + h[7] * y + 1;
      return [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w];
    };
  }

  function quad(map, r) {
    const [x, y, w, h] = r;
    return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]].map(([a, b]) => map(a, b).map((n) => n.toFixed(1)).join(",")).join(" ");
  }

  function drawOverlay(p) {
    const svg = $("overlay");
    svg.replaceChildren();
    svg.setAttribute("viewBox", "0 0 " + p.width + " " + p.height);
    const found = p.corners && p.corners.some(([x, y]) => x || y);
    const map = found ? homography(D.layout.marks, p.corners) : null;
    $("no-overlay").hidden = !!map;
    if (!map) return;
    const reading = new Map((p.reading || []).map((r) => [r.candidate, r]));
    for (const row of D.layout.rows) {
      const r = reading.get(row.candidate);
      const state = !r ? "none" : r.doubtful ? "doubtful" : (r.struck || (r.mark && r.mark !== "none")) ? "struck" : "kept";
      const poly = document.createElementNS(svgNS, "polygon");
      poly.setAttribute("points", quad(map, row.band));
      poly.setAttribute("class", "row row-" + state);
      svg.append(poly);
      for (const box of [row.agree, row.disagree]) {
        if (!box) continue;
        const b = document.createElementNS(svgNS, "polygon");
        b.setAttribute("points", quad(map, box));
        b.setAttribute("class", "box");
        svg.append(b);
      }
    }
  }

  function rowText(r) {
    let s = names.get(r.candidate) || r.candidate;
    if (D.ballot === "strike") s += " — " + (r.struck ? M["scans.row_struck"] : M["scans.row_kept"]) + " (" + Math.round(r.coverage * 100) + "%)";
    else s += " — " + (M["desk.mark_" + r.mark] || r.mark);
    if (r.doubtful) s += " · " + M["scans.row_doubtful"] + ": " + (M["scans.why." + r.why] || r.why);
    return s;
  }

  function show(p) {
    current = p;
    $("review").hidden = false;
    $("review-title").textContent = where(p) + " — " + pageStatus(p);
    $("review-sample").hidden = !blind(p);
    $("review-rekey").hidden = !p.rekey;
    if (p.rekey) $("review-rekey").textContent = t("scans.rekeyed", p.rekey_by, ballots.text(p.rekey));
    $("review-reason").textContent = reasonText(p.reason);
    $("review-reason").hidden = !p.reason;
    const img = $("page-image");
    img.src = base + "/scans/" + p.image + "/image";
    drawOverlay(p);
    $("reading").replaceChildren(...(p.reading || []).map((r) => el("li", { className: r.doubtful ? "doubtful" : "", textContent: rowText(r) })));
    $("proposed").textContent = p.ballot ? t("scans.proposed", ballots.text(p.ballot)) : M["scans.no_proposal"];
    $("proposed").hidden = blind(p);
    const input = $("review-input");
    input.value = p.ballot ? ballots.typed(p.ballot) : "";
    $("review-invalid").value = "";
    $("review-note").value = "";
    $("dismiss-reason").value = "";
    preview();
    for (const li of $("queue").children) li.className = li.dataset.image === p.image ? "current" : "";
    // Focused for Enter, without scrolling the page away from the upload
    // when the page first opens.
    input.focus({ preventScroll: true });
    input.select();
  }

  function entered() {
    const invalid = $("review-invalid").value;
    if (invalid) {
      const b = { invalid };
      const note = $("review-note").value.trim();
      if (note) b.note = note;
      if (invalid === "other" && !note) return { error: M["desk.need_reason"] };
      return b;
    }
    const s = $("review-input").value;
    if (!s.trim()) return { error: M["scans.no_proposal"] };
    return ballots.parse(s);
  }

  function preview() {
    const b = entered();
    const pv = $("review-preview");
    pv.textContent = b.error ? b.error : ballots.text(b);
    pv.className = "preview " + (b.error ? "invalid" : "valid");
  }
  $("review-input").addEventListener("input", preview);
  $("review-invalid").addEventListener("change", preview);
  $("review-note").addEventListener("input", preview);

  async function settle(body, done) {
    const p = current;
    if (!p) return;
    const res = await kp.api("POST", base + "/scans/" + p.image, body);
    if (!res.ok) { say(refusal(res.status, res.body)); return; }
    say(done(res.body), true);
    current = null;
    refresh();
  }

  $("review-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const b = entered();
    if (b.error) { say(b.error); return; }
    settle({ ballot: b }, (page) => t("scans.confirmed", where(page) + " — " + ballots.text(page.ballot)));
  });
  $("dismiss").addEventListener("click", () => {
    const reason = $("dismiss-reason").value.trim();
    if (!reason) { say(M["scans.need_dismiss"]); $("dismiss-reason").focus(); return; }
    settle({ dismiss: reason }, () => M["scans.dismissed"]);
  });

  refresh();
  setInterval(refresh, 4000);
})();
