// kiemphieu: the results screen for the projector (DESIGN §5.7). It draws
// the result it was rendered with, then follows the SSE stream: each
// `tally` event is the whole §5.3 result, so a missed event costs nothing.
// While the stream is down it says so and re-fetches the result, because
// EventSource's own reconnection may take a while behind a proxy.
"use strict";
(function () {
  const D = kp.data("screen-data");
  const M = D.messages;
  const $ = (id) => document.getElementById(id);
  function t(key, ...args) {
    return (M[key] || key).replace(/%[sd]/g, () => String(args.shift()));
  }
  let state = D.state;
  let version = -1;

  function render(r) {
    if (!r || r.version < version) return; // an older result arriving late
    version = r.version;
    const final = state === "closed" || state === "certified";
    $("ballots-total").textContent = r.ballots.total;
    $("ballots-valid").textContent = r.ballots.valid;
    $("ballots-invalid").textContent = r.ballots.invalid;
    showPaper(r);
    $("denominator").textContent = r.denominator;
    // An opinion ballot admits with more than 30% of those present (D is
    // those present); an introduction ballot forms its list from the top.
    $("threshold-text").textContent = D.kind === "opinion" ? t("screen.threshold_opinion", r.threshold)
      : D.kind === "introduction" ? t("screen.threshold_introduction", r.seats) : t("screen.threshold", r.threshold);
    document.body.dataset.version = r.version;

    const bars = $("bars");
    const items = r.candidates.map((c) => {
      const li = document.createElement("li");
      li.className = "bar" + (c.over_half ? " over-half" : "") + (final ? " status-" + c.status : "");
      li.dataset.id = c.id;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = c.name;
      const track = document.createElement("span");
      track.className = "track";
      const fill = document.createElement("span");
      fill.className = "fill";
      // Bars are on the scale of D, so the half line is always at 50%.
      fill.style.width = (r.denominator > 0 ? Math.min(100, (c.votes * 100) / r.denominator) : 0) + "%";
      const half = document.createElement("span");
      half.className = "half";
      if (D.kind === "opinion") half.style.left = "30%"; // the mark is 30% of those present
      if (D.kind === "introduction") half.hidden = true;   // no majority is needed
      track.append(fill, half);
      const fig = document.createElement("span");
      fig.className = "figure";
      fig.textContent = t("screen.votes", c.votes) + " · " + c.percent_text;
      // Every row has the badge cell, so the bars line up in every row.
      const badge = document.createElement("span");
      const chosen = { elected: "screen.elected", admitted: "screen.admitted", introduced: "screen.introduced" }[c.status];
      if (final && (chosen || c.status === "tie")) {
        badge.className = "badge " + (chosen ? "elected" : "tie");
        badge.textContent = chosen ? M[chosen] : M[D.kind === "introduction" ? "screen.tie_introduction" : "screen.tie"];
      }
      li.append(name, track, fig, badge);
      return li;
    });
    bars.replaceChildren(...items);
    const vacant = $("vacant");
    vacant.hidden = !(final && r.vacant > 0);
    vacant.textContent = final && r.vacant > 0 ? t(D.kind === "introduction" ? "screen.vacant_introduction" : "screen.vacant", r.vacant) : "";
    showWarnings(r);
    // A new count keeps the layout while it still fits (no jumping type
    // with every ballot); a new state (badges) or list is laid out anew.
    const shape = items.length + "/" + state;
    if (shape !== fitted || !fits()) fit();
    fitted = shape;
  }

  // The fit (screen.css): the list in 1 to 4 columns, each at the largest
  // type (up to MAX_FS px) at which the page fits the viewport; the
  // columns giving the largest type win, and the compact head is tried
  // only when the full one leaves the names smaller than COMFORT_FS.
  const MAX_FS = 34, MIN_FS = 9, COMFORT_FS = 22;
  let fitted = "";

  function fits() {
    const doc = document.documentElement, bars = $("bars");
    return doc.scrollHeight <= innerHeight && doc.scrollWidth <= innerWidth && bars.scrollWidth <= bars.clientWidth + 1;
  }

  function columns(cols) {
    const bars = $("bars"), items = bars.children, rows = Math.ceil(items.length / cols);
    bars.style.gridTemplateColumns = ("max-content minmax(3em, 1fr) max-content max-content ").repeat(cols).trim();
    // Down the first column in ballot order, then the next.
    for (let i = 0; i < items.length; i++) {
      const col = Math.floor(i / rows);
      items[i].style.gridColumn = col * 4 + 1 + " / span 4";
      items[i].style.gridRow = String((i % rows) + 1);
      items[i].classList.toggle("gap", col < cols - 1);
    }
  }

  // largest finds the largest type at which the page fits in cols columns
  // (a bisection: the fit is monotonic in the type size), or 0.
  function largest(cols) {
    const bars = $("bars");
    columns(cols);
    let lo = MIN_FS, hi = MAX_FS;
    bars.style.setProperty("--fs", lo + "px");
    if (!fits()) return 0;
    while (hi - lo > 0.5) {
      const mid = (lo + hi) / 2;
      bars.style.setProperty("--fs", mid + "px");
      if (fits()) lo = mid; else hi = mid;
    }
    return lo;
  }

  function fit() {
    const bars = $("bars"), screen = document.querySelector(".screen"), n = bars.children.length;
    if (n === 0) return;
    let best = { cols: 1, fs: 0, compact: false };
    for (const compact of [false, true]) {
      if (compact && best.fs >= COMFORT_FS) break;
      screen.classList.toggle("compact", compact);
      const full = best.fs;
      for (let cols = 1; cols <= Math.min(4, n); cols++) {
        const fs = largest(cols);
        // Fewer columns unless more give clearly larger type; the
        // compact head whenever it gives any.
        if (fs > best.fs * 1.08 || (compact && fs > full * 1.02 && fs > best.fs)) best = { cols, fs, compact };
      }
    }
    screen.classList.toggle("compact", best.compact);
    columns(best.cols);
    bars.style.setProperty("--fs", Math.max(best.fs, MIN_FS) + "px");
    document.body.dataset.fit = "done";
  }

  // A new wall size, or the web fonts arriving with other metrics.
  let resizing = null;
  addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(fit, 100); });
  if (document.fonts) document.fonts.ready.then(fit);

  // The committee's paper count beside the entered one, as the stream's
  // `paper` event brings it; until the committee has counted, nothing
  // ("/ chưa có" read as a figure on the wall).
  let collected = D.collected;
  function showPaper(r) {
    $("collected-wrap").hidden = collected == null;
    $("ballots-collected").textContent = collected == null ? "" : collected;
    $("collected-wrap").classList.toggle("mismatch", collected != null && r.ballots.total > collected);
  }

  // The figures that cannot be right against D, as the minutes and the
  // round's page say them (tally.ResultWarnings, whose wording is in
  // D.warnings): redrawn with every result, as the figures are.
  function showWarnings(r) {
    const W = D.warnings || {};
    const say = (code, ...args) => (W["warning." + code] || code).replace(/%%|%s/g, (m) => (m === "%%" ? "%" : String(args.shift())));
    const d = r.denominator, out = [];
    if (d > 0 && r.ballots.total > d) out.push(say("collected_over_d", r.ballots.total, d));
    if (d > 0 && r.ballots.valid > d) out.push(say("valid_over_d", r.ballots.valid, d));
    const over = r.candidates.filter((c) => d > 0 && c.votes > d).map((c) => c.name);
    if (over.length) out.push(say("votes_over_d", over.join(", "), d));
    const box = $("warnings");
    box.replaceChildren(...out.map((w) => { const li = document.createElement("li"); li.textContent = w; return li; }));
    box.hidden = out.length === 0;
  }

  function showState() {
    const el = $("state");
    el.className = "state state-" + state;
    el.textContent = M["screen.state." + state] || state;
  }

  let last = D.result;
  render(last);
  showState();

  const base = "/api/v1/contests/" + encodeURIComponent(D.contest);
  let refetch = null;

  async function fetchResult() {
    try {
      const res = await fetch(base + "/result", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (res.ok) { last = await res.json(); render(last); }
    } catch (e) { /* still down: the next tick tries again */ }
  }

  function down() {
    $("reconnecting").hidden = false;
    if (!refetch) refetch = setInterval(fetchResult, 3000);
  }
  function up() {
    $("reconnecting").hidden = true;
    if (refetch) { clearInterval(refetch); refetch = null; }
  }

  // EventSource reconnects by itself after a dropped connection, but gives
  // up for good when a reconnect is answered with an error status (a 502
  // from a proxy while the service restarts): then open a new one.
  let es = null;
  function connect() {
    es = new EventSource(base + "/stream", { withCredentials: true });
    es.addEventListener("open", up);
    es.addEventListener("error", () => {
      down();
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    });
    es.addEventListener("tally", (ev) => {
      up();
      last = JSON.parse(ev.data);
      render(last);
    });
    es.addEventListener("state", (ev) => {
      state = JSON.parse(ev.data).state;
      showState();
      version = -1; // redraw: the badges depend on the state
      render(last);
    });
    es.addEventListener("paper", (ev) => {
      collected = JSON.parse(ev.data).collected;
      if (last) showPaper(last);
    });
    // The server is shutting down: the stream ends and EventSource
    // reconnects by itself; until then, say so.
    es.addEventListener("bye", down);
  }
  connect();
})();
