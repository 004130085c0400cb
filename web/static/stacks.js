// kiemphieu: the counting committee's control of a verified round (nhập kép
// / nhập ba): declare stacks, follow their progress, and decide each
// disputed position with the desks' differing entries side by side.
"use strict";
(function () {
  const D = kp.data("stacks-data");
  const M = D.messages;
  const $ = (id) => document.getElementById(id);
  const base = "/api/v1/contests/" + encodeURIComponent(D.contest);
  const n = D.candidates.length;

  function t(key, ...args) {
    let i = 0;
    return (M[key] || key).replace(/%[sd]/g, () => String(args[i++]));
  }

  // text says what a keyed ballot holds, naming the candidates.
  function text(b) {
    if (b.invalid) return t("stacks.invalid", M["reason." + b.invalid] || b.invalid) + (b.note ? " (" + b.note + ")" : "");
    const name = (id) => {
      const i = D.candidates.findIndex((c) => c.id === id);
      return (i + 1) + ". " + (i >= 0 ? D.candidates[i].name : id);
    };
    if (b.struck) return b.struck.length ? t("stacks.struck", b.struck.map(name).join("; ")) : M["stacks.untouched"];
    const marks = b.marks || {};
    const parts = [];
    for (const mark of ["agree", "disagree", "both"]) {
      const ids = D.candidates.filter((c) => marks[c.id] === mark).map((c) => name(c.id));
      if (ids.length) parts.push(M["desk.mark_" + mark] + ": " + ids.join(", "));
    }
    return parts.join("; ") || M["desk.mark_none"];
  }

  // parse reads another entry typed as at the desk: numbers of the struck
  // names (0 for none) or one letter per candidate.
  function parse(s) {
    s = s.trim();
    if (D.ballot === "strike") {
      if (s === "0") return { struck: [] };
      const struck = [];
      for (const tok of s.split(/[\s,]+/)) {
        if (!/^[0-9]+$/.test(tok) || +tok < 1 || +tok > n) return { error: t("desk.bad_number", tok, n) };
        const id = D.candidates[+tok - 1].id;
        if (struck.includes(id)) return { error: t("desk.repeated", +tok) };
        struck.push(id);
      }
      return { struck };
    }
    const names = { d: "agree", k: "disagree", c: "both", t: "none" };
    const letters = s.toLowerCase().replace(/\s+/g, "");
    if (letters.length > n) return { error: t("desk.too_many", letters.length, n) };
    const marks = {};
    for (let i = 0; i < letters.length; i++) {
      if (!names[letters[i]]) return { error: t("desk.bad_letter", letters[i]) };
      marks[D.candidates[i].id] = names[letters[i]];
    }
    return { marks };
  }

  function alert(msg) {
    const p = document.createElement("p");
    p.className = "alert";
    p.textContent = msg;
    $("alerts").replaceChildren(p);
  }

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    e.append(...children);
    return e;
  }

  async function refresh() {
    const [st, ds] = await Promise.all([kp.api("GET", base + "/stacks"), kp.api("GET", base + "/disputes")]);
    if (st.ok) {
      const v = st.body;
      $("progress").tBodies[0].replaceChildren(...v.stacks.map((s) =>
        el("tr", { className: s.disputed ? "st-failed" : "" }, ...[s.stack, s.ballots, s.accepted, s.pending, s.disputed, s.empty]
          .map((x, i) => el("td", { className: i ? "num" : "", textContent: String(x) })))));
      $("totals").textContent = t("stacks.total", v.declared, v.collected == null ? "—" : v.collected) +
        (v.mismatch ? " · " + M["stacks.mismatch"] : "");
      $("totals").className = v.mismatch ? "alert" : "muted";
    }
    if (ds.ok) renderDisputes(ds.body.disputes);
  }

  // The forms being filled are kept across refreshes.
  function renderDisputes(list) {
    const box = $("disputes");
    const keep = new Map([...box.querySelectorAll("form[data-id]")].map((f) => [f.dataset.id, f]));
    if (!list.length) { box.replaceChildren(el("p", { className: "muted", textContent: M["stacks.none"] })); return; }
    box.replaceChildren(...list.map((d) => keep.get(d.ballot_id) || disputeForm(d)));
  }

  function disputeForm(d) {
    const f = el("form", { className: "card dispute" });
    f.dataset.id = d.ballot_id;
    f.append(el("h3", { textContent: t("stacks.position", d.stack, d.position) }));
    const table = el("table", { className: "side-by-side" });
    const head = el("tr", {}, ...d.entries.map((e) => el("th", { textContent: e.desk })));
    const body = el("tr", {}, ...d.entries.map((e, i) => {
      const radio = el("input", { type: "radio", name: "choice", value: String(i) });
      return el("td", {}, el("label", {}, radio, " ", el("span", { className: "keyed", textContent: text(e.ballot) })));
    }));
    table.append(el("thead", {}, head), el("tbody", {}, body));
    f.append(table);
    const other = el("input", { name: "other", autocomplete: "off" });
    const reason = el("input", { name: "reason", autocomplete: "off", maxLength: 500, required: true });
    f.append(el("label", {}, el("input", { type: "radio", name: "choice", value: "other" }), " ", M["stacks.other"], " ", other));
    f.append(el("label", {}, M["stacks.reason"], " ", reason));
    f.append(el("button", { type: "submit", className: "primary", textContent: M["stacks.decide"] }));
    other.addEventListener("input", () => { f.querySelector('input[value="other"]').checked = true; });
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const choice = f.querySelector('input[name="choice"]:checked');
      if (!choice) { alert(M["stacks.need_choice"]); return; }
      let ballot;
      if (choice.value === "other") {
        ballot = parse(other.value);
        if (ballot.error) { alert(ballot.error); return; }
      } else {
        ballot = Object.assign({}, d.entries[+choice.value].ballot);
        delete ballot.id;
      }
      const res = await kp.api("POST", base + "/positions/" + d.stack + "/" + d.position + "/decision", { ballot, reason: reason.value });
      if (!res.ok) { alert(kp.errorText(res.body)); return; }
      alert(t("stacks.decided", d.ballot_id + " — " + text(res.body.decision.ballot)));
      $("alerts").firstChild.className = "ok";
      refresh();
    });
    return f;
  }

  $("stack-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const res = await kp.api("PUT", base + "/stacks/" + encodeURIComponent(f.stack.value), { ballots: +f.ballots.value });
    if (!res.ok) { alert(kp.errorText(res.body)); return; }
    $("alerts").replaceChildren();
    f.reset();
    refresh();
  });

  refresh();
  setInterval(refresh, 3000);
})();
