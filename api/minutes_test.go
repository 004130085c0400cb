package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/tally"
)

// countRound creates contestDef(id) under the congress dh-p4, counts eight
// ballots (D = 8, so 5 votes pass) and closes it with notes. Votes: Bình
// and Cường 7, An 5, Dung 2; one ballot is invalid (write-in).
func (h *harness) countRound(id string, mods ...any) record {
	h.t.Helper()
	if _, err := h.store.Item(context.Background(), "congress", "dh-p4"); err != nil {
		mustStatus(h.t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	}
	mustStatus(h.t, h.do("POST", "/api/v1/contests?congress=dh-p4", with(contestDef(id), mods...), asAdmin), http.StatusCreated)
	h.transition(id, "open", nil)
	h.castStrike(id, strikes("b", 5, "c4")...)
	h.castStrike(id, strikes("x", 2, "c1")...)
	mustStatus(h.t, h.postBallot(id, map[string]any{"id": "w1", "invalid": "write_in", "note": "ghi thêm tên"}), http.StatusCreated)
	mustStatus(h.t, h.do("PUT", "/api/v1/contests/"+id+"/notes", map[string]any{"present": 8, "collected": 8}, asAdmin), http.StatusOK)
	return h.transition(id, "close", map[string]any{"issued": 8})
}

// minutesPDFText is a PDF's text by pdftotext; without poppler-utils the
// check is skipped, loudly, except in CI.
func minutesPDFText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pdftotext is required in CI (apt-get install poppler-utils): %v", err)
		}
		t.Skip("!!! SKIPPED: pdftotext not found (apt-get install poppler-utils); the PDF's text is NOT checked !!!")
	}
	path := filepath.Join(t.TempDir(), "minutes.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func TestMinutesOfCertifiedRound(t *testing.T) {
	h := newHarnessWith(t, api.Config{PublicURL: "https://kiemphieu.example.vn/"})
	h.countRound("bch")
	rec := h.transition("bch", "certify", nil)
	if len(rec.Head) != 64 {
		t.Fatalf("head %q", rec.Head)
	}

	// Certified: public, no sign-in.
	r := h.page("GET", "/contests/bch/minutes", nil)
	mustStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	if r.header.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy on the minutes")
	}
	got := text(r.body)
	for _, want := range []string{
		"ĐẢNG BỘ QUẬN 3 ĐẢNG BỘ PHƯỜNG 4 BAN KIỂM PHIẾU * ĐẢNG CỘNG SẢN VIỆT NAM Phường 4, ngày",
		"BIÊN BẢN KIỂM PHIẾU Bầu Ban Chấp hành Chi bộ 3, nhiệm kỳ 2025–2027 (Lần 1) Đại hội đại biểu Đảng bộ Phường 4 lần thứ XII, nhiệm kỳ 2025–2030",
		// The congress's votes on this contest, then its general ones.
		// Each on D: the contest's (8) for its own, the congress's (120).
		"Số lượng cần bầu: có mặt 8; tán thành 7 (87,50% của D), không tán thành 1 (12,50%), ý kiến khác 0 (0,00%); D = 8 — thông qua",
		"Ban Kiểm phiếu: có mặt 120; tán thành 120 (100,00% của D), không tán thành 0 (0,00%), ý kiến khác 0 (0,00%); D = 120 — thông qua; 100% đại biểu có mặt tán thành",
		"1. Võ Thị Hoa — Trưởng ban 2. Đặng Văn Long — Ủy viên",
		"Số để tính tỷ lệ bầu cử (D): 8 (9 - 0 - 0 - 0 - 1)",
		"Trúng cử phải được quá một nửa so với D: từ 5 phiếu trở lên",
		"Số có mặt khi bỏ phiếu: 8 đồng chí",
		"Số phiếu phát ra: 8 Số phiếu thu vào: 8 Số phiếu hợp lệ: 7 Số phiếu không hợp lệ: 1, trong đó: Ghi thêm tên ngoài danh sách hoặc viết thêm chữ: 1",
		// The elected by votes: Bình and Cường tie at 7 and keep ballot order.
		"trúng cử: 3/3. TT Họ và tên Số phiếu Tỷ lệ so với D 1 Trần Thị Bình 7 87,50% 2 Lê Văn Cường 7 87,50% 3 Nguyễn Văn An 5 62,50%",
		"TRƯỞNG BAN KIỂM PHIẾU (Ký, ghi rõ họ tên) Võ Thị Hoa",
		rec.Head,
		"Kiểm tra tại: https://kiemphieu.example.vn/verify/" + rec.Head,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the minutes lack %q", want)
		}
	}
	if strings.Contains(got, "DỰ THẢO") {
		t.Error("certified minutes are marked as a draft")
	}
	if !bytes.Contains(r.body, []byte(`src="data:image/png;base64,`)) {
		t.Error("no QR code")
	}

	r = h.do("GET", "/contests/bch/minutes.pdf", nil)
	mustStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="bien-ban-bch.pdf"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %.40q", r.body)
	}
	// A certified round's PDF is the same file each time.
	if again := h.do("GET", "/contests/bch/minutes.pdf", nil); !bytes.Equal(again.body, r.body) {
		t.Error("two downloads of a certified round's PDF differ")
	}
	pdf := minutesPDFText(t, r.body)
	for _, want := range []string{"BIÊN BẢN KIỂM PHIẾU", "Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung",
		"Số để tính tỷ lệ bầu cử (D): 8", rec.Head, "Võ Thị Hoa"} {
		if !strings.Contains(pdf, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
}

// The minutes have the result's visibility: before certification a
// certified-visibility round needs a sign-in; the print view sends the
// visitor to sign in, the PDF (a download) answers 401.
func TestMinutesAccess(t *testing.T) {
	h := newHarness(t)
	h.countRound("bch")
	r := h.page("GET", "/contests/bch/minutes", nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next=/contests/bch/minutes" {
		t.Errorf("anonymous browser: %d to %q, want 303 to sign in", r.status, r.header.Get("Location"))
	}
	mustError(t, h.do("GET", "/contests/bch/minutes.pdf", nil), http.StatusUnauthorized, "")

	viewer := bearer(h.issueToken("viewer", "xem"))
	r = h.page("GET", "/contests/bch/minutes", nil, viewer)
	mustStatus(t, r, http.StatusOK)
	got := text(r.body)
	for _, want := range []string{"DỰ THẢO — Kiểm phiếu đã kết thúc; biên bản chưa được chứng nhận.", "Biên bản lập xong vào lúc"} {
		if !strings.Contains(got, want) {
			t.Errorf("draft minutes lack %q", want)
		}
	}
	mustStatus(t, h.do("GET", "/contests/bch/minutes.pdf", nil, viewer), http.StatusOK)

	// A live round is public while it is counted; its minutes say so.
	h.createContest(with(contestDef("live"), "visibility", "live"))
	h.transition("live", "open", nil)
	h.castStrike("live", strikes("l", 2, "c4")...)
	r = h.page("GET", "/contests/live/minutes", nil)
	mustStatus(t, r, http.StatusOK)
	if got := text(r.body); !strings.Contains(got, "Kiểm phiếu chưa kết thúc") || strings.Contains(got, "Kiểm tra tại") {
		t.Errorf("an open round's minutes: %s", got)
	}
	mustStatus(t, h.page("GET", "/contests/nope/minutes", nil, viewer), http.StatusNotFound)
}

func TestVerify(t *testing.T) {
	h := newHarness(t)
	h.countRound("bch")
	rec := h.transition("bch", "certify", nil)

	r := h.page("GET", "/verify", nil)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `<form method="get" action="/verify"`) {
		t.Error("no form on /verify")
	}
	// A hash copied from paper: capitals, broken over a line.
	pasted := strings.ToUpper(rec.Head[:32]) + "%0A" + rec.Head[32:]
	r = h.page("GET", "/verify?hash="+pasted, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/verify/"+rec.Head {
		t.Errorf("form: %d to %q, want 303 to /verify/%s", r.status, r.header.Get("Location"), rec.Head)
	}

	r = h.page("GET", "/verify/"+rec.Head, nil)
	mustStatus(t, r, http.StatusOK)
	got := text(r.body)
	for _, want := range []string{
		"Khớp: sổ phiếu lưu trữ liền mạch",
		"Tổ chức đảng Đảng bộ Phường 4 Đại hội Đại hội đại biểu Đảng bộ Phường 4 lần thứ XII",
		"Cuộc bầu Bầu Ban Chấp hành Chi bộ 3, nhiệm kỳ 2025–2027 ( bch ) Lần bầu 1",
		"Chứng nhận " + certifiedVN(t, rec.Certified),
		"Số mục trong sổ phiếu 8",
		rec.Head,
		"Số để tính tỷ lệ (D) 8",
		"1 Trần Thị Bình 7 87,50% 2 Lê Văn Cường 7 87,50% 3 Nguyễn Văn An 5 62,50%",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the verify page lacks %q", want)
		}
	}
	for _, link := range []string{"/contests/bch/minutes", "/contests/bch/minutes.pdf"} {
		if !strings.Contains(string(r.body), `href="`+link+`"`) {
			t.Errorf("no link to %s", link)
		}
		mustStatus(t, h.page("GET", link, nil), http.StatusOK) // public once certified
	}
	// The per-ballot log is offered to those signed in only.
	if strings.Contains(string(r.body), `href="/contests/bch/export.jsonl"`) || !strings.Contains(got, "chỉ cấp cho người đã đăng nhập") {
		t.Error("the verify page offers the per-ballot log to an anonymous visitor")
	}
	viewer := bearer(h.issueToken("viewer", "xem"))
	if r := h.page("GET", "/verify/"+rec.Head, nil, viewer); !strings.Contains(string(r.body), `href="/contests/bch/export.jsonl"`) {
		t.Error("no link to the export for a signed-in visitor")
	}
	if r := h.page("GET", "/verify/"+rec.Head+"?lang=en", nil); !strings.Contains(text(r.body), "Matched: the stored log is unbroken") {
		t.Error("the English page does not say it matched")
	}

	// A hash of no round, and something that is not a hash.
	other := strings.Repeat("ab", 32)
	r = h.page("GET", "/verify/"+other, nil)
	mustStatus(t, r, http.StatusNotFound)
	if !strings.Contains(text(r.body), "Không có vòng bầu nào đã kết thúc kiểm phiếu mang mã "+other) {
		t.Errorf("unknown hash: %s", text(r.body))
	}
	r = h.page("GET", "/verify/abc", nil)
	mustStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(text(r.body), "“abc” không phải là mã kiểm chứng") {
		t.Errorf("malformed hash: %s", text(r.body))
	}
}

// certifiedVN is the certification time of day as the page writes it.
func certifiedVN(t *testing.T, stamp string) string {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		t.Fatal(err)
	}
	ts = ts.In(time.FixedZone("ICT", 7*3600))
	return fmt.Sprintf("%d giờ %02d phút", ts.Hour(), ts.Minute())
}

// A closed round not yet certified is found, marked as a draft, and shows
// no result to a visitor who may not see it yet.
func TestVerifyDraftRound(t *testing.T) {
	h := newHarness(t)
	rec := h.countRound("bch")
	r := h.page("GET", "/verify/"+rec.Head, nil)
	mustStatus(t, r, http.StatusOK)
	got := text(r.body)
	for _, want := range []string{"Khớp", "chưa được chứng nhận: biên bản in ra là bản dự thảo", "chỉ công khai sau khi được chứng nhận"} {
		if !strings.Contains(got, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(got, "Trần Thị Bình") || strings.Contains(string(r.body), `href="/contests/bch/minutes"`) ||
		strings.Contains(string(r.body), `href="/contests/bch/export.jsonl"`) {
		t.Error("a round not yet public shows its result")
	}
	// What it does show of the draft is what the draft minutes print
	// beside the hash (docs/architecture.md): the round, its congress, its
	// close time and the log's length.
	for _, want := range []string{"Bầu Ban Chấp hành Chi bộ 3, nhiệm kỳ 2025–2027", "Đảng bộ Phường 4", "Số mục trong sổ phiếu 8"} {
		if !strings.Contains(got, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// tamperingStore is the embedded store with a log that can be altered
// under the service, as a hand edit of the database file would.
type tamperingStore struct {
	*bolt.Store
	mode atomic.Int32 // 0: none; 1: alter entry 2's ballot; 2: alter it and rechain the rest
}

func (s *tamperingStore) Entries(ctx context.Context, contest string, after int64, limit int) ([]tally.Entry, error) {
	entries, err := s.Store.Entries(ctx, contest, after, limit)
	mode := s.mode.Load()
	if err != nil || mode == 0 {
		return entries, err
	}
	for i := range entries {
		if entries[i].Seq != 2 {
			continue
		}
		b := *entries[i].Ballot
		b.Struck = []string{"c3"} // moves a vote from Cường to Dung
		entries[i].Ballot = &b
		if mode == 2 {
			prev := entries[i].Prev
			for j := i; j < len(entries); j++ {
				entries[j].Link(entries[j].Seq-1, prev)
				prev = entries[j].Hash
			}
		}
	}
	return entries, nil
}

func TestVerifyTamperedLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiemphieu.db")
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts := &tamperingStore{Store: st}
	clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
	h := &harness{t: t, server: &server{srv: api.New(ts, api.Config{AdminToken: adminToken, Now: clock.Now}), store: st, path: path, clock: clock}}
	h.countRound("bch")
	rec := h.transition("bch", "certify", nil)
	mustStatus(t, h.page("GET", "/verify/"+rec.Head, nil), http.StatusOK)

	// One entry altered in place: its hash no longer fits its content.
	ts.mode.Store(1)
	r := h.page("GET", "/verify/"+rec.Head, nil)
	mustStatus(t, r, http.StatusOK)
	got := text(r.body)
	for _, want := range []string{"Không khớp:", "Mục thứ 2 đã bị sửa: mã băm của mục không khớp với nội dung.", "entry 2 has been altered"} {
		if !strings.Contains(got, want) {
			t.Errorf("altered entry: the page lacks %q\n%s", want, got)
		}
	}
	if strings.Contains(got, "Khớp:") {
		t.Error("a tampered log is reported as matched")
	}

	// The whole chain rewritten after the change: the chain holds, but it
	// ends elsewhere and recounts to other figures.
	ts.mode.Store(2)
	got = text(h.page("GET", "/verify/"+rec.Head, nil).body)
	for _, want := range []string{"Không khớp:", "không phải mã in trên biên bản",
		"Kiểm lại từ sổ phiếu cho kết quả khác với số đếm đã lưu."} {
		if !strings.Contains(got, want) {
			t.Errorf("rechained log: the page lacks %q\n%s", want, got)
		}
	}
}
