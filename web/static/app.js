// kiemphieu: what every page's scripts share — calls to the JSON API with
// the session's CSRF token, and a way back to sign-in when it ends.
"use strict";
window.kp = (function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";

  // api calls the JSON API. It resolves to {ok, status, body}; a network
  // failure rejects (callers that must not lose work, like the desk, keep
  // their own queue). A 401 means the session ended: go to sign-in.
  async function api(method, url, body) {
    const opts = { method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (csrf) opts.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(url, opts);
    let data = null;
    const text = await res.text();
    if (text) { try { data = JSON.parse(text); } catch (e) { data = { raw: text }; } }
    if (res.status === 401 && !url.startsWith("/api/v1/login")) {
      signIn();
    }
    return { ok: res.ok, status: res.status, body: data };
  }

  function signIn() {
    location.href = "/login?expired=1&next=" + encodeURIComponent(location.pathname);
  }

  // errorText renders an API error body, with every problem of a form:
  // the words said for people (error.said, in the page's language, the
  // field by its label; api/said.go), which a signed-in page always gets.
  // The English message is only a fallback, already prefixed with its
  // field (never twice).
  function errorText(body) {
    if (!body || !body.error) return "";
    const e = body.error;
    if (e.said) return e.said;
    if (e.problems && e.problems.length) {
      return e.problems.map(p => p.said || ((p.field ? p.field + ": " : "") + p.message)).join("\n");
    }
    return e.message;
  }

  // data reads a page's JSON data block (<script type="application/json">),
  // which the content security policy allows where inline code is not.
  function data(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  return { api, csrf, errorText, data, signIn };
})();
