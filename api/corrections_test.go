package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/tally"
)

// flipDef is the contest of finding 1 of the security review: one seat,
// A and B, five voters (D = 5, so 3 votes pass).
func flipDef(id string) map[string]any {
	return map[string]any{
		"id": id, "title": "Bầu Bí thư Chi bộ 4", "kind": "secretary", "seats": 1, "ballot": "strike",
		"electorate": map[string]any{"congress": "body", "convened": 5},
		"candidates": []any{map[string]any{"id": "A", "name": "Nguyễn Văn An"}, map[string]any{"id": "B", "name": "Trần Thị Bình"}},
	}
}

func (h *harness) elected(id string) []string {
	h.t.Helper()
	var res struct{ Elected []string }
	r := h.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin)
	mustStatus(h.t, r, http.StatusOK)
	decode(h.t, r, &res)
	return res.Elected
}

// TestCounterFlipIsOnTheRecord is finding 1's reproduction: an honest desk
// keys four ballots for A and one for B; a counter credential of another
// desk voids three of them and re-keys them for B, and the certified
// minutes said nothing. Now the other desk's voids are refused (403), as
// are those of a second desk that carries the honest desk's very name;
// when the committee head (admin) voids the same three, the result flips
// on the record: each void, with the desk that keyed the ballot, who
// voided it, when and why, is on the certified minutes (HTML and PDF).
func TestCounterFlipIsOnTheRecord(t *testing.T) {
	h := newHarness(t)
	h.createContest(flipDef("m1"))
	h.transition("m1", "open", nil)
	mustStatus(t, h.do("PUT", "/api/v1/contests/m1/notes", map[string]int{"present": 5, "collected": 5}, asAdmin), http.StatusOK)
	honest := bearer(h.issueToken("counter", "Bàn 1 (honest)"))
	other := bearer(h.issueToken("counter", "Bàn 9 (other election)"))
	namesake := bearer(h.issueToken("counter", "Bàn 1 (honest)")) // names repeat
	for i := 1; i <= 4; i++ {
		mustStatus(t, h.postBallot("m1", map[string]any{"id": fmt.Sprintf("h-%d", i), "struck": []string{"B"}}, honest), http.StatusCreated)
	}
	mustStatus(t, h.postBallot("m1", map[string]any{"id": "h-5", "struck": []string{"A"}}, honest), http.StatusCreated)
	if got := h.elected("m1"); strings.Join(got, ",") != "A" {
		t.Fatalf("elected %v before the voids, want A", got)
	}

	void := func(ballot, reason string, auth opt) *response {
		return h.do("POST", "/api/v1/contests/m1/ballots/"+ballot+"/void", map[string]string{"reason": reason}, auth)
	}
	refused := 0
	for i := 1; i <= 3; i++ {
		for name, auth := range map[string]opt{"another desk": other, "a desk of the same name": namesake} {
			e := mustError(t, void(fmt.Sprintf("h-%d", i), "nhập nhầm", auth), http.StatusForbidden, "ballot")
			refused++
			if !strings.Contains(e.Message, "keyed by another desk (Bàn 1 (honest))") || !strings.Contains(e.Message, "committee head (admin)") {
				t.Errorf("%s voiding h-%d: message %q does not say whose ballot it is and who may void it", name, i, e.Message)
			}
		}
	}
	if n := h.logLen("m1"); n != 5 {
		t.Fatalf("the refused voids left %d entries, want the 5 ballots", n)
	}
	if got := h.elected("m1"); strings.Join(got, ",") != "A" {
		t.Fatalf("elected %v after refused voids, want A", got)
	}

	// The committee head voids them (the other desk re-keys the papers):
	// the result flips, and the minutes say how.
	reasons := []string{"Bàn 1 nhập nhầm tên bị gạch (phiếu 1)", "Bàn 1 nhập nhầm tên bị gạch (phiếu 2)", "Bàn 1 nhập nhầm tên bị gạch (phiếu 3)"}
	for i, reason := range reasons {
		mustStatus(t, void(fmt.Sprintf("h-%d", i+1), reason, asAdmin), http.StatusCreated)
		mustStatus(t, h.postBallot("m1", map[string]any{"id": fmt.Sprintf("r-%d", i+1), "struck": []string{"A"}}, other), http.StatusCreated)
	}
	h.transition("m1", "close", map[string]int{"issued": 5})
	rec := h.transition("m1", "certify", nil)
	if got := h.elected("m1"); strings.Join(got, ",") != "B" {
		t.Fatalf("elected %v after the admin's voids, want B", got)
	}

	r := h.page("GET", "/contests/m1/minutes", nil) // certified: anyone
	mustStatus(t, r, http.StatusOK)
	html := text(r.body)
	entries := h.entries("m1")
	onMinutes, inPDF := 0, 0
	defer func() {
		proof.Report(t, "other_desk_voids_refused", fmt.Sprintf("%d of 6", refused), "voids")
		proof.Report(t, "admin_voids_on_minutes", fmt.Sprintf("%d of 3 (HTML), %d of 3 (PDF)", onMinutes, inPDF), "voids")
	}()
	for i, reason := range reasons {
		v := entries[5+2*i] // after the five ballots: void, re-key, void, …
		if v.Void == nil || v.Void.Ballot != fmt.Sprintf("h-%d", i+1) {
			t.Fatalf("entry %d is %+v, want the void of h-%d", 6+2*i, v, i+1)
		}
		row := fmt.Sprintf("%d %d h-%d (mục %d) Bàn 1 (honest) admin %s %s", i+1, v.Seq, i+1, i+1, vnClock(t, v.Time), reason)
		if strings.Contains(html, row) {
			onMinutes++
		} else {
			t.Errorf("the certified minutes lack the void row %q:\n%s", row, html)
		}
	}
	if !strings.Contains(html, "VIII. HỦY PHIẾU ĐÃ NHẬP VÀ GHI CHÚ VỀ PHIẾU") || !strings.Contains(html, "Không có phiếu nào có ghi chú.") {
		t.Errorf("the minutes lack the corrections part:\n%s", html)
	}
	r = h.do("GET", "/contests/m1/minutes.pdf", nil)
	mustStatus(t, r, http.StatusOK)
	pdf := minutesPDFText(t, r.body)
	for i, reason := range reasons {
		if strings.Contains(pdf, fmt.Sprintf("h-%d (mục %d)", i+1, i+1)) && strings.Contains(pdf, strings.Join(strings.Fields(reason)[:3], " ")) {
			inPDF++
		} else {
			t.Errorf("the PDF lacks the void of h-%d with its reason", i+1)
		}
	}
	if !strings.Contains(pdf, rec.Head) {
		t.Error("the PDF lacks the head")
	}
}

// entries reads a round's whole log from the store.
func (h *harness) entries(id string) []tally.Entry {
	h.t.Helper()
	entries, err := h.store.Entries(context.Background(), id, 0, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return entries
}

// tokenSession signs a desk in to the pages with its token, as the desk's
// browser does, and returns the session with its CSRF token.
func (h *harness) tokenSession(token string) session {
	h.t.Helper()
	r := h.postLoginForm(url.Values{"token": {token}})
	mustStatus(h.t, r, http.StatusSeeOther)
	c := sessionCookie(h.t, r)
	home := h.do("GET", "/", nil, withHeader("Cookie", "kp_session="+c.Value), withHeader("Accept", "text/html"))
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(home.body)
	if m == nil {
		h.t.Fatalf("no CSRF token on the home page of a signed-in desk:\n%s", home.body)
	}
	return session{cookie: c.Value, csrf: string(m[1])}
}

// vnClock is a log time as the minutes' tables write it (Vietnam time).
func vnClock(t *testing.T, stamp string) string {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		t.Fatal(err)
	}
	return ts.In(time.FixedZone("ICT", 7*3600)).Format("15:04:05 02/01/2006")
}

// A desk voids what it keyed, whether it keys over the API with its token
// or signs in to the desk page with the same token: the log knows the
// credential, not the channel. A user account is a desk of its own.
func TestDeskVoidsItsOwnBallots(t *testing.T) {
	h := newHarness(t)
	h.openContest(contestDef("own"))
	token := h.issueToken("counter", "Bàn 2")
	mustStatus(t, h.postBallot("own", map[string]any{"id": "k-1", "struck": []string{"c1"}}, bearer(token)), http.StatusCreated)
	mustStatus(t, h.postBallot("own", map[string]any{"id": "k-2", "struck": []string{"c2"}}, bearer(token)), http.StatusCreated)
	sess := h.tokenSession(token)
	mustStatus(t, h.do("POST", "/api/v1/contests/own/ballots/k-1/void", map[string]string{"reason": "gõ nhầm"}, withSession(sess)), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests/own/ballots/k-2/void", map[string]string{"reason": "gõ nhầm"}, bearer(token)), http.StatusCreated)
	// Again: the same receipt.
	mustStatus(t, h.do("POST", "/api/v1/contests/own/ballots/k-2/void", map[string]string{"reason": "gõ nhầm"}, bearer(token)), http.StatusOK)

	h.seedUser("thuky", "mật khẩu đủ dài 2025", "counter")
	user := withSession(h.login("thuky", "mật khẩu đủ dài 2025"))
	mustStatus(t, h.postBallot("own", map[string]any{"id": "u-1", "struck": []string{"c3"}}, user), http.StatusCreated)
	mustError(t, h.do("POST", "/api/v1/contests/own/ballots/u-1/void", map[string]string{"reason": "x"}, bearer(token)), http.StatusForbidden, "ballot")
	mustStatus(t, h.do("POST", "/api/v1/contests/own/ballots/u-1/void", map[string]string{"reason": "gõ nhầm"}, user), http.StatusCreated)
	// An unknown ballot is still a 404 for a desk.
	mustError(t, h.do("POST", "/api/v1/contests/own/ballots/nope/void", map[string]string{"reason": "x"}, bearer(token)), http.StatusNotFound, "ballot")

	entries := h.entries("own")
	for _, e := range entries {
		want := "token:"
		if e.Desk == "thuky" {
			want = "user:thuky"
		}
		if !strings.HasPrefix(e.DeskID, want) || strings.Contains(e.DeskID, token) {
			t.Errorf("entry %d (desk %q): desk_id %q", e.Seq, e.Desk, e.DeskID)
		}
	}
}

// TestVerifiedKeyingsSealedUntilClose is finding 8's reproduction: in
// double entry desk A keys stack 1, position 1; desk B, refused the
// journal, read A's keying in the minutes' annex before keying the paper
// itself. Now no desk, viewer or anonymous reader sees any keying before
// the round closes, in the journal API or the minutes (HTML or PDF); the
// committee (admin) does. Once closed the desks read the journal; the copy
// anyone reads without signing in never prints the keyings.
func TestVerifiedKeyingsSealedUntilClose(t *testing.T) {
	h := newHarness(t)
	h.createContest(with(verifiedDef("v1", "double"), "visibility", "live"))
	h.transition("v1", "open", nil)
	mustStatus(t, h.do("PUT", "/api/v1/contests/v1/stacks/1", map[string]int{"ballots": 3}, asAdmin), http.StatusOK)
	deskA := bearer(h.issueToken("counter", "Desk A"))
	deskB := bearer(h.issueToken("counter", "Desk B"))
	viewer := bearer(h.issueToken("viewer", "Thư ký"))
	keyA := tally.Ballot{Struck: []string{"c2"}}
	mustStatus(t, h.do("POST", "/api/v1/contests/v1/keyings", keyingBody("a-1", 1, 1, keyA), deskA), http.StatusCreated)
	const keyed = "gạch: 2. Trần Thị Bình" // A's reading, as the annex writes it

	minutes := func(auth ...opt) (string, string) {
		t.Helper()
		r := h.page("GET", "/contests/v1/minutes", nil, auth...)
		mustStatus(t, r, http.StatusOK)
		p := h.do("GET", "/contests/v1/minutes.pdf", nil, auth...)
		mustStatus(t, p, http.StatusOK)
		return text(r.body), minutesPDFText(t, p.body)
	}
	readers := map[string][]opt{"desk B": {deskB}, "desk A": {deskA}, "a viewer": {viewer}, "anonymous (live round)": nil}
	leaked := 0
	defer func() {
		proof.Report(t, "readers_shown_a_keying_before_close", fmt.Sprintf("%d of %d", leaked, len(readers)), "readers")
	}()
	for name, auth := range readers {
		if name != "anonymous (live round)" {
			mustError(t, h.do("GET", "/api/v1/contests/v1/journal", nil, auth...), http.StatusForbidden, "")
		}
		html, pdf := minutes(auth...)
		if strings.Contains(html, keyed) || strings.Contains(pdf, keyed) || strings.Contains(html, "chờ bàn khác") {
			leaked++
			t.Errorf("%s reads desk A's keying in the minutes of an open round", name)
		}
		if !strings.Contains(html, "nội dung từng lần nhập chỉ in sau khi kết thúc kiểm phiếu") {
			t.Errorf("%s: the annex does not say the keyings are sealed", name)
		}
	}
	// Nor any other page or answer a desk can read: the committee's stacks
	// page and the disputes are the admin's; a desk's progress is counts.
	mustStatus(t, h.do("GET", "/contests/v1/stacks", nil, deskB, withHeader("Accept", "text/html")), http.StatusForbidden)
	mustError(t, h.do("GET", "/api/v1/contests/v1/disputes", nil, deskB), http.StatusForbidden, "")
	if r := h.do("GET", "/api/v1/contests/v1/stacks", nil, deskB); r.status != http.StatusOK || strings.Contains(string(r.body), "c2") || strings.Contains(string(r.body), "struck") {
		t.Errorf("desk B's progress: %d %s", r.status, r.body)
	}
	if html, pdf := minutes(asAdmin); !strings.Contains(html, keyed) || !strings.Contains(pdf, keyed) {
		t.Error("the committee does not see the keyings of an open round")
	}
	mustStatus(t, h.do("GET", "/api/v1/contests/v1/journal", nil, asAdmin), http.StatusOK)

	// Both desks key every paper alike; the round closes.
	for pos := 1; pos <= 3; pos++ {
		if pos > 1 {
			mustStatus(t, h.do("POST", "/api/v1/contests/v1/keyings", keyingBody(fmt.Sprintf("a-%d", pos), 1, pos, keyA), deskA), http.StatusCreated)
		}
		mustStatus(t, h.do("POST", "/api/v1/contests/v1/keyings", keyingBody(fmt.Sprintf("b-%d", pos), 1, pos, keyA), deskB), http.StatusCreated)
	}
	mustStatus(t, h.do("PUT", "/api/v1/contests/v1/notes", map[string]int{"collected": 3}, asAdmin), http.StatusOK)
	h.transition("v1", "close", map[string]int{"issued": 3})
	for name, auth := range readers {
		html, _ := minutes(auth...)
		if name == "anonymous (live round)" {
			if strings.Contains(html, keyed) || !strings.Contains(html, "Bản công bố (xem không cần đăng nhập) không in nội dung từng lần nhập") {
				t.Errorf("the public copy of a closed round prints the keyings")
			}
			continue
		}
		mustStatus(t, h.do("GET", "/api/v1/contests/v1/journal", nil, auth...), http.StatusOK)
		if !strings.Contains(html, keyed) || !strings.Contains(html, "khớp — đã tính") {
			t.Errorf("%s does not read the journal of a closed round", name)
		}
	}
}

// TestPerBallotLogIsTheCommittees is finding 13's reproduction: the
// per-ballot log, with every ballot's marks and the free text of its
// note, was public through export.jsonl once certified (and while a live
// round was counted), though GET …/log needs a sign-in. Now the export
// needs a sign-in too, at any state; the copy of the minutes anyone reads
// without signing in has the ballots' rulings but not their notes; and the
// higher committee's path still works end to end: the ward's admin
// downloads the export, it verifies as `kiemphieu verify` checks it, and
// the district imports it.
func TestPerBallotLogIsTheCommittees(t *testing.T) {
	h := newHarness(t)
	const mark = "chữ ký Nguyễn Văn Tèo ở mặt sau" // what a note may copy from a paper
	const ruling = "tên Lê Văn Cường gạch một nửa, Ban Kiểm phiếu kết luận không tính là gạch"
	for _, id := range []string{"live", "cert"} {
		def := contestDef(id)
		if id == "live" {
			def = with(def, "visibility", "live")
		}
		h.openContest(def)
		desk := bearer(h.issueToken("counter", "Bàn "+id))
		mustStatus(t, h.postBallot(id, map[string]any{"id": "p-1", "invalid": "identifying_mark", "note": mark}, desk), http.StatusCreated)
		mustStatus(t, h.postBallot(id, map[string]any{"id": "p-2", "struck": []string{"c4"}, "note": ruling}, desk), http.StatusCreated)
		mustStatus(t, h.postBallot(id, map[string]any{"id": "p-3", "struck": []string{"c1"}}, desk), http.StatusCreated)
	}
	viewer := bearer(h.issueToken("viewer", "Cấp ủy cấp trên"))
	served, printed := 0, 0
	defer func() {
		proof.Report(t, "anonymous_log_downloads_served", fmt.Sprintf("%d of 4", served), "requests")
		proof.Report(t, "notes_in_public_minutes", fmt.Sprintf("%d of 8", printed), "notes (2 rounds × 2 notes × HTML, PDF)")
	}()
	check := func(id string) {
		t.Helper()
		for _, path := range []string{"/contests/" + id + "/export.jsonl", "/api/v1/contests/" + id + "/log"} {
			r := h.do("GET", path, nil)
			if r.status != http.StatusUnauthorized {
				served++
			}
			mustError(t, r, http.StatusUnauthorized, "")
			if r := h.do("GET", path, nil, viewer); r.status != http.StatusOK || !strings.Contains(string(r.body), mark) {
				t.Errorf("%s for a viewer: %d", path, r.status)
			}
		}
		r := h.page("GET", "/contests/"+id+"/minutes", nil)
		mustStatus(t, r, http.StatusOK) // public: live, or certified
		pdf := h.do("GET", "/contests/"+id+"/minutes.pdf", nil)
		mustStatus(t, pdf, http.StatusOK)
		html, pdfText := text(r.body), minutesPDFText(t, pdf.body)
		for _, note := range []string{mark, ruling} {
			for _, in := range []bool{strings.Contains(html, note), strings.Contains(pdfText, strings.Join(strings.Fields(note)[:4], " "))} {
				if in {
					printed++
					t.Errorf("%s: the public minutes print the note %q", id, note)
				}
			}
		}
		for _, want := range []string{"p-1 Không hợp lệ: Có chữ ký hoặc ký hiệu riêng (không in trong bản công bố)", "p-2 Hợp lệ (không in trong bản công bố)"} {
			if !strings.Contains(html, want) {
				t.Errorf("%s: the public minutes lack the row %q", id, want)
			}
		}
		signed := text(h.page("GET", "/contests/"+id+"/minutes", nil, viewer).body)
		for _, want := range []string{"p-1 Không hợp lệ: Có chữ ký hoặc ký hiệu riêng " + mark, "p-2 Hợp lệ " + ruling} {
			if !strings.Contains(signed, want) {
				t.Errorf("%s: the committee's minutes lack the row %q", id, want)
			}
		}
	}
	check("live") // while counting
	mustStatus(t, h.do("PUT", "/api/v1/contests/cert/notes", map[string]int{"present": 8, "collected": 3}, asAdmin), http.StatusOK)
	h.transition("cert", "close", map[string]int{"issued": 8})
	rec := h.transition("cert", "certify", nil)
	check("cert")

	// The higher committee: the file verifies and imports.
	r := h.do("GET", "/contests/cert/export.jsonl", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	x, err := tally.ReadExport(bytes.NewReader(r.body), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	head, _, err := x.Verify()
	if err != nil || head != rec.Head {
		t.Fatalf("the export does not verify: head %s, %v", head, err)
	}
	district := importer(t)
	mustStatus(t, district.do("POST", "/api/v1/imports?head="+rec.Head, r.body, asAdmin), http.StatusCreated)
	mustError(t, district.do("GET", "/contests/cert/export.jsonl", nil), http.StatusUnauthorized, "")
	if again := district.do("GET", "/contests/cert/export.jsonl", nil, asAdmin); !bytes.Equal(again.body, r.body) {
		t.Error("the imported round's export is not the file imported")
	}
	if got := text(district.page("GET", "/contests/cert/minutes", nil, asAdmin).body); !strings.Contains(got, mark) {
		t.Error("the imported round's minutes lack the committee's notes")
	}
}

// swappedLogStore is the embedded store whose log of round "a" is, once
// swapped, the log of round "b": what the minutes see when a round's log
// is replaced under its id (an import refused, then done again).
type swappedLogStore struct {
	*bolt.Store
	swapped atomic.Bool
}

func (s *swappedLogStore) Entries(ctx context.Context, contest string, after int64, limit int) ([]tally.Entry, error) {
	if contest == "a" && s.swapped.Load() {
		contest = "b"
	}
	return s.Store.Entries(ctx, contest, after, limit)
}

// The minutes read the voids and notes of a log incrementally; a log that
// is no longer the one read before (its last entry read has another hash)
// is read again from its start, so the minutes never list another log's
// corrections.
func TestMinutesCorrectionsFollowTheLog(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "kiemphieu.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ss := &swappedLogStore{Store: st}
	h := &harness{t: t, server: &server{srv: api.New(ss, api.Config{AdminToken: adminToken}), store: st}}
	for _, id := range []string{"a", "b"} {
		h.openContest(contestDef(id))
		h.castStrike(id, strikes(id, 3, "c4")...)
	}
	mustStatus(t, h.do("POST", "/api/v1/contests/a/ballots/a-2/void", map[string]string{"reason": "lý do của sổ a"}, asAdmin), http.StatusCreated)
	mustStatus(t, h.postBallot("b", map[string]any{"id": "b-9", "invalid": "other", "note": "ghi chú của sổ b"}), http.StatusCreated)

	minutes := func() string { return text(h.page("GET", "/contests/a/minutes", nil, asAdmin).body) }
	if got := minutes(); !strings.Contains(got, "lý do của sổ a") || strings.Contains(got, "ghi chú của sổ b") {
		t.Fatalf("the minutes of a: %s", got)
	}
	mustStatus(t, h.do("POST", "/api/v1/contests/a/ballots/a-3/void", map[string]string{"reason": "lần hủy thứ hai"}, asAdmin), http.StatusCreated)
	if got := minutes(); !strings.Contains(got, "lý do của sổ a") || !strings.Contains(got, "lần hủy thứ hai") {
		t.Fatalf("the minutes do not list a void appended since they were read: %s", got)
	}
	ss.swapped.Store(true)
	if got := minutes(); strings.Contains(got, "lý do của sổ a") || !strings.Contains(got, "ghi chú của sổ b") {
		t.Fatalf("after the log changed under its id, the minutes list: %s", got)
	}
}
