package api_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
)

// handsResult is the JSON of a tally.HandsResult.
type handsResult struct {
	ID          string `json:"id"`
	Subject     string `json:"subject"`
	Contest     string `json:"contest"`
	Present     int    `json:"present"`
	Approve     int    `json:"approve"`
	Recorded    string `json:"recorded"`
	By          string `json:"by"`
	Denominator *int   `json:"denominator"`
	Passed      *bool  `json:"passed"`
	Unanimous   bool   `json:"unanimous"`
	Share       struct {
		Text string `json:"percent_text"`
	} `json:"approve_share"`
}

func (r handsResult) passed() string {
	if r.Passed == nil {
		return "null"
	}
	return fmt.Sprint(*r.Passed)
}

// congressWithD is a congress record whose own D is 21 (23 convened, 2
// absent with leave), without votes.
func congressWithD(id string) map[string]any {
	cg := congressDef(id)
	delete(cg, "votes")
	cg["electorate"] = map[string]any{"congress": "members", "convened": 23, "exclusions": map[string]any{"absent_with_leave": 2}}
	return cg
}

// TestExampleB1ShowOfHandsBase is the audit's case B1 (rules.md,
// 24-api-show-of-hands-base), as an API example: D = 21, 17 present, the
// list approved by 10 — "không thông qua", 10 ≤ 10.5 of 21 members (Charter
// Điều 9.5; Quy định 294-QĐ/TW §9.3). The old rule (of those present) said
// passed at 58,82%.
func TestExampleB1ShowOfHandsBase(t *testing.T) {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressWithD("dh-b1"), asAdmin), http.StatusCreated)
	def := contestDef("bch-b1")
	def["electorate"] = map[string]any{"congress": "members", "convened": 21}
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-b1", def, asAdmin), http.StatusCreated)

	for _, tt := range []struct {
		name   string
		vote   map[string]any
		d      string
		passed string
		share  string
	}{
		{"B1: the list, 10 of D = 21 with 17 present", map[string]any{"subject": "list", "contest": "bch-b1", "present": 17, "approve": 10, "disapprove": 5, "other": 2}, "21", "false", "47,62%"},
		{"the list, 11 of D = 21", map[string]any{"subject": "list", "contest": "bch-b1", "present": 17, "approve": 11, "disapprove": 6, "other": 0}, "21", "true", "52,38%"},
		{"the presidium on the congress's D", map[string]any{"subject": "presidium", "present": 17, "approve": 17}, "21", "true", "80,95%"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("POST", "/api/v1/congresses/dh-b1/votes", tt.vote, asAdmin)
			mustStatus(t, r, http.StatusCreated)
			var got handsResult
			decode(t, r, &got)
			if d := fmt.Sprint(*got.Denominator); d != tt.d || got.passed() != tt.passed || got.Share.Text != tt.share {
				t.Errorf("D %s, passed %s, share %s; want %s, %s, %s", d, got.passed(), got.Share.Text, tt.d, tt.passed, tt.share)
			}
		})
	}
}

func TestVotes(t *testing.T) {
	h := newHarness(t)
	cg := congressDef("dh-v")
	delete(cg, "votes")
	mustStatus(t, h.do("POST", "/api/v1/congresses", cg, asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-v", contestDef("bch-v"), asAdmin), http.StatusCreated) // D = 8
	h.createContest(contestDef("loose"))

	// Without any D: figures only, passed null, shares of those present.
	r := h.do("POST", "/api/v1/congresses/dh-v/votes", map[string]any{"subject": "counting_committee", "id": "mine", "recorded": "2000-01-01T00:00:00Z", "present": 8, "approve": 5, "disapprove": 3}, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	var v1 handsResult
	decode(t, r, &v1)
	if v1.ID != "v1" || v1.Passed != nil || v1.Denominator != nil || v1.Share.Text != "62,50%" || v1.By != "admin" || v1.Recorded != h.clock.Now().UTC().Format(time.RFC3339) {
		t.Errorf("vote without D = %+v; want id v1 (the server's), passed and D null, 62,50%% of those present, recorded now by admin", v1)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/congresses/dh-v/votes/v1" {
		t.Errorf("Location = %q", loc)
	}
	// Every subject, on the contest's D (8).
	for i, v := range []map[string]any{
		{"subject": "seats", "contest": "bch-v", "present": 8, "approve": 8},
		{"subject": "withdrawal", "contest": "bch-v", "candidate": "c3", "present": 8, "approve": 4, "disapprove": 4},
		{"subject": "another_round", "contest": "bch-v", "present": 7, "approve": 5},
		{"subject": "presidium", "present": 8, "approve": 8},
		{"subject": "secretariat", "present": 8, "approve": 8},
		{"subject": "credentials_committee", "present": 8, "approve": 8},
		{"subject": "other", "title": "Thông qua chương trình đại hội", "present": 8, "approve": 8},
	} {
		r := h.do("POST", "/api/v1/congresses/dh-v/votes", v, asAdmin)
		mustStatus(t, r, http.StatusCreated)
		var got handsResult
		decode(t, r, &got)
		if want := fmt.Sprintf("v%d", i+2); got.ID != want {
			t.Errorf("%v: id %s, want %s", v, got.ID, want)
		}
		if v["contest"] != nil && (got.Denominator == nil || *got.Denominator != 8) {
			t.Errorf("%v: D = %v, want the contest's 8", v, got.Denominator)
		}
	}
	var list struct{ Votes []handsResult }
	decode(t, h.do("GET", "/api/v1/congresses/dh-v/votes", nil, asAdmin), &list)
	if len(list.Votes) != 8 || list.Votes[2].passed() != "false" || list.Votes[3].passed() != "true" {
		t.Fatalf("votes = %+v", list.Votes)
	}

	// Refusals, each naming its field; nothing is stored.
	for _, tt := range []struct {
		name   string
		vote   any
		status int
		field  string
	}{
		{"unknown contest", map[string]any{"subject": "list", "contest": "nope", "present": 8, "approve": 8}, 400, "contest"},
		{"contest of no congress", map[string]any{"subject": "list", "contest": "loose", "present": 8, "approve": 8}, 400, "contest"},
		{"candidate not on the list", map[string]any{"subject": "withdrawal", "contest": "bch-v", "candidate": "c9", "present": 8, "approve": 8}, 400, "candidate"},
		{"withdrawal without candidate", map[string]any{"subject": "withdrawal", "contest": "bch-v", "present": 8, "approve": 8}, 400, "candidate"},
		{"another round without contest", map[string]any{"subject": "another_round", "present": 8, "approve": 8}, 400, "contest"},
		{"other without title", map[string]any{"subject": "other", "present": 8, "approve": 8}, 400, "title"},
		{"present over the contest's D", map[string]any{"subject": "seats", "contest": "bch-v", "present": 9, "approve": 8}, 400, "present"},
		{"votes over present", map[string]any{"subject": "presidium", "present": 8, "approve": 8, "other": 1}, 400, "present"},
		{"unknown subject", map[string]any{"subject": "budget", "present": 8, "approve": 8}, 400, "subject"},
		{"unknown field", `{"subject":"presidium","present":8,"approve":8,"abstain":0}`, 400, "abstain"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustError(t, h.do("POST", "/api/v1/congresses/dh-v/votes", tt.vote, asAdmin), tt.status, tt.field)
		})
	}
	mustError(t, h.do("POST", "/api/v1/congresses/nope/votes", map[string]any{"subject": "presidium", "present": 8, "approve": 8}, asAdmin), 404, "congress")
	decode(t, h.do("GET", "/api/v1/congresses/dh-v/votes", nil, asAdmin), &list)
	if len(list.Votes) != 8 {
		t.Fatalf("%d votes after refusals, want 8", len(list.Votes))
	}

	// The congress's D decides the votes naming no contest, at read time.
	decode(t, h.do("GET", "/api/v1/congresses/dh-v", nil, asAdmin), &cg)
	cg["electorate"] = map[string]any{"congress": "members", "convened": 10}
	mustStatus(t, h.do("PUT", "/api/v1/congresses/dh-v", cg, asAdmin), http.StatusOK)
	decode(t, h.do("GET", "/api/v1/congresses/dh-v/votes", nil, asAdmin), &list)
	if v := list.Votes[0]; v.passed() != "false" || *v.Denominator != 10 || v.Share.Text != "50,00%" {
		t.Errorf("5 of the congress's D = 10: %+v; want not passed, 50,00%%", v)
	}
	if v := list.Votes[0]; v.Recorded != v1.Recorded || v.By != "admin" {
		t.Errorf("PUT changed the time or author of v1: %+v", v)
	}
	// A PUT that sends the votes without their ids keeps each one's id
	// and time; an id the record does not hold is replaced by the next.
	var bare map[string]any
	decode(t, h.do("GET", "/api/v1/congresses/dh-v", nil, asAdmin), &bare)
	vs := bare["votes"].([]any)
	for _, v := range vs {
		delete(v.(map[string]any), "id")
		delete(v.(map[string]any), "recorded")
	}
	bare["votes"] = append(vs, map[string]any{"id": "v1000", "subject": "secretariat", "present": 8, "approve": 8})
	r = h.do("PUT", "/api/v1/congresses/dh-v", bare, asAdmin)
	mustStatus(t, r, http.StatusOK)
	var kept struct {
		Votes []struct{ ID, Recorded string }
	}
	decode(t, r, &kept)
	if len(kept.Votes) != 9 || kept.Votes[0].ID != "v1" || kept.Votes[0].Recorded != v1.Recorded || kept.Votes[7].ID != "v8" || kept.Votes[8].ID != "v9" {
		t.Errorf("votes after a PUT without ids = %+v; want v1…v8 kept with their times, the new one v9", kept.Votes)
	}
	mustStatus(t, h.do("DELETE", "/api/v1/congresses/dh-v/votes/v9", nil, asAdmin), http.StatusNoContent)
	decode(t, h.do("GET", "/api/v1/congresses/dh-v", nil, asAdmin), &cg)
	// present > the congress's D is refused on PUT as on POST.
	cg["electorate"] = map[string]any{"congress": "members", "convened": 7}
	mustError(t, h.do("PUT", "/api/v1/congresses/dh-v", cg, asAdmin), 400, "votes[0].present")

	// Deletion.
	mustStatus(t, h.do("DELETE", "/api/v1/congresses/dh-v/votes/v2", nil, asAdmin), http.StatusNoContent)
	mustError(t, h.do("DELETE", "/api/v1/congresses/dh-v/votes/v2", nil, asAdmin), 404, "vote")
	// The next id is never one already given out to a vote still there.
	r = h.do("POST", "/api/v1/congresses/dh-v/votes", map[string]any{"subject": "presidium", "present": 8, "approve": 8}, asAdmin)
	var next handsResult
	decode(t, r, &next)
	if next.ID != "v10" {
		t.Errorf("next id = %s, want v10 (v9 was given and deleted)", next.ID)
	}
	// A viewer reads; only an admin records or deletes.
	var issued struct{ Token string }
	decode(t, h.do("POST", "/api/v1/tokens", map[string]string{"role": "viewer", "name": "Thư ký"}, asAdmin), &issued)
	tok := issued.Token
	mustStatus(t, h.do("GET", "/api/v1/congresses/dh-v/votes", nil, bearer(tok)), http.StatusOK)
	mustStatus(t, h.do("POST", "/api/v1/congresses/dh-v/votes", map[string]any{"subject": "presidium", "present": 8, "approve": 8}, bearer(tok)), http.StatusForbidden)
	mustStatus(t, h.do("DELETE", "/api/v1/congresses/dh-v/votes/v10", nil, bearer(tok)), http.StatusForbidden)
}

// Once a round is certified, what its minutes print cannot change — the
// header, the counting committee, the congress's D and the votes printed
// there — and anything else can: the first meeting still votes after the
// committee is certified.
func TestVotesFreeze(t *testing.T) {
	h := newHarness(t)
	cg := congressWithD("dh-f")
	mustStatus(t, h.do("POST", "/api/v1/congresses", cg, asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-f", contestDef("bch-f"), asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-f", contestDef("ubkt-f"), asAdmin), http.StatusCreated)
	post := func(v map[string]any) string {
		t.Helper()
		r := h.do("POST", "/api/v1/congresses/dh-f/votes", v, asAdmin)
		mustStatus(t, r, http.StatusCreated)
		var got handsResult
		decode(t, r, &got)
		return got.ID
	}
	general := post(map[string]any{"subject": "counting_committee", "present": 20, "approve": 20})
	own := post(map[string]any{"subject": "list", "contest": "bch-f", "present": 8, "approve": 8})
	other := post(map[string]any{"subject": "list", "contest": "ubkt-f", "present": 8, "approve": 8})
	mustStatus(t, h.do("POST", "/api/v1/contests/bch-f/open", nil, asAdmin), http.StatusOK)
	h.transition("bch-f", "close", map[string]int{"issued": 0})
	h.transition("bch-f", "certify", nil)
	h.clock.Advance(time.Minute)

	// Printed on bch-f's minutes: no deletion.
	mustError(t, h.do("DELETE", "/api/v1/congresses/dh-f/votes/"+general, nil, asAdmin), http.StatusConflict, "vote")
	mustError(t, h.do("DELETE", "/api/v1/congresses/dh-f/votes/"+own, nil, asAdmin), http.StatusConflict, "vote")
	// Not printed there: free.
	mustStatus(t, h.do("DELETE", "/api/v1/congresses/dh-f/votes/"+other, nil, asAdmin), http.StatusNoContent)
	later := post(map[string]any{"subject": "another_round", "contest": "bch-f", "present": 8, "approve": 8})
	mustStatus(t, h.do("DELETE", "/api/v1/congresses/dh-f/votes/"+later, nil, asAdmin), http.StatusNoContent)
	post(map[string]any{"subject": "secretariat", "present": 20, "approve": 20})

	var stored map[string]any
	decode(t, h.do("GET", "/api/v1/congresses/dh-f", nil, asAdmin), &stored)
	put := func(change func(map[string]any)) *response {
		t.Helper()
		var rec map[string]any
		decode(t, h.do("GET", "/api/v1/congresses/dh-f", nil, asAdmin), &rec)
		change(rec)
		return h.do("PUT", "/api/v1/congresses/dh-f", rec, asAdmin)
	}
	for _, tt := range []struct {
		name   string
		change func(map[string]any)
		field  string
	}{
		{"header", func(r map[string]any) { r["place"] = "Nơi khác" }, "place"},
		{"organization", func(r map[string]any) { r["organization"] = "Chi bộ 4" }, "organization"},
		{"counting committee", func(r map[string]any) {
			r["counting_committee"] = []any{map[string]string{"name": "Ai Đó", "role": "head"}}
		}, "counting_committee"},
		{"the congress's D", func(r map[string]any) { r["electorate"] = map[string]any{"congress": "members", "convened": 30} }, "electorate"},
		{"a printed vote changed", func(r map[string]any) { r["votes"].([]any)[0].(map[string]any)["approve"] = 19 }, "votes"},
		{"a printed vote removed", func(r map[string]any) { r["votes"] = r["votes"].([]any)[1:] }, "votes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustError(t, put(tt.change), http.StatusConflict, tt.field)
		})
	}
	// A vote recorded after the certification may change; new votes may be
	// added by PUT too (they get an id and the time of the PUT).
	r := put(func(r map[string]any) {
		vs := r["votes"].([]any)
		vs[len(vs)-1].(map[string]any)["approve"] = 19
		r["votes"] = append(vs, map[string]any{"subject": "other", "title": "Bế mạc", "present": 20, "approve": 20})
	})
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"id":"v6"`) {
		t.Errorf("a vote added by PUT has no id v6: %s", r.body)
	}
	// The certified minutes print the votes up to the certification only.
	m := h.do("GET", "/contests/bch-f/minutes", nil, asAdmin)
	mustStatus(t, m, http.StatusOK)
	for _, want := range []string{"Ban Kiểm phiếu", "Danh sách bầu cử"} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("certified minutes lack %q", want)
		}
	}
	for _, gone := range []string{"Đoàn Thư ký", "Bế mạc"} {
		if strings.Contains(string(m.body), gone) {
			t.Errorf("certified minutes print %q, a vote recorded after the certification", gone)
		}
	}
}

// Votes recorded at once on two instances of one Redis (or on bolt) are
// all kept, with distinct ids: the congress record is changed by
// compare-and-set, never overwritten.
func TestVotesConcurrent(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			be := b.open(t)
			clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
			srvs := []*api.Server{api.New(be.store, api.Config{AdminToken: adminToken, Now: clock.Now}), api.New(be.store, api.Config{AdminToken: adminToken, Now: clock.Now})}
			cg := congressDef("dh-c")
			delete(cg, "votes")
			mustStatus(t, doApp(t, srvs[0], "POST", "/api/v1/congresses", cg, asAdmin), http.StatusCreated)
			const n = 24
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := doApp(t, srvs[i%2], "POST", "/api/v1/congresses/dh-c/votes", map[string]any{"subject": "other", "title": fmt.Sprintf("Quyết định %d", i), "present": 9, "approve": 9}, asAdmin)
					if r.status != http.StatusCreated {
						t.Errorf("vote %d: %s", i, r)
					}
				}()
			}
			wg.Wait()
			var list struct{ Votes []handsResult }
			decode(t, doApp(t, srvs[1], "GET", "/api/v1/congresses/dh-c/votes", nil, asAdmin), &list)
			ids := map[string]bool{}
			for _, v := range list.Votes {
				ids[v.ID] = true
			}
			if len(list.Votes) != n || len(ids) != n {
				t.Errorf("%d votes with %d ids, want %d of each", len(list.Votes), len(ids), n)
			}
		})
	}
}

// The congress page records and deletes votes and sets the congress's D
// with plain forms; a refusal is said in Vietnamese, naming the field by
// its label.
func TestVotesPageForms(t *testing.T) {
	h := newHarness(t)
	cg := congressDef("dh-p")
	delete(cg, "votes")
	mustStatus(t, h.do("POST", "/api/v1/congresses", cg, asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=dh-p", contestDef("bch-p"), asAdmin), http.StatusCreated)
	h.seedUser("thuky", "mat-khau-dai-du", "admin")
	s := h.login("thuky", "mat-khau-dai-du")
	form := func(path string, v url.Values) *response {
		v.Set("_csrf", s.csrf)
		return h.page("POST", path, v.Encode(), withCookie(s), withHeader("Content-Type", "application/x-www-form-urlencoded"))
	}
	r := form("/congresses/dh-p/electorate", url.Values{"congress": {"members"}, "convened": {"23"}, "absent_with_leave": {"2"}, "committee_absent": {"5"}})
	mustStatus(t, r, http.StatusSeeOther)
	r = form("/congresses/dh-p/votes", url.Values{"subject": {"presidium"}, "present": {"17"}, "approve": {"10"}, "disapprove": {"7"}})
	mustStatus(t, r, http.StatusSeeOther)
	page := h.page("GET", "/congresses/dh-p/setup", nil, withCookie(s))
	body := html.UnescapeString(string(page.body))
	for _, want := range []string{"D = 21", "23 − 0 − 0 − 0 − 2 = 21", "47,62%", `class="failed">không thông qua`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, tt := range []struct {
		name   string
		path   string
		v      url.Values
		status int
		want   string
	}{
		{"present over D", "/congresses/dh-p/votes", url.Values{"subject": {"presidium"}, "present": {"22"}, "approve": {"12"}}, 400, "Có mặt: số có mặt (22) nhiều hơn D (21)"},
		{"withdrawal without candidate", "/congresses/dh-p/votes", url.Values{"subject": {"withdrawal"}, "contest": {"bch-p"}, "present": {"8"}, "approve": {"5"}}, 400, "Người xin rút (chỉ khi cho rút tên): biểu quyết cho rút tên phải chọn người xin rút"},
		{"other without title", "/congresses/dh-p/votes", url.Values{"subject": {"other"}, "present": {"8"}, "approve": {"5"}}, 400, "Ghi chú: với “Quyết định khác”"},
		{"no convened type", "/congresses/dh-p/electorate", url.Values{"congress": {"party"}, "convened": {"20"}}, 400, "Loại đại hội: chọn loại đại hội"},
		{"unknown vote", "/congresses/dh-p/votes/v9/delete", url.Values{}, 404, "không có biểu quyết v9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := form(tt.path, tt.v)
			mustStatus(t, r, tt.status)
			if got := text(r.body); !strings.Contains(got, tt.want) {
				t.Errorf("the refusal lacks %q", tt.want)
			}
		})
	}
	mustStatus(t, form("/congresses/dh-p/votes/v1/delete", url.Values{}), http.StatusSeeOther)
	var list struct{ Votes []handsResult }
	decode(t, h.do("GET", "/api/v1/congresses/dh-p/votes", nil, asAdmin), &list)
	if len(list.Votes) != 0 {
		t.Errorf("votes after the deletion: %+v", list.Votes)
	}
}
