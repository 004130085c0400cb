package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// listRecord is a round's record with the list's changes.
type listRecord struct {
	record
	Congress string             `json:"congress"`
	Changes  []tally.ListChange `json:"changes"`
}

func (h *harness) getList(id string) listRecord {
	h.t.Helper()
	r := h.do("GET", "/api/v1/contests/"+id, nil, asAdmin)
	mustStatus(h.t, r, http.StatusOK)
	var rec listRecord
	decode(h.t, r, &rec)
	return rec
}

// listCongress files a congress with two show-of-hands votes, v1 and v2.
func (h *harness) listCongress(id string) {
	h.t.Helper()
	cg := map[string]any{"id": id, "organization": "Chi bộ 3", "name": "Đại hội Chi bộ 3",
		"votes": []any{
			map[string]any{"id": "v1", "subject": "other", "title": "Cho đồng chí Dung rút khỏi danh sách", "present": 9, "approve": 8, "disapprove": 1, "other": 0},
			map[string]any{"id": "v2", "subject": "other", "title": "Bổ sung đồng chí Em vào danh sách", "present": 9, "approve": 7, "disapprove": 2, "other": 0},
		}}
	mustStatus(h.t, h.do("POST", "/api/v1/congresses", cg, asAdmin), http.StatusCreated)
}

// delegatesDef is contestDef as delegates (no surplus rule of Điều 14).
func delegatesDef(id string) map[string]any {
	return with(contestDef(id), "kind", "delegates", "title", "Bầu đại biểu dự Đại hội cấp trên")
}

func TestPutContest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.listCongress("cg")
	r := h.do("POST", "/api/v1/contests?congress=cg", contestDef("put"), asAdmin)
	mustStatus(t, r, http.StatusCreated)
	before := h.getList("put")

	fixed := contestDef("put")
	cands := slices.Clone(fixed["candidates"].([]any))
	cands[3] = map[string]any{"id": "c4", "name": "Phạm Thị Dung Hạnh", "gender": "female"}
	fixed["candidates"] = cands

	for _, tt := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"another id", contestDef("other"), 400, "id"},
		{"invalid", with(fixed, "seats", 0), 400, "seats"},
		{"a later round typed in", with(fixed, "round", 2), 400, "round"},
		{"unknown field", with(fixed, "seat", 3), 400, "seat"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustError(t, h.in(t).do("PUT", "/api/v1/contests/put", tt.body, asAdmin), tt.status, tt.field)
		})
	}
	mustError(t, h.do("PUT", "/api/v1/contests/nope", with(fixed, "id", "nope"), asAdmin), http.StatusNotFound, "")
	if got := h.getList("put"); !slices.Contains(candidateNames(got.Contest), "Phạm Thị Dung") {
		t.Fatalf("a refused PUT changed the draft: %+v", got.Contest.Candidates)
	}

	r = h.do("PUT", "/api/v1/contests/put", fixed, asAdmin)
	mustStatus(t, r, http.StatusOK)
	after := h.getList("put")
	if got, want := candidateNames(after.Contest), []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung Hạnh"}; !sameSet(got, want) {
		t.Errorf("candidates after PUT = %v, want %v", got, want)
	}
	if after.Created != before.Created || after.Congress != "cg" || after.State != tally.StateDraft {
		t.Errorf("PUT lost the record's fields: %+v (was %+v)", after, before)
	}

	// Opened on the new definition: a ballot is judged against it (the
	// contest cache never held the draft), and PUT is now refused.
	h.transition("put", "open", nil)
	var rc receipt
	res := h.postBallot("put", tally.Ballot{ID: "b1", Struck: []string{"c4"}})
	mustStatus(t, res, http.StatusCreated)
	decode(t, res, &rc)
	var result tally.Result
	decode(t, h.do("GET", "/api/v1/contests/put/result", nil, asAdmin), &result)
	for _, cr := range result.Candidates {
		if cr.ID == "c4" && cr.Name != "Phạm Thị Dung Hạnh" {
			t.Errorf("the result names c4 %q, not the corrected name", cr.Name)
		}
	}
	mustError(t, h.do("PUT", "/api/v1/contests/put", fixed, asAdmin), http.StatusConflict, "state")

	t.Run("a round made by next keeps its round number", func(t *testing.T) {
		h := h.in(t)
		h.openContest(contestDef("pn"))
		h.castStrike("pn", strikes("v", 6, "c3", "c4")...) // c1, c2 elected; 1 vacant
		h.transition("pn", "close", map[string]int{"issued": 6})
		mustStatus(t, h.do("POST", "/api/v1/contests/pn/next", nil, asAdmin), http.StatusCreated)
		// The form sends round 1 (its default): the round stays 2, and a
		// list without surplus is fine for a later round.
		body := with(contestDef("pn-r2"), "seats", 1, "ballot", "strike", "round", 1,
			"candidates", []any{map[string]any{"id": "c3", "name": "Lê Văn Cường"}, map[string]any{"id": "c4", "name": "Phạm Thị Dung"}})
		mustStatus(t, h.do("PUT", "/api/v1/contests/pn-r2", body, asAdmin), http.StatusOK)
		got := h.getList("pn-r2")
		if got.Contest.Round != 2 || got.Previous != "pn" {
			t.Errorf("round %d previous %q, want 2 and pn", got.Contest.Round, got.Previous)
		}
	})
}

func candidateNames(c *tally.Contest) []string {
	var out []string
	for _, cand := range c.Candidates {
		out = append(out, cand.Name)
	}
	return out
}

func TestDeleteContestAndCongress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.listCongress("cg")
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", contestDef("d1"), asAdmin), http.StatusCreated)
	mustStatus(t, h.do("PUT", "/api/v1/contests/d1/notes", map[string]any{"present": 8}, asAdmin), http.StatusOK)

	t.Run("a congress with rounds", func(t *testing.T) {
		e := mustError(t, h.in(t).do("DELETE", "/api/v1/congresses/cg", nil, asAdmin), http.StatusConflict, "congress")
		if !strings.Contains(e.Message, "d1") {
			t.Errorf("the refusal does not name the round: %s", e.Message)
		}
	})

	r := h.do("DELETE", "/api/v1/contests/d1", nil, asAdmin)
	mustStatus(t, r, http.StatusNoContent)
	mustError(t, h.do("GET", "/api/v1/contests/d1", nil, asAdmin), http.StatusNotFound, "")
	mustError(t, h.do("DELETE", "/api/v1/contests/d1", nil, asAdmin), http.StatusNotFound, "")
	// Its notes went with it: the same id made again starts clean.
	h.createContest(contestDef("d1"))
	var notes tally.RoundNotes
	decode(t, h.do("GET", "/api/v1/contests/d1/notes", nil, asAdmin), &notes)
	if notes.Present != nil {
		t.Errorf("the re-made draft has the deleted one's notes: %+v", notes)
	}

	mustStatus(t, h.do("DELETE", "/api/v1/congresses/cg", nil, asAdmin), http.StatusNoContent)
	mustError(t, h.do("GET", "/api/v1/congresses/cg", nil, asAdmin), http.StatusNotFound, "")
	mustError(t, h.do("DELETE", "/api/v1/congresses/cg", nil, asAdmin), http.StatusNotFound, "")

	t.Run("opened", func(t *testing.T) {
		h := h.in(t)
		h.openContest(contestDef("d2"))
		mustError(t, h.do("DELETE", "/api/v1/contests/d2", nil, asAdmin), http.StatusConflict, "state")
		h.transition("d2", "close", map[string]int{"issued": 0})
		mustError(t, h.do("DELETE", "/api/v1/contests/d2", nil, asAdmin), http.StatusConflict, "state")
	})

	t.Run("a next round, then next again", func(t *testing.T) {
		h := h.in(t)
		h.openContest(contestDef("d3"))
		h.castStrike("d3", strikes("v", 6, "c3", "c4")...)
		h.transition("d3", "close", map[string]int{"issued": 6})
		mustStatus(t, h.do("POST", "/api/v1/contests/d3/next", nil, asAdmin), http.StatusCreated)
		mustStatus(t, h.do("DELETE", "/api/v1/contests/d3-r2", nil, asAdmin), http.StatusNoContent)
		prev := h.getList("d3")
		if prev.Next != "" || prev.NextRound != "further" {
			t.Fatalf("after deleting its next round: next %q, next_round %q; want none and further", prev.Next, prev.NextRound)
		}
		add := map[string]any{"add": []any{map[string]any{"id": "c9", "name": "Võ Văn Em"}}}
		r := h.do("POST", "/api/v1/contests/d3/next", add, asAdmin)
		mustStatus(t, r, http.StatusCreated)
		if got := h.getList("d3").Next; got != "d3-r2" {
			t.Errorf("next = %q, want d3-r2", got)
		}
	})

	t.Run("audited", func(t *testing.T) {
		evs, _ := auditOf(t, h.srv)
		var got []string
		for _, ev := range evs {
			if ev.Method == "DELETE" {
				got = append(got, fmt.Sprintf("%s %s %d", ev.Method, ev.Path, ev.Status))
			}
		}
		for _, want := range []string{"DELETE /api/v1/contests/d1 204", "DELETE /api/v1/congresses/cg 409", "DELETE /api/v1/congresses/cg 204", "DELETE /api/v1/contests/d2 409"} {
			if !slices.Contains(got, want) {
				t.Errorf("no audit line %q in %v", want, got)
			}
		}
	})
}

func TestWithdrawal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.listCongress("cg")
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", delegatesDef("w"), asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", contestDef("wc"), asAdmin), http.StatusCreated)
	h.createContest(delegatesDef("alone")) // no congress
	long := strings.Repeat("lý do ", 100)

	for _, tt := range []struct {
		name, contest string
		body          any
		status        int
		field         string
	}{
		{"no body", "w", nil, 400, ""},
		{"no candidate", "w", map[string]any{"reason": "sức khỏe"}, 400, "candidate"},
		{"unknown candidate", "w", map[string]any{"candidate": "c9"}, 400, "candidate"},
		{"unknown vote", "w", map[string]any{"candidate": "c4", "vote": "v9"}, 400, "vote"},
		{"a vote without a congress", "alone", map[string]any{"candidate": "c4", "vote": "v1"}, 400, "vote"},
		{"a reason too long", "w", map[string]any{"candidate": "c4", "reason": long}, 400, "reason"},
		{"unknown field", "w", map[string]any{"candidate": "c4", "votes": "v1"}, 400, "votes"},
		// 3 committee seats need a surplus: 3 names cannot be a list.
		{"breaks the surplus", "wc", map[string]any{"candidate": "c4", "vote": "v1"}, 400, "candidates"},
		{"no such round", "nope", map[string]any{"candidate": "c4"}, 404, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustError(t, h.in(t).do("POST", "/api/v1/contests/"+tt.contest+"/withdrawals", tt.body, asAdmin), tt.status, tt.field)
		})
	}
	for _, id := range []string{"w", "wc"} {
		if got := h.getList(id); len(got.Contest.Candidates) != 4 || len(got.Changes) != 0 {
			t.Fatalf("a refused withdrawal changed %s: %+v", id, got)
		}
	}

	r := h.do("POST", "/api/v1/contests/w/withdrawals", map[string]any{"candidate": "c4", "reason": "Vì lý do  sức khỏe", "vote": "v1"}, asAdmin)
	mustStatus(t, r, http.StatusOK)
	var view listRecord
	decode(t, r, &view)
	stored := h.getList("w")
	for _, rec := range []listRecord{view, stored} {
		if got, want := candidateIDs(rec.Contest), []string{"c1", "c2", "c3"}; !sameSet(got, want) {
			t.Errorf("candidates = %v, want %v", got, want)
		}
		// Three names for three seats: the only ballot is approve.
		if rec.Contest.Ballot != tally.StyleApprove {
			t.Errorf("ballot = %s, want approve", rec.Contest.Ballot)
		}
		want := tally.ListChange{Action: tally.ChangeWithdraw, Candidate: "c4", Name: "Phạm Thị Dung", Reason: "Vì lý do sức khỏe", Vote: "v1", By: "admin", Time: h.clock.Now().UTC().Format("2006-01-02T15:04:05Z07:00")}
		if len(rec.Changes) != 1 || rec.Changes[0] != want {
			t.Errorf("changes = %+v, want [%+v]", rec.Changes, want)
		}
	}
	mustError(t, h.do("POST", "/api/v1/contests/w/withdrawals", map[string]any{"candidate": "c4"}, asAdmin), http.StatusBadRequest, "candidate")

	h.transition("w", "open", nil)
	mustError(t, h.do("POST", "/api/v1/contests/w/withdrawals", map[string]any{"candidate": "c3"}, asAdmin), http.StatusConflict, "state")
	desk := h.issueToken("counter", "Bàn 1")
	mustError(t, h.do("POST", "/api/v1/contests/alone/withdrawals", map[string]any{"candidate": "c3"}, bearer(desk)), http.StatusForbidden, "")
}

func TestNomination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.listCongress("cg")
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", delegatesDef("n"), asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", contestDef("other-round"), asAdmin), http.StatusCreated)
	nominee := map[string]any{"name": "Võ  Văn Em", "gender": "male", "birth_date": "1980-05-01"}

	for _, tt := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no source", map[string]any{"candidate": nominee, "vote": "v2"}, 400, "source"},
		{"committee is no nomination", map[string]any{"candidate": nominee, "source": "committee", "vote": "v2"}, 400, "source"},
		{"nobody decided", map[string]any{"candidate": nominee, "source": "floor"}, 400, "vote"},
		{"unknown vote", map[string]any{"candidate": nominee, "source": "floor", "vote": "v7"}, 400, "vote"},
		{"unknown opinion ballot", map[string]any{"candidate": nominee, "source": "self", "opinion": "nope"}, 400, "opinion"},
		{"not an opinion ballot", map[string]any{"candidate": nominee, "source": "self", "opinion": "other-round"}, 400, "opinion"},
		{"no name", map[string]any{"candidate": map[string]any{"gender": "male"}, "source": "floor", "vote": "v2"}, 400, "candidate.name"},
		{"a taken id", map[string]any{"candidate": map[string]any{"id": "c1", "name": "Võ Văn Em"}, "source": "floor", "vote": "v2"}, 400, "candidate.id"},
		{"a bad birth date", map[string]any{"candidate": map[string]any{"name": "Võ Văn Em", "birth_date": "1980-13-01"}, "source": "floor", "vote": "v2"}, 400, "candidate.birth_date"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustError(t, h.in(t).do("POST", "/api/v1/contests/n/nominations", tt.body, asAdmin), tt.status, tt.field)
		})
	}
	if got := h.getList("n"); len(got.Contest.Candidates) != 4 || len(got.Changes) != 0 {
		t.Fatalf("a refused nomination changed the draft: %+v", got)
	}

	r := h.do("POST", "/api/v1/contests/n/nominations", map[string]any{"candidate": nominee, "source": "floor", "vote": "v2", "reason": "Đoàn đại biểu số 2 đề cử"}, asAdmin)
	mustStatus(t, r, http.StatusOK)
	got := h.getList("n")
	var em *tally.Candidate
	for i := range got.Contest.Candidates {
		if got.Contest.Candidates[i].Name == "Võ Văn Em" {
			em = &got.Contest.Candidates[i]
		}
	}
	if em == nil || em.ID != "c5" || em.Nominated != tally.NominatedFloor || em.BirthDate != "1980-05-01" {
		t.Fatalf("the nominee as stored: %+v (list %+v)", em, got.Contest.Candidates)
	}
	want := tally.ListChange{Action: tally.ChangeNominate, Candidate: "c5", Name: "Võ Văn Em", Source: tally.NominatedFloor, Reason: "Đoàn đại biểu số 2 đề cử", Vote: "v2", By: "admin", Time: got.Changes[0].Time}
	if len(got.Changes) != 1 || got.Changes[0] != want || got.Changes[0].Time == "" {
		t.Errorf("changes = %+v, want [%+v]", got.Changes, want)
	}
	if got.Contest.Ballot != tally.StyleStrike || len(got.Contest.Candidates) != 5 {
		t.Errorf("ballot %s with %d names", got.Contest.Ballot, len(got.Contest.Candidates))
	}
	h.transition("n", "open", nil)
	mustError(t, h.do("POST", "/api/v1/contests/n/nominations", map[string]any{"candidate": nominee, "source": "floor", "vote": "v2"}, asAdmin), http.StatusConflict, "state")
}

// The next round takes withdrawals and additions (DESIGN §7.2), each kept
// in its Changes; B4 and B5 of the rules audit are in lists_examples_test.go.
func TestNextRoundChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.listCongress("cg")
	// D = 8: c1 and c2 get 7 and pass; c3 and c4 get 1; one seat vacant.
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", contestDef("nx"), asAdmin), http.StatusCreated)
	h.transition("nx", "open", nil)
	h.castStrike("nx", strikes("v", 6, "c3", "c4")...)
	h.transition("nx", "close", map[string]int{"issued": 6})

	em := map[string]any{"id": "c9", "name": "Võ Văn Em", "nominated": "floor"}
	for _, tt := range []struct {
		name  string
		body  any
		field string
	}{
		{"withdraw one elected", map[string]any{"withdraw": []string{"c1"}}, "withdraw[0]"},
		{"withdraw unknown", map[string]any{"withdraw": []string{"c3", "zz"}}, "withdraw[1]"},
		{"unknown vote", map[string]any{"withdraw": []string{"c3"}, "vote": "v9"}, "vote"},
		{"withdraw everyone left", map[string]any{"withdraw": []string{"c3", "c4"}}, "add"},
		{"add an id of round 1", map[string]any{"add": []any{map[string]any{"id": "c1", "name": "Võ Văn Em"}}}, "add[0].id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustError(t, h.in(t).do("POST", "/api/v1/contests/nx/next", tt.body, asAdmin), http.StatusBadRequest, tt.field)
		})
	}
	if _, err := h.store.Contest(context.Background(), "nx-r2"); tally.ErrorKind(err) != tally.NotFound {
		t.Fatalf("a refused next round was stored: %v", err)
	}

	body := map[string]any{"withdraw": []string{"c4"}, "add": []any{em}, "reason": "Đại hội biểu quyết", "vote": "v1"}
	r := h.do("POST", "/api/v1/contests/nx/next", body, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	next := h.getList("nx-r2")
	if got, want := candidateIDs(next.Contest), []string{"c3", "c9"}; !sameSet(got, want) || next.Contest.Ballot != tally.StyleStrike || next.Contest.Seats != 1 {
		t.Errorf("next round: %v on %s for %d seats, want %v on strike for 1", got, next.Contest.Ballot, next.Contest.Seats, want)
	}
	at := next.Created
	want := []tally.ListChange{
		{Action: tally.ChangeWithdraw, Candidate: "c4", Name: "Phạm Thị Dung", Reason: "Đại hội biểu quyết", Vote: "v1", By: "admin", Time: at},
		{Action: tally.ChangeAdd, Candidate: "c9", Name: "Võ Văn Em", Source: tally.NominatedFloor, Reason: "Đại hội biểu quyết", Vote: "v1", By: "admin", Time: at},
	}
	if !slices.Equal(next.Changes, want) {
		t.Errorf("changes = %+v\nwant %+v", next.Changes, want)
	}

	t.Run("the minutes print the changes of every round", func(t *testing.T) {
		h := h.in(t)
		mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", delegatesDef("mx"), asAdmin), http.StatusCreated)
		mustStatus(t, h.do("POST", "/api/v1/contests/mx/nominations", map[string]any{"candidate": em, "source": "floor", "vote": "v2"}, asAdmin), http.StatusOK)
		h.transition("mx", "open", nil)
		h.castStrike("mx", strikes("v", 6, "c3", "c4", "c9")...)
		h.transition("mx", "close", map[string]int{"issued": 6})
		mustStatus(t, h.do("POST", "/api/v1/contests/mx/next", map[string]any{"withdraw": []string{"c4"}, "vote": "v1", "reason": "Xin rút"}, asAdmin), http.StatusCreated)
		r := h.page("GET", "/contests/mx-r2/minutes", nil, asAdmin)
		mustStatus(t, r, http.StatusOK)
		html := string(r.body)
		first, second := strings.Index(html, "Danh sách bầu cử lần 1:"), strings.Index(html, "Danh sách bầu cử lần 2 (lần này):")
		if first < 0 || second < first {
			t.Fatalf("the minutes do not list round 1's changes before round 2's (%d, %d)", first, second)
		}
		for _, want := range []string{"Bổ sung vào danh sách: đồng chí Võ Văn Em; nguồn: đề cử tại đại hội",
			"Rút khỏi danh sách: đồng chí Phạm Thị Dung; lý do: Xin rút; quyết định: biểu quyết “Cho đồng chí Dung rút khỏi danh sách” (v1), tán thành 8/8 đại biểu"} {
			if !strings.Contains(html, want) {
				t.Errorf("the minutes lack %q", want)
			}
		}
	})
}

// The pages of the list: the edit form of a draft, refused in Vietnamese
// once the round is open; a closed round's next-round form lists the names
// it would carry, to withdraw.
func TestListPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.listCongress("cg")
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg", contestDef("pg"), asAdmin), http.StatusCreated)
	r := h.page("GET", "/contests/pg/edit", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	body := string(r.body)
	for _, want := range []string{`id="contest-edit"`, `"id":"pg"`, `Lưu thay đổi`, `href="/contests/pg/setup"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the edit page lacks %q", want)
		}
	}
	r = h.page("GET", "/contests/pg/setup", nil, asAdmin)
	for _, want := range []string{`id="withdraw-form"`, `id="nominate-form"`, `<option value="v1">v1 — Cho đồng chí Dung rút khỏi danh sách (8/9)</option>`, `id="delete-contest"`, `Không có thay đổi.`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("the draft's page lacks %q", want)
		}
	}

	h.transition("pg", "open", nil)
	r = h.page("GET", "/contests/pg/edit", nil, asAdmin)
	mustStatus(t, r, http.StatusConflict)
	if !strings.Contains(string(r.body), "không sửa được nữa") {
		t.Errorf("the refusal is not in Vietnamese: %s", r.body)
	}
	h.castStrike("pg", strikes("v", 6, "c3", "c4")...)
	h.transition("pg", "close", map[string]int{"issued": 6})
	r = h.page("GET", "/contests/pg/setup", nil, asAdmin)
	body = string(r.body)
	for _, want := range []string{`id="next-form"`, `name="withdraw" value="c3"`, `name="withdraw" value="c4"`, `id="add-rows"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the closed round's page lacks %q", want)
		}
	}
	if strings.Contains(body, `name="withdraw" value="c1"`) || strings.Contains(body, `id="withdraw-form"`) {
		t.Error("the closed round's page offers to withdraw the elected, or a draft's withdrawal")
	}
}

// Audit B6 (case 27): a withdrawal after the list was keyed used to need a
// second contest, and the abandoned draft counted in the roll-up as a
// second, pending election. Now the draft takes the withdrawal, or is
// deleted: the roll-up has one election.
func TestRollupAfterAWithdrawalAndADeletedDraft(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cg := map[string]any{"id": "cg6", "organization": "Chi bộ 6", "name": "Đại hội Chi bộ 6", "term": "2025–2030",
		"votes": []any{map[string]any{"id": "v1", "subject": "other", "title": "Cho rút", "present": 9, "approve": 9, "disapprove": 0, "other": 0}}}
	mustStatus(t, h.do("POST", "/api/v1/congresses", cg, asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg6", delegatesDef("keep"), asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests?congress=cg6", delegatesDef("abandoned"), asAdmin), http.StatusCreated)
	mustStatus(t, h.do("POST", "/api/v1/contests/keep/withdrawals", map[string]any{"candidate": "c4", "vote": "v1"}, asAdmin), http.StatusOK)
	mustStatus(t, h.do("DELETE", "/api/v1/contests/abandoned", nil, asAdmin), http.StatusNoContent)
	r := h.do("GET", "/api/v1/rollup?organization="+url.QueryEscape("Chi bộ 6"), nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	var ru struct {
		Congresses []struct {
			Elections []struct{ ID string } `json:"elections"`
		} `json:"congresses"`
	}
	decode(t, r, &ru)
	if len(ru.Congresses) != 1 || len(ru.Congresses[0].Elections) != 1 || ru.Congresses[0].Elections[0].ID != "keep" {
		t.Errorf("roll-up = %s, want one congress with the one election keep", r.body)
	}
}
