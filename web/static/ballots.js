// kiemphieu: a ballot as the committee's pages type and show it — the
// desk's syntax (the numbers of the struck names, "0" for none; or one
// letter per candidate: d agree, k disagree, c both, t none) and a text
// naming the candidates. Shared by the stacks page and the scans page.
"use strict";
kp.ballots = function (D, t) {
  const M = D.messages;
  const n = D.candidates.length;
  const index = new Map(D.candidates.map((c, i) => [c.id, i]));
  const letters = { agree: "d", disagree: "k", both: "c", none: "t" };

  // text says what a ballot holds, naming the candidates.
  function text(b) {
    if (b.invalid) return t("stacks.invalid", M["reason." + b.invalid] || b.invalid) + (b.note ? " (" + b.note + ")" : "");
    const name = (id) => {
      const i = index.has(id) ? index.get(id) : -1;
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

  // parse reads a ballot typed as at the desk.
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
    const typed = s.toLowerCase().replace(/\s+/g, "");
    if (typed.length > n) return { error: t("desk.too_many", typed.length, n) };
    const marks = {};
    for (let i = 0; i < typed.length; i++) {
      if (!names[typed[i]]) return { error: t("desk.bad_letter", typed[i]) };
      marks[D.candidates[i].id] = names[typed[i]];
    }
    return { marks };
  }

  // typed is a ballot in the desk's syntax (parse's inverse).
  function typed(b) {
    if (b.struck) {
      return b.struck.length ? b.struck.map((id) => index.get(id) + 1).sort((a, b) => a - b).join(" ") : "0";
    }
    const marks = b.marks || {};
    return D.candidates.map((c) => letters[marks[c.id] || "none"]).join("");
  }

  return { text, parse, typed };
};
