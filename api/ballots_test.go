package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestPostBallot(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.openContest(contestDef("strike"))
	h.openContest(approveDef("approve"))
	h.createContest(contestDef("draft"))
	h.openContest(contestDef("closed"))
	h.transition("closed", "close", map[string]int{"issued": 0})

	first := h.postBallot("strike", `{"id": "b-0001", "struck": ["c2"]}`)
	mustStatus(t, first, http.StatusCreated)
	var rc receipt
	decode(t, first, &rc)
	if got, want := rc, (receipt{Seq: 1, Hash: rc.Hash, Valid: true}); got != want {
		t.Errorf("receipt = %+v, want %+v", got, want)
	}
	if !hexHash.MatchString(rc.Hash) {
		t.Errorf("hash = %q, want 64 hex digits", rc.Hash)
	}
	if strings.Contains(string(first.body), `"reason"`) {
		t.Errorf("a valid ballot's receipt has a reason: %s", first.body)
	}

	t.Run("retry gets the original receipt", func(t *testing.T) {
		h := h.in(t)
		// The same ballot, written differently: same content, same receipt.
		for _, body := range []string{`{"id": "b-0001", "struck": ["c2"]}`, `{"struck":["c2"],"id":"b-0001"}`} {
			r := h.postBallot("strike", body)
			mustStatus(t, r, http.StatusOK)
			if got, want := string(r.body), string(first.body); got != want {
				t.Errorf("retry body = %s, want %s", got, want)
			}
		}
	})

	tests := []struct {
		name    string
		contest string
		body    string
		status  int
		field   string
	}{
		{"same id, other content", "strike", `{"id": "b-0001", "struck": ["c3"]}`, http.StatusConflict, "id"},
		{"marks on a strike ballot", "strike", `{"id": "b-x1", "marks": {"c1": "agree"}}`, http.StatusBadRequest, "marks"},
		{"struck on an approve ballot", "approve", `{"id": "b-x2", "struck": ["c1"]}`, http.StatusBadRequest, "struck"},
		{"unknown candidate", "strike", `{"id": "b-x3", "struck": ["c9"]}`, http.StatusBadRequest, "struck[0]"},
		{"struck twice", "strike", `{"id": "b-x4", "struck": ["c1", "c1"]}`, http.StatusBadRequest, "struck[1]"},
		{"unknown mark candidate", "approve", `{"id": "b-x5", "marks": {"c7": "agree"}}`, http.StatusBadRequest, "marks.c7"},
		{"bad mark", "approve", `{"id": "b-x6", "marks": {"c1": "yes"}}`, http.StatusBadRequest, "marks"},
		{"no id", "strike", `{"struck": ["c1"]}`, http.StatusBadRequest, "id"},
		{"neither struck nor marks", "strike", `{"id": "b-x7"}`, http.StatusBadRequest, "struck"},
		{"other without a note", "strike", `{"id": "b-x8", "invalid": "other"}`, http.StatusBadRequest, "note"},
		{"unknown field", "strike", `{"id": "b-x9", "struck": ["c1"], "desk": "1"}`, http.StatusBadRequest, "desk"},
		{"malformed JSON", "strike", `{"id": "b-x10", "struck": [`, http.StatusBadRequest, ""},
		{"not JSON", "strike", `id=b-x11&struck=c1`, http.StatusBadRequest, ""},
		{"empty body", "strike", ``, http.StatusBadRequest, ""},
		{"over 64 KiB", "strike", `{"id": "b-x12", "invalid": "other", "note": "` + strings.Repeat("x", 64<<10) + `"}`, http.StatusRequestEntityTooLarge, ""},
		{"draft contest", "draft", `{"id": "b-x13", "struck": ["c1"]}`, http.StatusConflict, "state"},
		{"closed contest", "closed", `{"id": "b-x14", "struck": ["c1"]}`, http.StatusConflict, "state"},
		{"unknown contest", "nope", `{"id": "b-x15", "struck": ["c1"]}`, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.in(t)
			before := map[string]int64{}
			for _, id := range []string{"strike", "approve", "draft", "closed"} {
				before[id] = h.logLen(id)
			}
			r := h.postBallot(tt.contest, tt.body)
			mustError(t, r, tt.status, tt.field)
			for id, n := range before {
				if got, want := h.logLen(id), n; got != want {
					t.Errorf("log of %s: %d entries, want %d (nothing appended)", id, got, want)
				}
			}
		})
	}

	t.Run("invalid ballots are counted with a reason", func(t *testing.T) {
		h := h.in(t)
		cases := []struct {
			contest, body, reason string
		}{
			{"strike", `{"id": "b-ov", "struck": []}`, "over_vote"},
			{"strike", `{"id": "b-nv", "struck": ["c1", "c2", "c3", "c4"]}`, "no_vote"},
			{"strike", `{"id": "b-wi", "invalid": "write_in", "note": "ghi thêm tên"}`, "write_in"},
			{"approve", `{"id": "b-amb", "marks": {"c1": "both"}}`, "ambiguous_single"},
		}
		for _, c := range cases {
			r := h.postBallot(c.contest, c.body)
			mustStatus(t, r, http.StatusCreated)
			var rc receipt
			decode(t, r, &rc)
			if rc.Valid || rc.Reason != c.reason {
				t.Errorf("%s: receipt %s, want valid false and reason %q", c.body, r.body, c.reason)
			}
		}
	})

	t.Run("the desk is recorded", func(t *testing.T) {
		h := h.in(t)
		tok := h.issueToken("counter", "Bàn 2")
		r := h.postBallot("strike", `{"id": "desk-2-1", "struck": ["c1"]}`, bearer(tok))
		mustStatus(t, r, http.StatusCreated)
		var rc receipt
		decode(t, r, &rc)
		entries, err := h.store.Entries(context.Background(), "strike", rc.Seq-1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := entries[0].Desk, "Bàn 2"; got != want {
			t.Errorf("desk = %q, want %q", got, want)
		}
		if got, want := entries[0].Time, h.clock.Now().Format("2006-01-02T15:04:05Z07:00"); got != want {
			t.Errorf("time = %q, want the server clock's %q", got, want)
		}
	})
}

func TestVoid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const id = "void"
	h.openContest(contestDef(id))
	h.castStrike(id, strikes("b", 6, "c4")...)
	voidPath := func(ballot string) string { return "/api/v1/contests/" + id + "/ballots/" + ballot + "/void" }
	reason := map[string]string{"reason": "bàn 1 nhập nhầm phiếu"}

	var before tally.Result
	decode(t, h.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin), &before)

	r := h.do("POST", voidPath("b-3"), reason, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	var rc receipt
	decode(t, r, &rc)
	if got, want := rc, (receipt{Seq: 7, Hash: rc.Hash, Valid: true}); got != want {
		t.Errorf("receipt = %+v, want %+v", got, want)
	}

	again := h.do("POST", voidPath("b-3"), reason, asAdmin)
	mustStatus(t, again, http.StatusOK)
	if got, want := string(again.body), string(r.body); got != want {
		t.Errorf("retry body = %s, want %s", got, want)
	}

	tests := []struct {
		name   string
		ballot string
		body   any
		status int
		field  string
	}{
		{"unknown ballot", "b-99", reason, http.StatusNotFound, ""},
		{"missing reason", "b-1", map[string]string{}, http.StatusBadRequest, "reason"},
		{"blank reason", "b-1", map[string]string{"reason": "  \t "}, http.StatusBadRequest, "reason"},
		{"no body", "b-1", nil, http.StatusBadRequest, ""},
		{"unknown field", "b-1", map[string]string{"reason": "x", "why": "y"}, http.StatusBadRequest, "why"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.in(t)
			n := h.logLen(id)
			mustError(t, h.do("POST", voidPath(tt.ballot), tt.body, asAdmin), tt.status, tt.field)
			if got, want := h.logLen(id), n; got != want {
				t.Errorf("log length = %d, want %d", got, want)
			}
		})
	}
	mustError(t, h.do("POST", "/api/v1/contests/nope/ballots/b-1/void", reason, asAdmin), http.StatusNotFound, "")

	var after tally.Result
	decode(t, h.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin), &after)
	if got, want := after.Ballots.Total, before.Ballots.Total-1; got != want {
		t.Errorf("total = %d, want %d", got, want)
	}
	if got, want := after.Ballots.Valid, before.Ballots.Valid-1; got != want {
		t.Errorf("valid = %d, want %d", got, want)
	}
	for i, c := range after.Candidates {
		want := before.Candidates[i].Votes - 1
		if c.ID == "c4" {
			want = 0
		}
		if c.Votes != want {
			t.Errorf("%s votes = %d, want %d", c.ID, c.Votes, want)
		}
	}
	if got, want := *after.Version, int64(7); got != want {
		t.Errorf("version = %d, want %d", got, want)
	}

	t.Run("a voided id stays taken", func(t *testing.T) {
		h := h.in(t)
		r := h.postBallot(id, `{"id": "b-3", "struck": ["c1"]}`)
		e := mustError(t, r, http.StatusConflict, "id")
		if !strings.Contains(e.Message, "voided") {
			t.Errorf("message %q does not say the ballot was voided", e.Message)
		}
		r = h.postBallot(id, tally.Ballot{ID: "b-3", Struck: []string{"c4"}})
		mustStatus(t, r, http.StatusOK)
	})
}

// mixedBallots is a count with every kind of ballot.
func mixedBallots() []tally.Ballot {
	var bs []tally.Ballot
	bs = append(bs, strikes("k4", 5, "c4")...)
	bs = append(bs, strikes("k3", 3, "c3")...)
	bs = append(bs, strikes("k12", 2, "c1", "c2")...)
	bs = append(bs,
		tally.Ballot{ID: "over", Struck: []string{}},
		tally.Ballot{ID: "none", Struck: []string{"c1", "c2", "c3", "c4"}},
		tally.Ballot{ID: "wi", Invalid: tally.ReasonWriteIn, Note: "ghi thêm tên"},
		tally.Ballot{ID: "oth", Invalid: tally.ReasonOther, Note: "rách"},
	)
	return bs
}

func TestResultMatchesTally(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := with(contestDef("res"), "visibility", "live", "percent", map[string]any{"places": 3, "rounding": "truncate"})
	h.openContest(def)
	ballots := mixedBallots()
	h.castStrike("res", ballots...)
	voided := map[string]bool{"k4-2": true, "over": true}
	for id := range voided {
		mustStatus(t, h.do("POST", "/api/v1/contests/res/ballots/"+id+"/void", map[string]string{"reason": "nhầm"}, asAdmin), http.StatusCreated)
	}

	r := h.do("GET", "/api/v1/contests/res/result", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	want := withoutVersion(t, expectedResult(t, def, ballots, voided))
	if got := withoutVersion(t, r.body); !reflect.DeepEqual(got, want) {
		t.Errorf("result:\n got %s\nwant %s", r.body, expectedResult(t, def, ballots, voided))
	}
	var res tally.Result
	decode(t, r, &res)
	if res.Version == nil {
		t.Fatalf("result has no version: %s", r.body)
	}
	if got, want := *res.Version, h.logLen("res"); got != want {
		t.Errorf("version = %d, want the log length %d", got, want)
	}
	if got, want := *res.Version, int64(len(ballots)+len(voided)); got != want {
		t.Errorf("version = %d, want %d", got, want)
	}

	t.Run("approve", func(t *testing.T) {
		h := h.in(t)
		def := with(approveDef("appr"), "candidates", []any{
			map[string]any{"id": "a", "name": "Nguyễn Văn An"},
			map[string]any{"id": "b", "name": "Trần Thị Bình"},
		}, "seats", 2, "kind", "other")
		h.openContest(def)
		ballots := []tally.Ballot{
			{ID: "1", Marks: map[string]tally.Mark{"a": tally.MarkAgree, "b": tally.MarkAgree}},
			{ID: "2", Marks: map[string]tally.Mark{"a": tally.MarkAgree, "b": tally.MarkDisagree}},
			{ID: "3", Marks: map[string]tally.Mark{"a": tally.MarkBoth}},
			{ID: "4", Marks: map[string]tally.Mark{}},
			{ID: "5", Invalid: tally.ReasonIdentifyingMark},
		}
		h.castStrike("appr", ballots...)
		r := h.do("GET", "/api/v1/contests/appr/result", nil, asAdmin)
		mustStatus(t, r, http.StatusOK)
		want := expectedResult(t, def, ballots, nil)
		if got := withoutVersion(t, r.body); !reflect.DeepEqual(got, withoutVersion(t, want)) {
			t.Errorf("result:\n got %s\nwant %s", r.body, want)
		}
	})

	mustError(t, h.do("GET", "/api/v1/contests/nope/result", nil, asAdmin), http.StatusNotFound, "")
}

func TestLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := contestDef("log")
	h.openContest(def)
	ballots := mixedBallots()
	h.castStrike("log", ballots...)
	mustStatus(t, h.do("POST", "/api/v1/contests/log/ballots/k3-1/void", map[string]string{"reason": "nhầm"}, asAdmin), http.StatusCreated)

	r := h.do("GET", "/api/v1/contests/log/log", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if got, want := r.header.Get("Content-Type"), "application/jsonl; charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	var entries []tally.Entry
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		var e tally.Entry
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("line %d: %v: %s", len(entries)+1, err, sc.Bytes())
		}
		// Each line is the entry's canonical form, hash last.
		if line, _ := e.MarshalJSON(); !bytes.Equal(line, sc.Bytes()) {
			t.Errorf("line %d is not canonical:\n got %s\nwant %s", len(entries)+1, sc.Bytes(), line)
		}
		entries = append(entries, e)
	}
	if got, want := int64(len(entries)), h.logLen("log"); got != want {
		t.Fatalf("%d lines, want the log length %d", got, want)
	}
	head, err := tally.VerifyChain(entries)
	if err != nil {
		t.Fatalf("VerifyChain: %v", err)
	}
	if got, want := head, entries[len(entries)-1].Hash; got != want {
		t.Errorf("head = %s, want %s", got, want)
	}
	last := entries[len(entries)-1]
	if last.Void == nil || last.Void.Ballot != "k3-1" || last.Void.Seq != 6 || last.Void.Reason != "nhầm" {
		t.Errorf("last entry = %+v, want the void of k3-1 (seq 6)", last)
	}

	data, _ := json.Marshal(def)
	contest, err := tally.ParseContest(data)
	if err != nil {
		t.Fatal(err)
	}
	count, err := tally.Replay(contest, entries)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	replayed, _ := json.Marshal(count.Result())
	res := h.do("GET", "/api/v1/contests/log/result", nil, asAdmin)
	if got, want := withoutVersion(t, res.body), withoutVersion(t, replayed); !reflect.DeepEqual(got, want) {
		t.Errorf("result:\n got %s\nreplay %s", res.body, replayed)
	}

	t.Run("empty and unknown", func(t *testing.T) {
		h := h.in(t)
		h.createContest(contestDef("nolog"))
		r := h.do("GET", "/api/v1/contests/nolog/log", nil, asAdmin)
		mustStatus(t, r, http.StatusOK)
		if len(r.body) != 0 {
			t.Errorf("empty log = %q, want nothing", r.body)
		}
		mustError(t, h.do("GET", "/api/v1/contests/nope/log", nil, asAdmin), http.StatusNotFound, "")
	})
}

func TestHealth(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		path, want string
	}{
		{"/healthz", `{"status":"ok"}`},
		{"/readyz", `{"status":"ready"}`},
	}
	for _, tt := range tests {
		r := h.do("GET", tt.path, nil)
		mustStatus(t, r, http.StatusOK)
		if got := strings.TrimSpace(string(r.body)); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.path, got, tt.want)
		}
	}
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := h.do("GET", "/readyz", nil)
	mustStatus(t, r, http.StatusServiceUnavailable)
	mustStatus(t, h.do("GET", "/healthz", nil), http.StatusOK)
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, path := range []string{"/api/v1/nope", "/nope"} {
		r := h.do("GET", path, nil, asAdmin)
		e := errorOf(t, r, http.StatusNotFound)
		if got, want := e.Code, "not_found"; got != want {
			t.Errorf("%s: code = %q, want %q", path, got, want)
		}
	}
}
