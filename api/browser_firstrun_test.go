package api_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The first run in a browser: the secretary opens the link the service
// printed, fills in their name, a user name and the password twice (a
// mismatch first), and lands on the home page signed in, named as the
// minutes will print them; the link then no longer works.
func TestBrowserFirstRun(t *testing.T) {
	h, code := newFirstRun(t)
	base := h.listen()
	ctx := newBrowser(t)
	errs := consoleErrors(t, ctx)
	const password = "mật khẩu đủ dài 2025"

	// The sign-in page points at the link.
	do(t, ctx, "opening the sign-in page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`#first-run`)))

	link := base + "/setup?code=" + code
	fill := func(confirm string) {
		t.Helper()
		do(t, ctx, "filling in the first-run form",
			chromedp.Navigate(link),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/setup"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Nguyễn Thị Lan"),
			chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "thuky"),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
			chromedp.SendKeys(chromedp.CSS(`input[name=confirm]`), confirm),
		)
	}
	fill(password + "x")
	reloadAfter(t, ctx, "submitting a mismatched password", "/setup", chromedp.Click(chromedp.CSS(`form[action="/setup"] button[type=submit]`)))
	waitFor(t, ctx, "the refusal", `document.querySelector('.alert')?.innerText.includes('Nhập lại mật khẩu: không khớp')`, stepTimeout)
	if got := eval[string](t, ctx, `document.querySelector('input[name=name]').value`); got != "Nguyễn Thị Lan" {
		t.Errorf("the refused form lost the name: %q", got)
	}
	screenshot(t, ctx, "firstrun-refused.png")

	fill(password)
	do(t, ctx, "submitting the first-run form", chromedp.Click(chromedp.CSS(`form[action="/setup"] button[type=submit]`)))
	waitPage(t, ctx, "the first run", "/")
	waitFor(t, ctx, "the signed-in header", `document.querySelector('.who')?.innerText.includes('Nguyễn Thị Lan')`, stepTimeout)
	if !eval[bool](t, ctx, `!!document.querySelector('a[href="/users"]')`) {
		t.Error("the secretary is not an admin: no link to the users page")
	}
	screenshot(t, ctx, "firstrun-signed-in.png")

	do(t, ctx, "opening the link again", chromedp.Navigate(link))
	waitFor(t, ctx, "the closed page", `document.body.innerText.includes('Máy chủ đã được thiết lập')`, stepTimeout)
	// The refused form (400) and the closed page (410) are documents
	// with an error status, which Chromium logs; anything else is a fault.
	for _, e := range errs() {
		if !strings.Contains(e, "Failed to load resource") {
			t.Errorf("console error: %s", e)
		}
	}
}
