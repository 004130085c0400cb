// kiemphieu: the setup pages — congress record, contest form with the
// engine's live checks, candidate import, a round's lifecycle actions. Every
// decision is the server's; this script previews and calls the JSON API.
"use strict";
(function () {
  const msg = kp.data("setup-messages") || {};
  const t = (k) => msg["setup.js." + k] || k;

  // Print buttons (the ballot paper): the CSP forbids inline handlers.
  document.querySelectorAll("[data-print]").forEach(b => b.addEventListener("click", () => window.print()));

  // --- shared helpers ---------------------------------------------------

  function intOrNull(v) {
    const s = String(v).trim();
    if (s === "") return null;
    const n = Number(s);
    return Number.isInteger(n) ? n : NaN;
  }

  // showProblems puts each problem beside the element that names its field
  // (data-problem-for) and lists the rest in box.
  function showProblems(form, problems, box) {
    form.querySelectorAll("[data-problem-for]").forEach(el => { el.textContent = ""; });
    form.querySelectorAll(".has-problem").forEach(el => el.classList.remove("has-problem"));
    const rest = [];
    for (const p of problems || []) {
      const el = form.querySelector('[data-problem-for="' + CSS.escape(p.field || "") + '"]');
      if (el) {
        el.textContent = (el.textContent ? el.textContent + " " : "") + (p.said || p.message);
        const input = el.parentElement && el.parentElement.querySelector("input, select, textarea");
        if (input) input.classList.add("has-problem");
      } else {
        rest.push(p);
      }
    }
    if (box) {
      box.textContent = rest.map(p => p.said || ((p.field ? p.field + ": " : "") + p.message)).join("\n");
      box.hidden = rest.length === 0;
    }
  }

  // The first meeting's refusals (api/meeting.go) in the page's language:
  // a link that cannot be followed beside the "elected from" note, a name
  // not among those elected beside that row's name; the API's English
  // after each.
  function said(problems) {
    return (problems || []).map(p => {
      if (p.field === "from") return { field: p.field, said: t("from_refused") };
      if (/^candidates\[\d+\]$/.test(p.field || "")) return { field: p.field + ".name", said: t("not_among_elected") };
      return p;
    });
  }

  function problemsOf(body) {
    if (!body || !body.error) return [];
    const e = body.error;
    if (e.problems && e.problems.length) return said(e.problems);
    return said([{ field: e.field || "", message: e.message, said: e.said }]);
  }

  // refusal says an API refusal as a person reads it: the field by its
  // label (setup.js.field.*, indexes dropped), then the API's own words.
  function fieldKey(f) {
    f = (f || "").replace(/\[\d+\]/g, "");
    if (msg["setup.js.field." + f]) return f;
    const head = f.split(".")[0];
    return msg["setup.js.field." + head] ? head : "";
  }
  function refusal(body) {
    const probs = problemsOf(body);
    if (!probs.length) return "";
    return probs.map(p => {
      const k = fieldKey(p.field);
      if (p.said) return p.said;
      return (k ? t("refused").replace("%s", msg["setup.js.field." + k]) + " " : (p.field ? p.field + ": " : "")) + p.message;
    }).join("\n");
  }

  function wireRows(addButton, tbody, template, onChange) {
    addButton.addEventListener("click", () => {
      tbody.appendChild(template.content.cloneNode(true));
      onChange();
      const first = tbody.lastElementChild.querySelector("input");
      if (first) first.focus();
    });
    tbody.addEventListener("click", (e) => {
      if (e.target.classList.contains("remove-row")) {
        e.target.closest("tr").remove();
        onChange();
      }
    });
  }

  // --- congress record ----------------------------------------------------

  const congressForm = document.getElementById("congress-form");
  if (congressForm) {
    const memberRows = document.getElementById("committee-rows");
    wireRows(document.getElementById("add-member"), memberRows, document.getElementById("committee-row"), () => {});

    function record() {
      const f = (n) => congressForm.querySelector('[name="' + n + '"]').value.trim();
      const rec = { id: f("id"), organization: f("organization"), name: f("name") };
      for (const k of ["superior", "term", "place", "date"]) if (f(k)) rec[k] = f(k);
      const ord = intOrNull(f("ordinal"));
      if (ord !== null) rec.ordinal = ord;
      rec.counting_committee = [...memberRows.querySelectorAll("tr")].map(tr => ({
        name: tr.querySelector('[name="member-name"]').value.trim(),
        role: tr.querySelector('[name="member-role"]').value,
      }));
      return rec;
    }

    congressForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const rec = record();
      const existing = congressForm.dataset.id;
      if (existing) {
        // This form edits the header and the counting committee; the votes,
        // D and appointments have forms of their own. Carry them over as
        // stored now, so that a save never drops one recorded meanwhile.
        const cur = await kp.api("GET", "/api/v1/congresses/" + encodeURIComponent(existing));
        if (cur.ok) {
          for (const k of Object.keys(cur.body)) if (!(k in rec) && k !== "superior" && k !== "term" && k !== "place" && k !== "date" && k !== "ordinal") rec[k] = cur.body[k];
        }
      }
      const res = existing
        ? await kp.api("PUT", "/api/v1/congresses/" + encodeURIComponent(existing), rec)
        : await kp.api("POST", "/api/v1/congresses", rec);
      if (res.ok) {
        // The saved record is rendered by the server, votes decided by the engine.
        location.href = "/congresses/" + encodeURIComponent(rec.id) + "/setup";
        return;
      }
      showProblems(congressForm, problemsOf(res.body), document.getElementById("form-errors"));
    });
  }

  // The congress's D: only the exclusions of the chosen type are shown.
  const electorateForm = document.getElementById("electorate-form");
  if (electorateForm) {
    const show = () => {
      const type = electorateForm.querySelector('[name="congress"]').value;
      electorateForm.querySelectorAll(".exclusion, .formula-help").forEach(l => { l.hidden = l.dataset.for !== type; });
    };
    electorateForm.addEventListener("change", show);
    show();
  }

  // --- contest form with live checks -----------------------------------------

  const contestForm = document.getElementById("contest-form");
  if (contestForm) {
    const defaults = kp.data("contest-defaults") || {};
    const rows = document.getElementById("candidate-rows");
    const rowTemplate = document.getElementById("candidate-row");
    const val = (n) => contestForm.querySelector('[name="' + n + '"]').value.trim();

    function addCandidate(c) {
      rows.appendChild(rowTemplate.content.cloneNode(true));
      const tr = rows.lastElementChild;
      if (c) {
        tr.querySelector('[name="name"]').value = c.name || "";
        tr.querySelector('[name="gender"]').value = c.gender || "";
        tr.querySelector('[name="birth_date"]').value = c.birth_date || "";
        tr.querySelector('[name="ethnic_minority"]').checked = !!c.ethnic_minority;
        tr.querySelector('[name="incumbent"]').checked = !!c.incumbent;
        tr.querySelector('[name="id"]').value = c.id || "";
        if (c.nominated) tr.dataset.nominated = c.nominated; // kept on save (PUT)
      }
      return tr;
    }

    // Rows are numbered and problem slots keyed by their index, which is
    // the index the engine's problems name (candidates[i] in typed order).
    function renumber() {
      [...rows.children].forEach((tr, i) => {
        tr.querySelector(".row-no").textContent = i + 1;
        tr.querySelectorAll("[data-col]").forEach(el => {
          if (el.classList.contains("problem")) el.dataset.problemFor = "candidates[" + i + "]." + el.dataset.col;
        });
      });
    }

    function definition() {
      const congress = val("electorate.congress");
      const exclusions = {};
      contestForm.querySelectorAll(".exclusion").forEach(l => {
        // Only the exclusions of the chosen congress type are sent: the
        // engine refuses the others rather than ignoring them.
        if (!l.dataset.for.split(" ").includes(congress)) return;
        const input = l.querySelector("input");
        exclusions[input.name.replace("electorate.exclusions.", "")] = intOrNull(input.value) || 0;
      });
      const def = {
        id: val("id"), title: val("title"), kind: val("kind"),
        round: intOrNull(val("round")) ?? defaults.round, seats: intOrNull(val("seats")) ?? 0,
        ballot: val("ballot"), visibility: val("visibility"),
        // Single entry is the default: left out, the definition stays as
        // it was before the field existed.
        ...(val("entry") && val("entry") !== "single" ? { entry: val("entry") } : {}),
        electorate: { congress, convened: intOrNull(val("electorate.convened")) ?? 0, exclusions },
        // A contest elected from the body just elected (the congress
        // page's next step): the server checks its candidates against it.
        ...(val("from") ? { from: val("from") } : {}),
        percent: { places: intOrNull(val("percent.places")) ?? 2, rounding: val("percent.rounding") },
        composition: {
          young_under: intOrNull(val("composition.young_under")) ?? 40,
          age_bands: [intOrNull(val("composition.age_bands.0")) ?? 40, intOrNull(val("composition.age_bands.1")) ?? 50],
        },
        candidates: [...rows.children].map((tr, i) => {
          const g = (n) => tr.querySelector('[name="' + n + '"]');
          const c = { id: g("id").value.trim() || "c" + (i + 1), name: g("name").value.trim() };
          if (g("gender").value) c.gender = g("gender").value;
          if (g("birth_date").value) c.birth_date = g("birth_date").value;
          c.ethnic_minority = g("ethnic_minority").checked;
          c.incumbent = g("incumbent").checked;
          if (tr.dataset.nominated) c.nominated = tr.dataset.nominated;
          return c;
        }),
      };
      if (val("composition.reference_date")) def.composition.reference_date = val("composition.reference_date");
      // Only an opinion ballot takes those present (its base, D); the
      // engine refuses it on any other kind.
      if (def.kind === "opinion") def.electorate.present = intOrNull(val("electorate.present")) ?? 0;
      // NaN (a half-typed number) goes to the server as null, which the
      // strict decoder names as the field at fault.
      return JSON.parse(JSON.stringify(def, (k, v) => (typeof v === "number" && isNaN(v) ? null : v)));
    }

    function showType() {
      const congress = val("electorate.congress");
      contestForm.querySelectorAll(".exclusion").forEach(l => { l.hidden = !l.dataset.for.split(" ").includes(congress); });
      document.querySelectorAll(".formula-help").forEach(l => { l.hidden = l.dataset.for !== congress; });
      contestForm.querySelector(".present-field").hidden = val("kind") !== "opinion";
    }

    const checksBox = document.getElementById("checks");
    let timer = null, seq = 0;
    function scheduleCheck() {
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    }
    async function check() {
      const mine = ++seq;
      // Under a congress the list is checked against its counting
      // committee (a warning, never a refusal).
      const congress = val("congress");
      const res = await kp.api("POST", "/api/v1/contests/check" + (congress ? "?congress=" + encodeURIComponent(congress) : ""), definition());
      if (mine !== seq) return; // a later check is on its way
      const status = document.getElementById("check-status");
      const list = document.getElementById("check-problems");
      list.textContent = "";
      if (!res.ok) {
        status.textContent = t("check_failed");
        showProblems(contestForm, problemsOf(res.body), document.getElementById("form-errors"));
        return;
      }
      const r = res.body;
      document.getElementById("check-d").textContent = r.denominator ?? "—";
      document.getElementById("check-formula").textContent = r.formula ? "(" + r.formula + ")" : "";
      document.getElementById("check-threshold").textContent = r.threshold ?? "—";
      document.getElementById("check-surplus").textContent = r.surplus ?? "—";
      const limit = document.getElementById("check-limit");
      limit.textContent = r.surplus_limit === null ? t("no_limit") : t("limit") + " " + r.surplus_limit;
      limit.className = r.surplus_limit !== null && r.surplus > r.surplus_limit ? "bad" : "muted";
      status.textContent = r.valid ? t("valid") : t("invalid");
      status.className = r.valid ? "notice" : "warn";
      checksBox.classList.toggle("valid", r.valid);
      const problems = said(r.problems);
      for (const p of problems) {
        const li = document.createElement("li");
        li.textContent = p.said || ((p.field ? p.field + ": " : "") + p.message);
        list.appendChild(li);
      }
      showProblems(contestForm, problems, null);
      showWarnings(r.warnings || []);
      document.getElementById("form-errors").hidden = true;
    }

    // Warnings in the page's language: the template of each code with the
    // warning's args, one %s each, in order (web/i18n_warnings.go).
    const warningMsg = kp.data("warning-messages") || {};
    function showWarnings(ws) {
      const box = document.getElementById("check-warnings");
      const ul = box.querySelector("ul");
      ul.textContent = "";
      for (const w of ws) {
        const tmpl = warningMsg["warning." + w.code];
        let i = 0;
        const li = document.createElement("li");
        li.textContent = tmpl ? tmpl.replace(/%%|%s/g, m => (m === "%%" ? "%" : (w.args || [])[i++] ?? "")) : w.message;
        ul.appendChild(li);
      }
      box.hidden = ws.length === 0;
    }

    // Choosing the congress chooses its type; the person may still change it.
    const types = kp.data("congress-types") || {};
    const congressSelect = contestForm.querySelector('select[name="congress"]');
    if (congressSelect) congressSelect.addEventListener("change", () => {
      const type = types[congressSelect.value];
      if (type) contestForm.querySelector('[name="electorate.congress"]').value = type;
    });

    contestForm.addEventListener("input", () => { showType(); scheduleCheck(); });
    contestForm.addEventListener("change", () => { showType(); scheduleCheck(); });
    wireRows(document.getElementById("add-candidate"), rows, rowTemplate, () => { renumber(); scheduleCheck(); });

    document.getElementById("import-file").addEventListener("change", async (e) => {
      const file = e.target.files[0];
      if (!file) return;
      const box = document.getElementById("import-errors");
      const fd = new FormData();
      fd.append("file", file);
      const res = await fetch("/api/v1/candidates/import", {
        method: "POST", body: fd, credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": kp.csrf },
      });
      let body = null;
      try { body = await res.json(); } catch (err) { body = null; }
      e.target.value = "";
      if (res.status === 401) { kp.signIn(); return; }
      if (!res.ok) {
        box.classList.remove("notice");
        box.textContent = t("import_failed") + "\n" + (kp.errorText(body) || t("failed_status") + " " + res.status);
        box.hidden = false;
        return;
      }
      // What the import did not take as written, said (not refused).
      const notes = [];
      if (body.ignored_columns && body.ignored_columns.length) notes.push(t("import_ignored").replace("%s", body.ignored_columns.join(", ")));
      if (body.year_only && body.year_only.length) notes.push(t("import_year_only").replace("%d", body.year_only.length).replace("%s", body.year_only.join(", ")));
      box.textContent = notes.join("\n");
      box.hidden = notes.length === 0;
      box.classList.toggle("notice", notes.length > 0);
      rows.textContent = "";
      for (const c of body.candidates) addCandidate(c);
      renumber();
      scheduleCheck();
    });

    // Editing a draft (/contests/{id}/edit): the form starts from its
    // definition and saves with PUT; the id is the draft's.
    const editing = kp.data("contest-edit");
    function fill(def) {
      const set = (n, v) => { const el = contestForm.querySelector('[name="' + n + '"]'); if (el && v !== undefined && v !== null) el.value = v; };
      for (const k of ["id", "title", "kind", "round", "seats", "ballot", "visibility", "from"]) set(k, def[k]);
      set("entry", def.entry || "single");
      set("electorate.congress", def.electorate.congress);
      set("electorate.convened", def.electorate.convened);
      set("electorate.present", def.electorate.present);
      for (const [k, v] of Object.entries(def.electorate.exclusions || {})) set("electorate.exclusions." + k, v);
      set("percent.places", def.percent.places);
      set("percent.rounding", def.percent.rounding);
      const comp = def.composition || {};
      set("composition.reference_date", comp.reference_date);
      set("composition.young_under", comp.young_under);
      if (comp.age_bands) { set("composition.age_bands.0", comp.age_bands[0]); set("composition.age_bands.1", comp.age_bands[1]); }
      rows.textContent = "";
      for (const c of def.candidates || []) addCandidate(c);
      contestForm.querySelector('[name="id"]').readOnly = true;
    }

    contestForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const def = definition();
      const congress = val("congress");
      const url = "/api/v1/contests" + (congress ? "?congress=" + encodeURIComponent(congress) : "");
      const res = editing
        ? await kp.api("PUT", "/api/v1/contests/" + encodeURIComponent(editing.id), def)
        : await kp.api("POST", url, def);
      if (res.ok) {
        location.href = "/contests/" + encodeURIComponent(def.id) + "/setup";
        return;
      }
      showProblems(contestForm, problemsOf(res.body), document.getElementById("form-errors"));
    });

    // Start from the engine's defaults, with one empty candidate row.
    if (defaults.percent) {
      contestForm.querySelector('[name="percent.places"]').value = defaults.percent.places;
      contestForm.querySelector('[name="percent.rounding"]').value = defaults.percent.rounding;
    }
    if (editing) {
      fill(editing);
    } else {
      // A pre-filled form (?kind=&from=: the congress page's next step)
      // starts from the server's definition: those elected, D = their number.
      for (const k of ["title", "kind", "seats", "ballot"]) {
        if (defaults[k]) contestForm.querySelector('[name="' + k + '"]').value = defaults[k];
      }
      // The congress type is the congress's (api/setup.go congressType).
      if (defaults.electorate && defaults.electorate.congress) {
        contestForm.querySelector('[name="electorate.congress"]').value = defaults.electorate.congress;
      }
      if (defaults.electorate && defaults.electorate.convened) {
        contestForm.querySelector('[name="electorate.convened"]').value = defaults.electorate.convened;
      }
      if (defaults.candidates && defaults.candidates.length) {
        for (const c of defaults.candidates) addCandidate(c);
      } else {
        addCandidate(null);
      }
    }
    renumber();
    showType();
    if (editing || defaults.from) scheduleCheck();
  }

  // --- appointments on the congress page -------------------------------------

  document.querySelectorAll(".delete-appointment").forEach(b => b.addEventListener("click", async () => {
    if (!confirm(b.dataset.confirm)) return;
    const congress = document.getElementById("congress-form").dataset.id;
    const res = await kp.api("DELETE", "/api/v1/congresses/" + encodeURIComponent(congress) + "/appointments/" + encodeURIComponent(b.dataset.id));
    if (!res.ok) { alert(kp.errorText(res.body) || res.status); return; }
    location.reload();
  }));

  // --- a round's control page -------------------------------------------------

  const round = document.getElementById("round");
  if (round) {
    const id = round.dataset.id;
    const base = "/api/v1/contests/" + encodeURIComponent(id);
    const errors = document.getElementById("action-errors");
    function fail(res) {
      errors.textContent = refusal(res.body) || (t("failed_status") + " " + res.status);
      errors.hidden = false;
      errors.scrollIntoView({ block: "nearest" });
    }

    document.querySelectorAll("[data-action]").forEach(b => b.addEventListener("click", async () => {
      if (b.dataset.confirm && !confirm(b.dataset.confirm)) return;
      b.disabled = true;
      // Certifying a round with scanned pages says what becomes of their images.
      const images = b.dataset.action === "certify" && document.querySelector('input[name="scan_images"]:checked');
      const res = await kp.api("POST", base + "/" + b.dataset.action, images ? { scan_images: images.value } : undefined);
      b.disabled = false;
      if (!res.ok) return fail(res);
      // "next" answers with the new round: go and set it up.
      if (b.dataset.action === "next") location.href = "/contests/" + encodeURIComponent(res.body.contest.id) + "/setup";
      else location.reload();
    }));

    const notes = document.getElementById("notes-form");
    if (notes) notes.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {};
      for (const k of ["present", "collected"]) {
        const n = intOrNull(notes.elements[k].value);
        if (n !== null) body[k] = Number.isNaN(n) ? notes.elements[k].value : n;
      }
      const complaints = notes.elements.complaints.value.trim();
      if (complaints) body.complaints = complaints;
      const res = await kp.api("PUT", base + "/notes", body);
      const status = document.getElementById("notes-status");
      if (!res.ok) { status.textContent = ""; return fail(res); }
      errors.hidden = true;
      status.textContent = t("saved");
    });

    // The list's changes (DESIGN §7.2): each form calls the API and the
    // page is drawn again by the server; a refusal names the field.
    const text = (form, n) => { const el = form.elements[n]; return el ? el.value.trim() : ""; };
    function decided(form, body) {
      for (const k of ["reason", "vote", "opinion"]) if (text(form, k)) body[k] = text(form, k);
      return body;
    }
    async function change(form, method, url, body) {
      const button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      const res = await kp.api(method, url, body);
      if (button) button.disabled = false;
      if (!res.ok) return fail(res);
      if (url.endsWith("/next")) location.href = "/contests/" + encodeURIComponent(res.body.contest.id) + "/setup";
      else location.reload();
    }

    const withdraw = document.getElementById("withdraw-form");
    if (withdraw) withdraw.addEventListener("submit", (e) => {
      e.preventDefault();
      change(withdraw, "POST", base + "/withdrawals", decided(withdraw, { candidate: text(withdraw, "candidate") }));
    });

    const nominate = document.getElementById("nominate-form");
    if (nominate) nominate.addEventListener("submit", (e) => {
      e.preventDefault();
      const cand = { name: text(nominate, "name"), ethnic_minority: nominate.elements.ethnic_minority.checked,
        incumbent: nominate.elements.incumbent.checked };
      if (text(nominate, "gender")) cand.gender = text(nominate, "gender");
      if (text(nominate, "birth_date")) cand.birth_date = text(nominate, "birth_date");
      change(nominate, "POST", base + "/nominations", decided(nominate, { candidate: cand, source: text(nominate, "source") }));
    });

    const del = document.getElementById("delete-contest");
    if (del) del.addEventListener("click", async () => {
      if (!confirm(del.dataset.confirm)) return;
      const res = await kp.api("DELETE", base);
      if (!res.ok) return fail(res);
      location.href = del.dataset.after || "/";
    });

    const next = document.getElementById("next-form");
    if (next) {
      const addRows = document.getElementById("add-rows");
      if (addRows) wireRows(document.getElementById("add-name"), addRows, document.getElementById("add-row"), () => {});
      next.addEventListener("submit", (e) => {
        e.preventDefault();
        if (!confirm(next.dataset.confirm)) return;
        const body = decided(next, {});
        const w = [...next.querySelectorAll('[name="withdraw"]:checked')].map(el => el.value);
        if (w.length) body.withdraw = w;
        const add = addRows ? [...addRows.querySelectorAll("tr")].map((tr, i) => {
          const g = (n) => tr.querySelector('[name="' + n + '"]').value.trim();
          const c = { id: "n" + (i + 1) + "-" + Date.now().toString(36), name: g("name") };
          for (const k of ["gender", "birth_date", "nominated"]) if (g(k)) c[k] = g(k);
          return c;
        }).filter(c => c.name) : [];
        if (add.length) body.add = add;
        change(next, "POST", base + "/next", body);
      });
    }

    const close = document.getElementById("close-form");
    if (close) close.addEventListener("submit", async (e) => {
      e.preventDefault();
      const button = close.querySelector("button");
      if (!confirm(button.dataset.confirm)) return;
      const issued = intOrNull(close.elements.issued.value);
      const res = await kp.api("POST", base + "/close", { issued: Number.isNaN(issued) ? close.elements.issued.value : issued });
      if (!res.ok) return fail(res); // e.g. 409: more ballots collected than issued
      location.reload();
    });
  }
})();
