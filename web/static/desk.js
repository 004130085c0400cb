// kiemphieu: the counting desk (DESIGN §5.7). One field, keyboard first.
// Each ballot is previewed with the rules of tally.Contest.Mark and
// Classify (tally/ballot.go), given an id made here (the server's
// idempotency key), put in a queue kept in localStorage, and sent in
// order; a failure of the network or a 5xx keeps it queued and retries with
// backoff. The same id sent twice is counted once by the server, so a retry
// can never count a ballot twice.
"use strict";
(function () {
  const D = kp.data("desk-data");
  if (!D) return;

  // A desk left on a round that is over is pointed at the next round as
  // soon as the committee makes it: the record is asked every few seconds
  // until it names one (a counter's token reaches the further rounds).
  let watching = false;
  function watchNext() {
    const box = document.getElementById("round-ended-next");
    if (!box || watching) return;
    watching = true;
    const ask = async () => {
      let res = null;
      try { res = await kp.api("GET", "/api/v1/contests/" + encodeURIComponent(D.contest)); } catch (e) { /* offline: ask again */ }
      if (res && res.ok && res.body && res.body.next) {
        box.querySelector("a").href = "/contests/" + encodeURIComponent(res.body.next) + "/desk";
        box.hidden = false;
        const wait = document.getElementById("round-ended-wait");
        if (wait) wait.hidden = true;
        return;
      }
      setTimeout(ask, 5000);
    };
    ask();
  }
  if (D.state !== "open") { if (!D.next) watchNext(); return; }
  const M = D.messages;
  // V: a verified round (nhập kép / nhập ba), keyed by stack and position.
  const V = D.required > 1;
  const n = D.candidates.length;

  // t formats a message: %s and %d are replaced in order, as fmt does.
  function t(key, ...args) {
    let s = M[key] || key;
    return s.replace(/%[sd]/g, () => String(args.shift()));
  }
  const $ = (id) => document.getElementById(id);
  const input = $("ballot-input");

  // ---- the preview: a mirror of tally.Contest.Mark and Classify ----

  // parse reads what was typed. It returns {error} for input the desk
  // refuses, {empty: true} for nothing typed, or {ballot, keyed, struck,
  // marks} with the ballot as the API takes it (DESIGN §5.2).
  function parse(text) {
    const s = text.trim();
    if (s === "") return { empty: true };
    if (D.ballot === "name") {
      // An introduction ballot: the numbers of the names introduced; "0"
      // alone is a ballot that introduces nobody (typed on purpose).
      if (s === "0") return { ballot: { named: [] }, keyed: "0", named: [] };
      const named = [], seen = new Set();
      for (const tok of s.split(/[\s,]+/)) {
        if (!/^[0-9]+$/.test(tok) || +tok < 1 || +tok > n) return { error: t("desk.bad_number", tok, n) };
        const i = +tok - 1;
        if (seen.has(i)) return { error: t("desk.repeated_named", i + 1) };
        seen.add(i);
        named.push(i);
      }
      return { ballot: { named: named.map((i) => D.candidates[i].id) }, keyed: named.map((i) => i + 1).join(" "), named };
    }
    if (D.ballot === "strike") {
      // "0" alone is an untouched ballot: typed on purpose, so that an
      // Enter pressed twice does not record an (over-vote) empty ballot.
      if (s === "0") return { ballot: { struck: [] }, keyed: "0", struck: [] };
      const struck = [], seen = new Set();
      for (const tok of s.split(/[\s,]+/)) {
        if (!/^[0-9]+$/.test(tok) || +tok < 1 || +tok > n) return { error: t("desk.bad_number", tok, n) };
        const i = +tok - 1;
        if (seen.has(i)) return { error: t("desk.repeated", i + 1) };
        seen.add(i);
        struck.push(i);
      }
      return { ballot: { struck: struck.map((i) => D.candidates[i].id) }, keyed: struck.map((i) => i + 1).join(" "), struck };
    }
    const letters = s.toLowerCase().replace(/\s+/g, "");
    const names = { d: "agree", k: "disagree", c: "both", t: "none" };
    if (letters.length > n) return { error: t("desk.too_many", letters.length, n) };
    const marks = [];
    for (const ch of letters) {
      if (!names[ch]) return { error: t("desk.bad_letter", ch) };
      marks.push(names[ch]);
    }
    while (marks.length < n) marks.push("none"); // a missing letter is no box
    const out = {};
    D.candidates.forEach((c, i) => { out[c.id] = marks[i]; });
    return { ballot: { marks: out }, keyed: letters.padEnd(n, "t"), marks };
  }

  // classify is tally.Contest.Classify: "" for valid, or the reason code.
  function classify(p) {
    if (D.ballot === "name") {
      if (p.named.length === 0) return "no_vote";
      return p.named.length > D.seats ? "over_vote" : "";
    }
    // An opinion ballot: each row is its own question, never an over-vote.
    if (D.kind === "opinion" && n > 1) return "";
    if (D.ballot === "strike") {
      const kept = n - p.struck.length;
      if (kept === 0) return "no_vote";
      if (kept > D.seats) return "over_vote";
      return "";
    }
    if (n === 1) return p.marks[0] === "agree" || p.marks[0] === "disagree" ? "" : "ambiguous_single";
    const agreed = p.marks.filter((m) => m === "agree").length;
    if (agreed > D.seats) return "over_vote";
    // 244-QĐ/TW Điều 17.2: several names and nobody agreed with.
    return agreed === 0 && D.elects ? "no_vote" : "";
  }

  // A reason in words; the engine's code is for the API and the log.
  function reasonText(code) { return M["reason." + code] || M["reason.other"]; }

  const rows = Array.from(document.querySelectorAll("#candidates li"));
  const preview = $("preview");

  function showPreview() {
    const p = parse(input.value);
    rows.forEach((li) => { li.className = ""; li.querySelector(".mark").textContent = ""; });
    preview.className = "preview";
    preview.dataset.state = "";
    preview.dataset.reason = "";
    if (p.empty) { preview.textContent = ""; return p; }
    if (p.error) {
      preview.className = "preview bad";
      preview.dataset.state = "error";
      preview.textContent = t("desk.bad_input", p.error);
      return p;
    }
    let count;
    if (D.ballot === "name") {
      p.named.forEach((i) => { rows[i].className = "named"; rows[i].querySelector(".mark").textContent = M["desk.named_mark"]; });
      count = t("desk.named", p.named.length, D.seats);
    } else if (D.ballot === "strike") {
      p.struck.forEach((i) => { rows[i].className = "struck"; rows[i].querySelector(".mark").textContent = M["desk.strike_mark"]; });
      count = t("desk.kept", n - p.struck.length, D.seats);
    } else {
      p.marks.forEach((m, i) => { rows[i].className = "mark-" + m; rows[i].querySelector(".mark").textContent = M["desk.mark_" + m]; });
      count = t("desk.agreed", p.marks.filter((m) => m === "agree").length, D.seats);
    }
    const reason = classify(p);
    preview.dataset.state = reason ? "invalid" : "valid";
    preview.dataset.reason = reason;
    preview.className = "preview " + (reason ? "invalid" : "valid");
    preview.textContent = count + " · " + (reason ? M["desk.invalid"] + ": " + reasonText(reason) : M["desk.valid"]);
    return p;
  }

  // ---- the desk's state, kept in localStorage so a reload loses nothing ----

  const KEY = "kp.desk." + D.contest;
  let st = load();

  function load() {
    let s = null;
    try { s = JSON.parse(localStorage.getItem(KEY)); } catch (e) { s = null; }
    if (!s || !s.prefix) {
      // A random prefix per desk (per browser) keeps ids of different
      // desks apart; the counter keeps this desk's apart.
      const b = new Uint8Array(3);
      crypto.getRandomValues(b);
      s = { prefix: Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""), counter: 0, queue: [], history: [] };
    }
    return s;
  }
  function save() { localStorage.setItem(KEY, JSON.stringify(st)); }

  function nextID() {
    st.counter++;
    return "d" + st.prefix + "-" + String(st.counter).padStart(6, "0");
  }

  // record puts a ballot in the queue and the history, saves both before
  // anything is sent, and starts sending. It returns false when nothing
  // was recorded (no stack chosen): what was typed stays.
  function record(ballot, keyed, reason) {
    if (V && !st.stack) { flash(M["desk.v_choose"]); $("stack-input").focus(); return false; }
    ballot.id = nextID();
    if (V) {
      // A keying: the ballot goes under the stack and position; its id
      // is the keying's, for retries. Then on to the next position.
      const item = { id: ballot.id, stack: st.stack, position: st.pos, ballot: Object.assign({}, ballot) };
      delete item.ballot.id;
      st.queue.push(item);
      st.history.push({ id: ballot.id, pos: "t" + st.stack + "-" + st.pos, keyed, reason, status: "queued", seq: null });
      st.pos++;
      if (st.pos > st.size) { alertLoud(t("desk.v_stack_done", st.stack)); st.stack = 0; }
      showPosition();
      save();
      render();
      pump();
      return true;
    }
    st.queue.push(ballot);
    st.history.push({ id: ballot.id, keyed, reason, status: "queued", seq: null });
    // The history is never trimmed: the running count is computed from it
    // and must cover every ballot keyed here. An entry is ~120 bytes, so
    // localStorage's 5 MB holds some 40,000.
    save();
    render();
    pump();
    return true;
  }

  // keyAt is where the keys go next: the ballot field, or in verified
  // mode with no stack chosen (or one just finished) the stack field.
  function keyAt() { return V && !st.stack ? $("stack-input") : input; }

  function onEnter() {
    const p = parse(input.value);
    if (p.empty) { flash(M["desk.empty"]); return; }
    if (p.error) { showPreview(); return; } // shown; Enter refuses it
    if (!record(p.ballot, p.keyed, classify(p))) return;
    input.value = "";
    showPreview();
    keyAt().focus();
  }

  function onSight(code) {
    const note = $("invalid-note").value.trim();
    if (code === "other" && !note) { flash(M["desk.need_reason"]); $("invalid-note").focus(); return; }
    const b = { invalid: code };
    if (note) b.note = note;
    if (!record(b, "✗ " + (M["reason." + code] || code), code)) return;
    $("invalid-note").value = "";
    input.value = "";
    showPreview();
    keyAt().focus();
  }

  // ---- sending ----

  let sending = false, offline = false, delay = 0, timer = null;
  const url = "/api/v1/contests/" + encodeURIComponent(D.contest) + (V ? "/keyings" : "/ballots");

  function entry(id) { return st.history.find((h) => h.id === id); }

  async function pump() {
    if (sending || timer) return;
    sending = true;
    try {
      while (st.queue.length > 0) {
        const b = st.queue[0];
        let res;
        try {
          res = await kp.api("POST", url, b);
        } catch (e) {
          res = null; // the network: the ballot may or may not have arrived; the id makes a resend safe
        }
        if (res === null || res.status >= 500 || res.status === 429 || res.status === 401) {
          // Keep it and try again later. 401: kp.api is taking the
          // counter to sign in; the queue waits in localStorage.
          offline = res === null || res.status !== 401;
          delay = Math.min(delay ? delay * 2 : 500, 10000);
          timer = setTimeout(() => { timer = null; pump(); }, delay);
          render();
          return;
        }
        offline = false;
        delay = 0;
        st.queue.shift();
        const h = entry(b.id);
        if (res.ok) {
          if (h && V) {
            // pending (recorded, waiting for the other desks), accepted
            // (agreed: counted), disputed (waits for the committee).
            h.status = res.body.status;
            h.keyedN = res.body.keyed;
            h.seq = res.body.receipt ? res.body.receipt.seq : null;
            const got = res.body.valid ? "" : res.body.reason;
            if (got !== h.reason) alertLoud(t("desk.mismatch", h.pos, got ? reasonText(got) : M["desk.valid"]));
          } else if (h) {
            h.status = "sent";
            h.seq = res.body.seq;
            const got = res.body.valid ? "" : res.body.reason;
            if (got !== h.reason) alertLoud(t("desk.mismatch", b.id, got ? reasonText(got) : M["desk.valid"]));
            h.reason = got;
          }
        } else if (V && h && res.status === 409 && res.body && res.body.error && res.body.error.field === "keyings") {
          // This desk keyed the paper as often as a desk may: the keying is
          // not recorded, and the paper is not settled by it.
          h.status = "failed";
          alertLoud(t("desk.v_limit", h.pos));
        } else if (V && h && res.status === 409 && res.body && res.body.error && res.body.error.field === "position") {
          // The paper is settled without this keying: counted already, or
          // with the committee. Nothing is wrong with the paper; go on.
          h.status = "settled";
          flash(t("desk.v_settled", h.pos));
        } else {
          // 400, 403, 404, 409: retrying would not help and the ballot is
          // not counted; the counter must look at the paper.
          if (h) h.status = "failed";
          alertLoud(t("desk.refused", V && h ? h.pos : b.id, kp.errorText(res.body) || ""));
          if (res.status === 409 && res.body && res.body.error && res.body.error.field === "state") roundEnded("");
        }
        save();
        render();
      }
    } finally {
      sending = false;
    }
  }

  // When the browser says it is back online, do not wait for the backoff.
  window.addEventListener("online", () => {
    if (timer) { clearTimeout(timer); timer = null; }
    delay = 0;
    pump();
  });

  // ---- voiding ----

  const dialog = $("void-dialog");
  let voiding = null;

  function askVoid(id) {
    voiding = id;
    $("void-title").textContent = t("desk.void_title", id);
    $("void-reason").value = "";
    $("void-error").hidden = true;
    dialog.showModal();
    $("void-reason").focus();
  }

  $("void-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const reason = $("void-reason").value.trim();
    if (!reason) { showVoidError(M["desk.need_reason"]); return; }
    const id = voiding;
    let res;
    try {
      res = await kp.api("POST", url + "/" + encodeURIComponent(id) + "/void", { reason });
    } catch (e) {
      showVoidError(t("desk.void_failed", id, M["desk.offline"]));
      return;
    }
    if (res.status === 403 && res.body && res.body.error && res.body.error.field === "ballot") { showVoidError(t("desk.void_forbidden", id)); return; }
    if (!res.ok) { showVoidError(t("desk.void_failed", id, kp.errorText(res.body))); return; }
    const h = entry(id);
    if (h) { h.status = "voided"; h.voidReason = reason; }
    save();
    dialog.close();
    render();
    flash(t("desk.voided_rekey", id));
  });
  function showVoidError(msg) { const e = $("void-error"); e.textContent = msg; e.hidden = false; }
  $("void-cancel").addEventListener("click", () => dialog.close());
  // However the dialog ends (Escape too), the keys go back to the field.
  dialog.addEventListener("close", () => input.focus());

  // ---- showing ----

  function flash(msg) {
    const p = document.createElement("p");
    p.className = "notice";
    p.textContent = msg;
    $("alerts").replaceChildren(p);
  }
  function alertLoud(msg) {
    const p = document.createElement("p");
    p.className = "alert loud";
    p.textContent = msg;
    $("alerts").prepend(p);
  }

  // historyRows is how far back a slip can be corrected from the list: a
  // stack of ballots checked against the paper before the next.
  const historyRows = 30;

  function render() {
    let total = 0, valid = 0, invalid = 0;
    for (const h of st.history) {
      if (h.status === "voided" || h.status === "failed" || h.status === "settled") continue;
      total++;
      if (h.reason) invalid++; else valid++;
    }
    $("count-total").textContent = total;
    $("count-valid").textContent = valid;
    $("count-invalid").textContent = invalid;
    $("count-queued").textContent = st.queue.length;
    const net = $("net");
    net.className = "net " + (offline ? "offline" : st.queue.length ? "waiting" : "ok");
    net.dataset.queued = st.queue.length;
    net.textContent = st.queue.length
      ? t("desk.queued", st.queue.length) + (offline ? " · " + M["desk.offline"] : "")
      : (offline ? M["desk.offline"] : M["desk.all_sent"]);

    const body = $("history");
    const trs = st.history.slice(-historyRows).reverse().map((h) => {
      const tr = document.createElement("tr");
      tr.dataset.id = h.id;
      tr.dataset.status = h.status;
      tr.className = "st-" + h.status;
      const status = h.status === "pending" ? t("desk.status_pending", h.keyedN, D.required) : M["desk.status_" + h.status];
      const cells = [h.pos || h.id, h.seq == null ? "" : String(h.seq), h.keyed,
        (h.reason ? M["desk.invalid"] + ": " + reasonText(h.reason) : M["desk.valid"]) + " · " + status];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i === 1) td.className = "num";
        tr.appendChild(td);
      });
      const td = document.createElement("td");
      if (h.status === "sent" && !V) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.className = "void";
        btn.textContent = M["desk.void"];
        btn.addEventListener("click", () => askVoid(h.id));
        td.appendChild(btn);
      }
      tr.appendChild(td);
      return tr;
    });
    body.replaceChildren(...trs);
  }

  // ---- keys ----

  input.addEventListener("input", showPreview);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); onEnter(); }
  });
  const sight = { "1": "not_issued", "2": "write_in", "3": "identifying_mark", "4": "other" };
  document.addEventListener("keydown", (ev) => {
    // The code, not the key: Alt changes the character on some layouts.
    const k = ev.code && ev.code.startsWith("Digit") ? ev.code.slice(5) : ev.key;
    if (ev.altKey && !ev.ctrlKey && !ev.metaKey && sight[k] && !dialog.open) {
      ev.preventDefault();
      onSight(sight[k]);
    }
  });
  document.querySelectorAll("button[data-invalid]").forEach((b) =>
    b.addEventListener("click", () => onSight(b.dataset.invalid)));

  // ---- stacks (verified entry) ----

  function showPosition() {
    if (!V) return;
    $("position").textContent = st.stack ? t("desk.v_of", st.pos, st.size) : "—";
    $("stack-help").hidden = !!st.stack; // the hint is for choosing a stack
    $("stack-input").value = st.stack || "";
  }

  // chooseStack asks the server where this desk stands in the stack: the
  // first position it has not keyed that is still open, past the keyings
  // still in this desk's queue (the server has not seen them yet). One
  // question at a time: Enter fires both keydown and change, and a late
  // second answer would put the desk back on a position just keyed.
  let choosing = 0;
  async function chooseStack(n) {
    if (choosing === n) return;
    choosing = n;
    try { await askStack(n); } finally { choosing = 0; }
  }
  async function askStack(n) {
    let res;
    try { res = await kp.api("GET", "/api/v1/contests/" + encodeURIComponent(D.contest) + "/stacks"); } catch (e) { flash(M["desk.offline"]); return; }
    if (!res.ok) { alertLoud(kp.errorText(res.body)); return; }
    const s = res.body.stacks.find((x) => x.stack === n);
    if (!s) { alertLoud(t("desk.v_no_stack", n)); return; }
    if (!s.next) { alertLoud(t("desk.v_stack_done", n)); return; }
    let next = s.next;
    while (st.queue.some((q) => q.stack === n && q.position === next)) next++;
    if (next > s.ballots) { alertLoud(t("desk.v_stack_done", n)); return; }
    st.stack = n; st.size = s.ballots; st.pos = next;
    save();
    showPosition();
    input.focus();
  }
  if (V) {
    $("stack-input").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") { ev.preventDefault(); chooseStack(+ev.target.value); }
    });
    // A change without Enter (a phone's keyboard); not the blur after a
    // stack was chosen.
    $("stack-input").addEventListener("change", (ev) => { if (+ev.target.value !== st.stack) chooseStack(+ev.target.value); });
  }

  // ---- the round's state: told when it closes ----

  // roundEnded stops the keying: the round takes no more ballots. What is
  // still queued stays in localStorage (and on screen) for the committee.
  function roundEnded(state) {
    const box = $("round-ended");
    if (!box) return;
    $("round-ended-text").textContent = M["desk.ended." + state] || M["desk.ended.closed"];
    box.hidden = false;
    input.disabled = true;
    document.querySelectorAll("button[data-invalid]").forEach((b) => { b.disabled = true; });
    box.scrollIntoView({ block: "nearest" });
    watchNext();
  }
  // The round's stream says when it closes (event "state"); a dropped
  // stream reconnects by itself, and a refused ballot (409 on the state)
  // says it too, so the stream is a courtesy, not the guard.
  function follow() {
    const es = new EventSource("/api/v1/contests/" + encodeURIComponent(D.contest) + "/stream", { withCredentials: true });
    es.addEventListener("state", (ev) => {
      const s = JSON.parse(ev.data).state;
      if (s !== "open") { roundEnded(s); es.close(); }
    });
    es.addEventListener("error", () => { if (es.readyState === EventSource.CLOSED) setTimeout(follow, 5000); });
  }
  if (window.EventSource) follow();

  render();
  showPreview();
  showPosition();
  if (V && !st.stack) $("stack-input").focus(); else input.focus();
  pump(); // what a reload left in the queue
})();
