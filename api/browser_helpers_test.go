package api_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The browser tests' shared helpers: starting Chromium, running steps
// with a deadline, waiting on the page, screenshots, signing in.

// browserTimeout bounds each browser test as a whole, so a hung page fails
// the test instead of the package's 10-minute limit.
const browserTimeout = 3 * time.Minute

// stepTimeout bounds one step (a click, a few keys, an evaluation): a
// selector that never matches fails in seconds, not at browserTimeout.
const stepTimeout = 20 * time.Second

// chromiumPath finds the browser. Without one the test fails on CI (where
// it is installed on purpose) and is skipped, loudly, elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: CI must install it (apt-get install chromium) for the browser tests")
	}
	t.Skip("!!! SKIPPING THE BROWSER TESTS: no chromium on PATH (apt-get install chromium to run them) !!!")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// its context; it is closed at cleanup.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root in containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1400, 1000),
	)
	ctx, cancelTime := context.WithTimeout(context.Background(), browserTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTime()
	})
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium (%s): %v", path, err)
	}
	return bctx
}

// newTab opens another tab (in its own window, so it keeps painting) in
// the browser of ctx; it shares the browser's cookies and storage.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx
}

// newIsolatedTab opens a tab in a new browser context of the browser of
// ctx: its own cookies and storage, as another device would have. The tab
// is created before anything runs in it: with chromedp v0.23, a Navigate
// that creates a new browser context's tab leaves later evaluations
// waiting for an execution context that never comes.
func newIsolatedTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab in a new browser context: %v", err)
	}
	return ctx
}

// do runs browser steps and fails the test with what was being done.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition in the page until it holds.
func waitFor(t *testing.T, ctx context.Context, what, cond string, timeout time.Duration) {
	t.Helper()
	// The poll's own timeout cannot fire while the page is not answering
	// at all: bound the call too.
	ctx, cancel := context.WithTimeout(ctx, timeout+stepTimeout)
	defer cancel()
	deadline := time.Now().Add(timeout)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
			chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return
		}
		// A poll started while the page was still loading may lose its
		// execution context when the document is replaced: poll again in
		// the new document.
		if strings.Contains(err.Error(), "Cannot find context with specified id") && time.Now().Before(deadline) {
			continue
		}
		t.Fatalf("waiting for %s (%s): %v", what, cond, err)
	}
}

// artifactsDir is where screenshots go: $KP_ARTIFACTS, or artifacts/browser
// at the repository root.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KP_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts", "browser")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	// Capturing beyond the viewport leaves the page scrolled elsewhere
	// than the browser will later put it back: a click after it may land
	// on the element under its old position. Put the scroll back first.
	scroll := eval[[]float64](t, ctx, `[scrollX, scrollY]`)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.scrollTo(%g, %g)`, scroll[0], scroll[1])))
	}
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Error(err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// signIn signs the browser in through the /login form with a token and
// lands on next.
func signIn(t *testing.T, ctx context.Context, base, token, next string) {
	t.Helper()
	do(t, ctx, "signing in",
		chromedp.Navigate(base+"/login?next="+url.QueryEscape(next)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=token]`), token),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	)
	waitPage(t, ctx, "signing in", next)
}

// signInPassword signs the browser in through the /login form with a user
// name and password, and lands on next.
func signInPassword(t *testing.T, ctx context.Context, base, user, password, next string) {
	t.Helper()
	do(t, ctx, "signing in as "+user,
		chromedp.Navigate(base+"/login?next="+url.QueryEscape(next)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	)
	waitPage(t, ctx, "signing in as "+user, next)
}

// waitPage waits for the browser to be on a loaded page at path, after an
// action that navigates (a form's submission, a script's location.href).
func waitPage(t *testing.T, ctx context.Context, what, path string) {
	t.Helper()
	// A poll dies with the page it runs in, and the navigation replaces
	// the page: poll again until the new page answers.
	cond := fmt.Sprintf(`location.pathname === %q && document.readyState === "complete"`, path)
	deadline := time.Now().Add(stepTimeout)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
			chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(2*time.Second)))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never reached %s: %v (at %s)", what, path, err, eval[string](t, ctx, "location.href"))
		}
	}
}

// reloadAfter runs steps that reload the page (or go to another one) and
// waits for the new page at path: the old page's document is marked first,
// so the wait cannot be satisfied by the page the steps started on.
func reloadAfter(t *testing.T, ctx context.Context, what, path string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	do(t, ctx, "marking the page", chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.kpOld = "1"`))
	do(t, ctx, what, steps...)
	cond := fmt.Sprintf(`location.pathname === %q && document.readyState === "complete" && !document.documentElement.dataset.kpOld`, path)
	deadline := time.Now().Add(stepTimeout)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
			chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(2*time.Second)))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no new page at %s: %v (at %s; alerts: %q)", what, path, err, eval[string](t, ctx, "location.href"),
				eval[string](t, ctx, `[...document.querySelectorAll(".alert:not([hidden])")].map(e => e.textContent.trim()).join(" | ")`))
		}
	}
}

// fill sets a form control's value as a person's input would leave it and
// fires input and change (for selects, dates and checkboxes, where typing
// keys depends on the browser's locale). A checkbox takes "true"/"false".
func fill(t *testing.T, ctx context.Context, selector, value string) {
	t.Helper()
	do(t, ctx, fmt.Sprintf("filling %s with %q", selector, value), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) throw new Error("no element " + %q);
		if (el.type === "checkbox") el.checked = %q === "true"; else el.value = %q;
		el.dispatchEvent(new Event("input", { bubbles: true }));
		el.dispatchEvent(new Event("change", { bubbles: true }));
	})()`, selector, selector, value, value)))
}

// acceptDialogs accepts every JavaScript dialog (confirm, alert) the tab of
// ctx opens, and returns a function giving the messages seen so far.
func acceptDialogs(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	lctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	opening := chromedp.Events(lctx, page.JavascriptDialogOpening)
	msgs := make(chan string, 100)
	var seen []string
	go func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			msgs <- ev.Message
			// Answered from another goroutine than the one receiving
			// the events, as chromedp requires.
			go func() {
				err := chromedp.Do(lctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
					return err
				}))
				if err != nil && lctx.Err() == nil {
					t.Errorf("accepting the dialog %q: %v", ev.Message, err)
				}
			}()
		}
	}()
	return func() []string {
		for {
			select {
			case m := <-msgs:
				seen = append(seen, m)
			default:
				return seen
			}
		}
	}
}
