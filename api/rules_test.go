package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/tally"
)

// storeDraft stores a contest as POST …/next stores a later round, past the
// create handler's refusal of a round above 1.
func (h *harness) storeDraft(def map[string]any) {
	h.t.Helper()
	data, err := json.Marshal(def)
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := tally.ParseContest(data)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.CreateContest(context.Background(), &tally.Record{Contest: c, State: tally.StateDraft}); err != nil {
		h.t.Fatal(err)
	}
}

// warningsView is what the warnings tests read of a view or a check.
type warningsView struct {
	Warnings []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"warnings"`
}

func (v warningsView) codes() []string {
	out := []string{}
	for _, w := range v.Warnings {
		out = append(out, w.Code)
	}
	return out
}

// Audit B13: the surplus rule is waived only for a round linked to the
// one before it, which only /next makes; a typed "round": 2 is refused.
func TestCreateLaterRoundRefused(t *testing.T) {
	h := newHarness(t)
	// A committee of 3 with 3 names and no surplus: valid only as a
	// later round.
	def := with(contestDef("bch-r2"), "round", 2, "ballot", "approve", "candidates", []any{
		map[string]any{"id": "c1", "name": "Nguyễn Văn An"}, map[string]any{"id": "c2", "name": "Trần Thị Bình"},
		map[string]any{"id": "c3", "name": "Lê Văn Cường"}})
	e := mustError(t, h.do("POST", "/api/v1/contests", def, asAdmin), http.StatusBadRequest, "round")
	if !strings.Contains(e.Message, "/next") {
		t.Errorf("message %q does not say how a later round is made", e.Message)
	}
	mustStatus(t, h.do("GET", "/api/v1/contests/bch-r2", nil, asAdmin), http.StatusNotFound)

	// The live check says the same, as a problem of field round.
	var chk struct {
		Valid    bool `json:"valid"`
		Problems []struct {
			Field string `json:"field"`
		} `json:"problems"`
	}
	r := h.do("POST", "/api/v1/contests/check", def, asAdmin)
	mustStatus(t, r, http.StatusOK)
	decode(t, r, &chk)
	if chk.Valid || !slices.ContainsFunc(chk.Problems, func(p struct {
		Field string `json:"field"`
	}) bool {
		return p.Field == "round"
	}) {
		t.Errorf("check of round 2: valid %v, problems %+v; want a problem of field round", chk.Valid, chk.Problems)
	}
	// Round 1 is still created.
	mustStatus(t, h.do("POST", "/api/v1/contests", with(contestDef("bch-r1"), "round", 1), asAdmin), http.StatusCreated)
}

// Deliverable 6: warnings on the view and on the check; never a refusal.
func TestContestWarnings(t *testing.T) {
	h := newHarness(t)
	// Trần Thị Bình (head) and Lê Văn Cường, candidates c2 and c3 of
	// contestDef, are on congressDef's counting committee.
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressDef("dh-w"), asAdmin), http.StatusCreated)

	tests := []struct {
		name     string
		query    string
		def      map[string]any
		ballots  int // strike ballots striking c4, on D = 8
		want     []string
		inReason string
	}{
		{"clean", "", contestDef("w-clean"), 6, []string{}, ""},
		{"counting member on the list", "?congress=dh-w", contestDef("w-member"), 0,
			[]string{"counting_member_on_list", "counting_member_on_list"}, "Trần Thị Bình"},
		{"same full name", "", with(contestDef("w-dup"), "candidates", []any{
			map[string]any{"id": "c1", "name": "Nguyễn Văn An", "birth_date": "1970-01-02"},
			map[string]any{"id": "c2", "name": "Nguyễn Văn An", "birth_date": "1982-05-06"},
			map[string]any{"id": "c3", "name": "Lê Văn Cường"}, map[string]any{"id": "c4", "name": "Phạm Thị Dung"}}), 0,
			[]string{"duplicate_name"}, "Nguyễn Văn An"},
		// Audit B10: 9 ballots for D = 9 − 1 = 8.
		{"ballots over D", "", contestDef("w-over"), 9, []string{"collected_over_d", "valid_over_d", "votes_over_d"}, "D = 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.in(t)
			var chk warningsView
			r := h.do("POST", "/api/v1/contests/check"+tt.query, tt.def, asAdmin)
			mustStatus(t, r, http.StatusOK)
			decode(t, r, &chk)
			id := tt.def["id"].(string)
			r = h.do("POST", "/api/v1/contests"+tt.query, tt.def, asAdmin)
			mustStatus(t, r, http.StatusCreated)
			var created warningsView
			decode(t, r, &created)
			if tt.ballots > 0 {
				h.transition(id, "open", nil)
				h.castStrike(id, strikes(id, tt.ballots, "c4")...)
			}
			r = h.do("GET", "/api/v1/contests/"+id, nil, asAdmin)
			mustStatus(t, r, http.StatusOK)
			if !strings.Contains(string(r.body), `"warnings":[`) {
				t.Errorf("the view has no warnings list: %s", r.body)
			}
			var view warningsView
			decode(t, r, &view)
			if got := view.codes(); !slices.Equal(got, tt.want) {
				t.Errorf("view warnings = %v, want %v", got, tt.want)
			}
			// The check and the new draft know the list, not the ballots.
			listOnly := slices.DeleteFunc(slices.Clone(tt.want), func(c string) bool { return strings.HasSuffix(c, "_over_d") })
			if got := chk.codes(); !slices.Equal(got, listOnly) {
				t.Errorf("check warnings = %v, want %v", got, listOnly)
			}
			if got := created.codes(); !slices.Equal(got, listOnly) {
				t.Errorf("create warnings = %v, want %v", got, listOnly)
			}
			if tt.inReason != "" && !strings.Contains(view.Warnings[0].Message, tt.inReason) {
				t.Errorf("warning %q does not name %q", view.Warnings[0].Message, tt.inReason)
			}
		})
	}
	// A congress that does not exist is 404 on the check, as on create.
	mustError(t, h.do("POST", "/api/v1/contests/check?congress=nope", contestDef("w-x"), asAdmin), http.StatusNotFound, "congress")
}

// Audit B14: two candidates of one full name are told apart on the
// ballot paper by their birth years (the year only).
func TestBallotPaperSameName(t *testing.T) {
	h := newHarness(t)
	h.createContest(with(contestDef("dup"), "candidates", []any{
		map[string]any{"id": "c1", "name": "Nguyễn Văn An", "birth_date": "1970-01-02"},
		map[string]any{"id": "c2", "name": "Nguyễn Văn An", "birth_date": "1982-05-06"},
		map[string]any{"id": "c3", "name": "Lê Văn Cường", "birth_date": "1975-03-04"},
		map[string]any{"id": "c4", "name": "Phạm Thị Dung"}}))
	r := h.page("GET", "/contests/dup/ballot-paper", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	got := text(r.body)
	for _, want := range []string{"Nguyễn Văn An (sinh năm 1970)", "Nguyễn Văn An (sinh năm 1982)"} {
		if !strings.Contains(got, want) {
			t.Errorf("the ballot does not print %q:\n%s", want, got)
		}
	}
	// Only the namesakes: a unique name prints no year, nor the full date.
	for _, not := range []string{"sinh năm 1975", "1970-01-02", "02/01/1970"} {
		if strings.Contains(got, not) {
			t.Errorf("the ballot prints %q", not)
		}
	}
}

// Audit B14: a second void of one ballot with another reason is refused
// (the first reason stands); the same reason stays an idempotent retry.
// On both stores: each answers a second void with the first's receipt.
func TestVoidAnotherReason(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			be := b.open(t)
			cl := client{t: t, srv: api.New(be.store, api.Config{AdminToken: adminToken})}
			const id = "void2"
			mustStatus(t, cl.do("POST", "/api/v1/contests", contestDef(id), asAdmin), http.StatusCreated)
			mustStatus(t, cl.do("POST", "/api/v1/contests/"+id+"/open", nil, asAdmin), http.StatusOK)
			for _, bl := range strikes("b", 3, "c4") {
				mustStatus(t, cl.do("POST", "/api/v1/contests/"+id+"/ballots", bl, asAdmin), http.StatusCreated)
			}
			path := "/api/v1/contests/" + id + "/ballots/b-2/void"
			first := cl.do("POST", path, map[string]string{"reason": "nhập nhầm"}, asAdmin)
			mustStatus(t, first, http.StatusCreated)
			again := cl.do("POST", path, map[string]string{"reason": "nhập nhầm"}, asAdmin)
			mustStatus(t, again, http.StatusOK)
			if string(again.body) != string(first.body) {
				t.Errorf("retry = %s, want %s", again.body, first.body)
			}
			e := mustError(t, cl.do("POST", path, map[string]string{"reason": "phiếu rách"}, asAdmin), http.StatusConflict, "reason")
			if !strings.Contains(e.Message, "nhập nhầm") {
				t.Errorf("message %q does not name the reason recorded", e.Message)
			}
			entries, err := be.store.Entries(context.Background(), id, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(entries), 4; got != want {
				t.Errorf("log length = %d, want %d (3 ballots and one void)", got, want)
			}
		})
	}
}

// The round's page words each warning in Vietnamese, beside the D it
// concerns; the screen carries the words its script checks the figures
// with; the form offers truncation (audit B12) and says who
// temporary_elsewhere counts (B3).
func TestWarningsOnPages(t *testing.T) {
	h := newHarness(t)
	const id = "w-page"
	h.createContest(contestDef(id))
	h.transition(id, "open", nil)
	h.castStrike(id, strikes(id, 9, "c4")...) // 9 ballots for D = 8
	r := h.page("GET", "/contests/"+id+"/setup", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	got := text(r.body)
	for _, want := range []string{"Cần kiểm tra", "Số phiếu hợp lệ (9) lớn hơn số để tính tỷ lệ D = 8", "Số phiếu thu vào (9) lớn hơn D = 8"} {
		if !strings.Contains(got, want) {
			t.Errorf("the round's page does not say %q:\n%s", want, got)
		}
	}
	r = h.page("GET", "/contests/"+id+"/screen", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"warning.valid_over_d"`) || !strings.Contains(string(r.body), `id="warnings"`) {
		t.Error("the screen carries no warning words or no place for them")
	}
	r = h.page("GET", "/contests/new", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	got = text(r.body)
	for _, want := range []string{"Sinh hoạt tạm thời nơi khác, không về dự", "Cắt bỏ phần thừa", "12,19%"} {
		if !strings.Contains(got, want) {
			t.Errorf("the contest form does not say %q", want)
		}
	}
	if !strings.Contains(string(r.body), `class="exclusion" data-for="members body"`) {
		t.Error("the form does not offer suspended_or_detained to a committee meeting")
	}
}
