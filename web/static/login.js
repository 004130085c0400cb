// kiemphieu: a desk signs in from the QR code of its token. The code holds
// /login#token=…; the fragment never reaches the server or its logs, so
// the script copies it into the token field and removes it from the
// address bar (and from the history) before anyone submits.
"use strict";
(function () {
  const m = /^#token=([A-Za-z0-9_\-]+)$/.exec(location.hash);
  if (!m) return;
  const field = document.querySelector('input[name="token"]');
  if (!field) return;
  field.value = m[1];
  history.replaceState(null, "", location.pathname + location.search);
  const submit = field.form && field.form.querySelector('button[type="submit"]');
  if (submit) submit.focus();
})();
