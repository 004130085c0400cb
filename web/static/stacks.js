// kiemphieu: the counting committee's control of a verified round (nhập kép
// / nhập ba): declare stacks, follow their progress, and decide each
// disputed position with the desks' differing entries side by side.
"use strict";
(function () {
  const D = kp.data("stacks-data");
  const M = D.messages;
  const $ = (id) => document.getElementById(id);
  const base = "/api/v1/contests/" + encodeURIComponent(D.contest);

  function t(key, ...args) {
    let i = 0;
    return (M[key] || key).replace(/%[sd]/g, () => String(args[i++]));
  }

  const ballots = kp.ballots(D, t);
  const text = ballots.text, parse = ballots.parse;

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

  // scanned maps "stack/position" to the latest scanned page of that
  // paper (GET …/scans): a dispute the scanner desk is part of shows the
  // page's image beside the desks' readings.
  let scanned = new Map();

  async function refresh() {
    const [st, ds, sc] = await Promise.all([kp.api("GET", base + "/stacks"), kp.api("GET", base + "/disputes"), kp.api("GET", base + "/scans")]);
    if (sc.ok) {
      scanned = new Map();
      for (const p of sc.body.pages) if (p.stack && !p.test_page) scanned.set(p.stack + "/" + p.position, p);
    }
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
    const page = scanned.get(d.stack + "/" + d.position);
    if (page) {
      f.append(el("div", { className: "dispute-scan" }, table,
        el("img", { className: "scan-image", src: base + "/scans/" + page.image + "/image", alt: M["stacks.scan_image"] })));
    } else {
      f.append(table);
    }
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
