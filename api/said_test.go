package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// saidError is an error body as a signed-in page's script reads it.
type saidError struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Field    string `json:"field"`
	Said     string `json:"said"`
	Problems []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
		Said    string `json:"said"`
	} `json:"problems"`
}

func saidOf(t *testing.T, r *response, status int) saidError {
	t.Helper()
	mustStatus(t, r, status)
	var body struct{ Error saidError }
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return body.Error
}

// A path into a document ("votes[0].contest", "row 3, Ngày sinh"), or an
// error code, as no person should read one.
var rawField = regexp.MustCompile(`\w\[\d+\]|\brow \d+|\b(invalid|conflict|not_found|forbidden|over_vote|no_vote)\b`)

// mustSayVietnamese checks a sentence said for people: Vietnamese (a
// letter only Vietnamese writes), none of the API's English, no field path,
// no code, no doubled prefix.
func mustSayVietnamese(t *testing.T, said, english, field string, want ...string) {
	t.Helper()
	if said == "" {
		t.Fatalf("nothing said for people (the API's words: %q)", english)
	}
	if !strings.ContainsAny(said, "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ") {
		t.Errorf("said %q is not Vietnamese", said)
	}
	if english != "" && strings.Contains(said, english) {
		t.Errorf("said %q repeats the API's English %q", said, english)
	}
	if m := rawField.FindString(said); m != "" {
		t.Errorf("said %q shows %q, a field path or a code", said, m)
	}
	if field != "" && strings.Contains(said, field+":") {
		t.Errorf("said %q names the field by its path %q", said, field)
	}
	for _, w := range want {
		if !strings.Contains(said, w) {
			t.Errorf("said %q lacks %q", said, w)
		}
	}
}

// TestRefusalsSaidOnPages: the refusals a person meets on the pages (the
// newcomer's walk-through, D4) come to a signed-in page in Vietnamese,
// naming the field by its label; the API keeps its code, field and
// English, and a script with a token gets no "said" at all.
func TestRefusalsSaidOnPages(t *testing.T) {
	h := newHarness(t)
	h.seedUser("thuky", "mat-khau-thu-ky", "admin")
	h.seedUser("ban1", "mat-khau-ban-1", "counter")
	admin := withSession(h.login("thuky", "mat-khau-thu-ky"))
	desk := withSession(h.login("ban1", "mat-khau-ban-1"))

	h.openContest(contestDef("bch"))
	h.castStrike("bch", strikes("b", 6, "c4")...)
	h.createContest(contestDef("nhap"))
	h.openContest(contestDef("xong"))
	h.transition("xong", "close", map[string]int{"issued": 0})

	noName := contestDef("khong-ten")
	noName["candidates"].([]any)[1].(map[string]any)["name"] = ""
	seatsVote := congressDef("dh-vote")
	seatsVote["votes"] = []any{map[string]any{"subject": "seats", "present": 8, "approve": 8}}

	cases := []struct {
		name   string
		r      *response
		status int
		field  string
		want   []string
	}{
		{"close with more collected than issued", h.do("POST", "/api/v1/contests/bch/close", map[string]int{"issued": 5}, admin),
			http.StatusConflict, "issued", []string{"(6)", "(5)", "phiếu phát ra"}},
		{"a desk keying into a closed round", h.do("POST", "/api/v1/contests/xong/ballots", map[string]any{"id": "b-late", "struck": []string{"c1"}}, desk),
			http.StatusConflict, "state", []string{"đã kết thúc kiểm phiếu"}},
		{"a contest id taken", h.do("POST", "/api/v1/contests", contestDef("bch"), admin),
			http.StatusConflict, "id", []string{"Mã"}},
		{"a candidate with no name", h.do("POST", "/api/v1/contests", noName, admin),
			http.StatusBadRequest, "candidates[1].name", []string{"Họ và tên (dòng 2)"}},
		{"a seats vote naming no contest", h.do("POST", "/api/v1/congresses", seatsVote, admin),
			http.StatusBadRequest, "votes[0].contest", []string{"Cuộc bầu (mã) (dòng 1)"}},
		{"an import with a bad date", h.upload("ds.csv", []byte("Họ và tên,Ngày sinh\nNguyễn Văn An,31/02/1980\n"), admin),
			http.StatusBadRequest, "row 2, Ngày sinh", []string{"Dòng 2", "“Ngày sinh”", "1975"}},
		{"an old .xls", h.upload("ds.xls", []byte("\xd0\xcf\x11\xe0 old excel"), admin),
			http.StatusBadRequest, "file", []string{"CSV UTF-8"}},
		{"an import with no name column", h.upload("ds.csv", []byte("Giới tính\nNam\n"), admin),
			http.StatusBadRequest, "row 1", []string{"Họ và tên"}},
		{"opening a draft twice over", h.do("POST", "/api/v1/contests/xong/open", nil, admin),
			http.StatusConflict, "state", []string{"tải lại trang"}},
		{"a counter at an admin route", h.do("POST", "/api/v1/contests/nhap/open", nil, desk),
			http.StatusForbidden, "", []string{"Vai trò của bạn"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := saidOf(t, tc.r, tc.status)
			if tc.field != "" && e.Field != tc.field {
				t.Errorf("field = %q, want %q (%s)", e.Field, tc.field, tc.r.body)
			}
			if e.Code == "" || e.Message == "" || !strings.ContainsAny(e.Message, "abcdefghijklmnopqrstuvwxyz") {
				t.Errorf("the API's own code and English are gone: %+v", e)
			}
			mustSayVietnamese(t, e.Said, e.Message, e.Field, tc.want...)
			for _, p := range e.Problems {
				mustSayVietnamese(t, p.Said, p.Message, p.Field)
			}
		})
	}

	t.Run("scripts get the API's words alone", func(t *testing.T) {
		e := saidOf(t, h.do("POST", "/api/v1/contests/bch/close", map[string]int{"issued": 5}, asAdmin), http.StatusConflict)
		if e.Said != "" || !strings.Contains(e.Message, "6 ballots were collected but only 5 issued") {
			t.Errorf("a token's error = %+v, want the English alone", e)
		}
	})

	t.Run("English pages say it in English", func(t *testing.T) {
		r := h.do("POST", "/api/v1/contests/bch/close?lang=en", map[string]int{"issued": 5}, admin)
		e := saidOf(t, r, http.StatusConflict)
		if !strings.HasPrefix(e.Said, "6 ballots were collected but only 5 issued") {
			t.Errorf("said in English = %q", e.Said)
		}
	})

	t.Run("the contest check says each problem", func(t *testing.T) {
		r := h.do("POST", "/api/v1/contests/check", noName, admin)
		mustStatus(t, r, http.StatusOK)
		var res struct {
			Problems []struct{ Field, Message, Said string }
		}
		decode(t, r, &res)
		if len(res.Problems) == 0 {
			t.Fatalf("no problems: %s", r.body)
		}
		for _, p := range res.Problems {
			mustSayVietnamese(t, p.Said, p.Message, p.Field)
		}
	})

	t.Run("error pages say no English", func(t *testing.T) {
		for _, path := range []string{"/contests/nhap/setup", "/contests/khong-co/desk"} {
			r := h.do("GET", path, nil, desk, withHeader("Accept", "text/html"))
			if r.status < 400 {
				t.Fatalf("%s = %d, want a refusal", path, r.status)
			}
			for _, en := range []string{"the counter role", "needs admin", "no contest", "not_found", "forbidden"} {
				if strings.Contains(string(r.body), en) {
					t.Errorf("%s shows %q", path, en)
				}
			}
		}
	})
}
