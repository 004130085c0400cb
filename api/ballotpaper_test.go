package api_test

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// text is a page's visible text with tags dropped and spaces collapsed, for
// assertions on what is printed.
func text(body []byte) string {
	s := regexp.MustCompile(`(?s)<script.*?</script>|<[^>]+>`).ReplaceAllString(string(body), " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

func TestBallotPaperStrike(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	def := with(contestDef("bch"), "candidates", []any{
		map[string]any{"id": "c1", "name": "Phạm Thị Dung"},
		map[string]any{"id": "c2", "name": "Nguyễn Văn An"},
		map[string]any{"id": "c3", "name": "Lê Văn Đức"},
		map[string]any{"id": "c4", "name": "Trần Văn Dũng"},
	})
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-p4", def, asAdmin), http.StatusCreated)
	viewer := bearer(h.issueToken("viewer", "xem"))
	r := h.page("GET", "/contests/bch/ballot-paper?lang=en", nil, viewer)
	mustStatus(t, r, http.StatusOK)
	got := text(r.body)
	// Header from the congress record, upper case; the stamp box first (top left).
	want := "ĐẢNG BỘ QUẬN 3 ĐẢNG BỘ PHƯỜNG 4 * ĐẢNG CỘNG SẢN VIỆT NAM " +
		"ĐẠI HỘI ĐẠI BIỂU ĐẢNG BỘ PHƯỜNG 4 LẦN THỨ XII, NHIỆM KỲ 2025–2030 PHIẾU BẦU CỬ " +
		"Bầu Ban Chấp hành Chi bộ 3, nhiệm kỳ 2025–2027 Số lượng cần bầu: 3 đồng chí " +
		"Đồng chí không bầu người nào thì gạch ngang cả họ và tên người đó."
	if !strings.Contains(got, want) {
		t.Errorf("the ballot reads\n%s\nwant it to contain\n%s", got, want)
	}
	body := string(r.body)
	if i, j := strings.Index(body, `class="stamp-box"`), strings.Index(body, "ĐẢNG BỘ QUẬN 3"); i < 0 || i > j {
		t.Error("the stamp box is not before the header (top-left corner)")
	}
	// Names in ballot order (An, Dung, Dũng, Đức: by given name, Vietnamese
	// collation), as a numbered list to strike through; the paper is in
	// Vietnamese even for an English reader.
	list := regexp.MustCompile(`(?s)<ol class="ballot-names"[^>]*>(.*?)</ol>`).FindStringSubmatch(body)
	if list == nil {
		t.Fatalf("no numbered list of names: %s", body)
	}
	if got, want := text([]byte(list[1])), "Nguyễn Văn An Phạm Thị Dung Trần Văn Dũng Lê Văn Đức"; got != want {
		t.Errorf("names = %q, want %q", got, want)
	}
	for _, not := range []string{"Đồng ý", "Không đồng ý", `class="ballot-list"`} {
		if strings.Contains(body, not) {
			t.Errorf("a strike ballot shows %q", not)
		}
	}
	if !strings.Contains(body, `href="/static/ballot-paper.css?v=`) || !strings.Contains(body, `<html lang="vi">`) {
		t.Error("the print stylesheet or the Vietnamese language is missing")
	}
	if strings.Contains(body, `<header class="top">`) {
		t.Error("the site header is on the ballot")
	}
}

func TestBallotPaperApprove(t *testing.T) {
	h := newHarness(t)
	def := with(approveDef("bt"), "kind", "inspection_committee", "seats", 2, "round", 2, "candidates", []any{
		map[string]any{"id": "x", "name": "Võ Thị Xuân"}, map[string]any{"id": "y", "name": "Hồ Văn Bảo"}})
	// A round 2 is made by /next, never by POST /contests (audit B13).
	h.storeDraft(def)
	r := h.page("GET", "/contests/bt/ballot-paper", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	got := text(r.body)
	// No congress record: no header lines, the title and the table only.
	want := "ĐẢNG CỘNG SẢN VIỆT NAM PHIẾU BẦU CỬ Bầu Bí thư Chi bộ (Bầu lần 2) Số lượng cần bầu: 2 đồng chí " +
		"Đồng chí đồng ý bầu người nào thì đánh dấu X vào ô «Đồng ý», không đồng ý thì đánh dấu X vào ô «Không đồng ý» ở dòng của người đó. " +
		"Số TT Họ và tên Đồng ý Không đồng ý 1 Hồ Văn Bảo 2 Võ Thị Xuân"
	if !strings.Contains(got, want) {
		t.Errorf("the ballot reads\n%s\nwant it to contain\n%s", got, want)
	}
	// Four columns per row, the two boxes empty for the voter's X.
	rows := regexp.MustCompile(`<tr><td class="no">\d+</td><td class="name">[^<]+</td><td class="box"></td><td class="box"></td></tr>`).FindAllString(string(r.body), -1)
	if len(rows) != 2 {
		t.Errorf("%d rows of number | name | đồng ý | không đồng ý, want 2", len(rows))
	}
	if strings.Contains(string(r.body), `class="ballot-names"`) {
		t.Error("an approve ballot shows the strike list")
	}
}

func TestBallotPaperAccess(t *testing.T) {
	h := newHarness(t)
	h.createContest(contestDef("bch"))
	r := h.page("GET", "/contests/bch/ballot-paper", nil)
	if r.status != http.StatusSeeOther {
		t.Errorf("anonymous: %d, want 303 to sign in", r.status)
	}
	mustStatus(t, h.page("GET", "/contests/bch/ballot-paper", nil, bearer(h.issueToken("counter", "Bàn 1"))), http.StatusOK)
	mustStatus(t, h.page("GET", "/contests/nope/ballot-paper", nil, asAdmin), http.StatusNotFound)
}
