package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

func TestCreateContest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	r := h.do("POST", "/api/v1/contests", contestDef("bch-2025"), asAdmin)
	mustStatus(t, r, http.StatusCreated)
	if got, want := r.header.Get("Location"), "/api/v1/contests/bch-2025"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if r.header.Get("X-Request-ID") == "" {
		t.Errorf("no X-Request-ID on the response")
	}
	var rec record
	decode(t, r, &rec)
	if got, want := rec.State, tally.StateDraft; got != want {
		t.Errorf("state = %q, want %q", got, want)
	}
	if got, want := rec.Contest.ID, "bch-2025"; got != want {
		t.Errorf("contest.id = %q, want %q", got, want)
	}
	// Defaults are filled in (docs/api.md).
	if got, want := rec.Contest.Visibility, tally.VisibilityCertified; got != want {
		t.Errorf("visibility = %q, want the default %q", got, want)
	}
	if got, want := rec.Contest.Round, 1; got != want {
		t.Errorf("round = %d, want %d", got, want)
	}
	if rec.Created == "" {
		t.Errorf("created is empty")
	}

	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"duplicate id", contestDef("bch-2025"), http.StatusConflict, "id"},
		{"unknown field", with(contestDef("typo"), "seat", 3), http.StatusBadRequest, "seat"},
		{"malformed JSON", `{"id": "x",`, http.StatusBadRequest, ""},
		{"empty body", "", http.StatusBadRequest, ""},
		{"wrong type", with(contestDef("wt"), "seats", "three"), http.StatusBadRequest, "seats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.in(t)
			r := h.do("POST", "/api/v1/contests", tt.body, asAdmin)
			mustError(t, r, tt.status, tt.field)
		})
	}

	t.Run("every problem listed", func(t *testing.T) {
		h := h.in(t)
		def := with(contestDef("bad"), "seats", 0, "kind", "council", "title", "")
		r := h.do("POST", "/api/v1/contests", def, asAdmin)
		e := mustError(t, r, http.StatusBadRequest, "title")
		var fields []string
		for _, p := range e.Problems {
			if p.Message == "" {
				t.Errorf("problem %q has no message", p.Field)
			}
			fields = append(fields, p.Field)
		}
		for _, want := range []string{"title", "kind", "seats"} {
			if !slices.Contains(fields, want) {
				t.Errorf("problems %v lack %q", fields, want)
			}
		}
	})

	t.Run("nothing stored on error", func(t *testing.T) {
		h := h.in(t)
		recs, err := h.store.Contests(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, rec := range recs {
			ids = append(ids, rec.Contest.ID)
		}
		if got, want := ids, []string{"bch-2025"}; !slices.Equal(got, want) {
			t.Errorf("contests stored = %v, want %v", got, want)
		}
	})

	t.Run("over 4 MiB", func(t *testing.T) {
		// app.Test reports fasthttp's refusal as an error, and a client
		// still writing the body may see the reset before the answer: send
		// the headers of a body one byte over the limit on a raw
		// connection, and read the answer.
		h := h.in(t)
		base := h.listen()
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "POST /api/v1/contests HTTP/1.1\r\nHost: kp\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"id\": \"big\", \"title\": \"", adminToken, 4<<20+1)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		mustError(t, &response{status: resp.StatusCode, header: resp.Header, body: body}, http.StatusRequestEntityTooLarge, "")
		if resp.Header.Get("X-Request-ID") == "" {
			t.Errorf("the 413 has no X-Request-ID")
		}
	})
}

func TestGetAndListContests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.createContest(contestDef("a-2025"))
	h.openContest(approveDef("b-2025"))

	r := h.do("GET", "/api/v1/contests/b-2025", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	var rec record
	decode(t, r, &rec)
	if got, want := rec.State, tally.StateOpen; got != want {
		t.Errorf("state = %q, want %q", got, want)
	}
	if rec.Opened == "" {
		t.Errorf("opened is empty")
	}
	if got, want := rec.Contest.Title, "Bầu Bí thư Chi bộ"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}

	mustError(t, h.do("GET", "/api/v1/contests/nope", nil, asAdmin), http.StatusNotFound, "")

	r = h.do("GET", "/api/v1/contests", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	var list struct {
		Contests []struct {
			ID    string      `json:"id"`
			Title string      `json:"title"`
			Kind  string      `json:"kind"`
			Round int         `json:"round"`
			State tally.State `json:"state"`
		} `json:"contests"`
	}
	decode(t, r, &list)
	type item struct {
		id, kind string
		round    int
		state    tally.State
	}
	var got []item
	for _, c := range list.Contests {
		if c.Title == "" {
			t.Errorf("contest %s has no title in the list", c.ID)
		}
		got = append(got, item{c.ID, c.Kind, c.Round, c.State})
	}
	want := []item{{"a-2025", "committee", 1, tally.StateDraft}, {"b-2025", "secretary", 1, tally.StateOpen}}
	if !slices.Equal(got, want) {
		t.Errorf("list = %+v, want %+v", got, want)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const id = "life"
	h.createContest(contestDef(id))

	conflict := func(verb string, body any) {
		t.Helper()
		r := h.do("POST", "/api/v1/contests/"+id+"/"+verb, body, asAdmin)
		mustError(t, r, http.StatusConflict, "")
	}
	issued := func(n int) map[string]int { return map[string]int{"issued": n} }

	// draft: only open.
	conflict("close", issued(0))
	conflict("certify", nil)

	rec := h.transition(id, "open", nil)
	if got, want := rec.State, tally.StateOpen; got != want {
		t.Fatalf("state = %q, want %q", got, want)
	}
	conflict("open", nil)
	conflict("certify", nil)

	h.castStrike(id, strikes("s", 7, "c4")...)
	mustStatus(t, h.do("POST", "/api/v1/contests/"+id+"/ballots/s-7/void", map[string]string{"reason": "nhập nhầm"}, asAdmin), http.StatusCreated)
	// 6 ballots are collected (the seventh is voided); the log holds 8
	// entries. c1–c3 get 6 votes of D = 8: every seat is filled.

	t.Run("close needs issued", func(t *testing.T) {
		h := h.in(t)
		for _, body := range []any{nil, map[string]any{}, map[string]int{"issued": -1}, `{"issued": "4"}`, map[string]any{"issued": 4, "x": 1}} {
			r := h.do("POST", "/api/v1/contests/"+id+"/close", body, asAdmin)
			e := errorOf(t, r, http.StatusBadRequest)
			if e.Code != "invalid" {
				t.Errorf("body %v: code = %q, want invalid", body, e.Code)
			}
		}
		r := h.do("POST", "/api/v1/contests/"+id+"/close", map[string]any{}, asAdmin)
		mustError(t, r, http.StatusBadRequest, "issued")
	})

	t.Run("collected over issued", func(t *testing.T) {
		h := h.in(t)
		r := h.do("POST", "/api/v1/contests/"+id+"/close", issued(5), asAdmin)
		e := mustError(t, r, http.StatusConflict, "issued")
		for _, n := range []string{"6 ballots", "only 5"} {
			if !strings.Contains(e.Message, n) {
				t.Errorf("message %q does not say %s", e.Message, n)
			}
		}
	})

	if got, want := h.do("GET", "/api/v1/contests/"+id, nil, asAdmin), tally.StateOpen; !strings.Contains(string(got.body), `"state":"`+string(want)+`"`) {
		t.Fatalf("after refused closes: %s, want state %q", got.body, want)
	}

	rec = h.transition(id, "close", issued(6))
	entries, err := h.store.Entries(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(entries), 8; got != want {
		t.Fatalf("log length = %d, want %d", got, want)
	}
	last := entries[len(entries)-1]
	if got, want := rec.State, tally.StateClosed; got != want {
		t.Errorf("state = %q, want %q", got, want)
	}
	if got, want := rec.Head, last.Hash; got != want {
		t.Errorf("head = %q, want the last entry's hash %q", got, want)
	}
	if got, want := rec.Version, last.Seq; got != want {
		t.Errorf("version = %d, want %d", got, want)
	}
	if rec.Issued == nil || *rec.Issued != 6 {
		t.Errorf("issued = %v, want 6", rec.Issued)
	}
	if rec.Closed == "" {
		t.Errorf("closed is empty")
	}
	// Every seat was filled: no next round.
	if rec.NextRound != "" {
		t.Errorf("next_round = %q, want none", rec.NextRound)
	}

	conflict("open", nil)
	conflict("close", issued(6))

	rec = h.transition(id, "certify", nil)
	if got, want := rec.State, tally.StateCertified; got != want {
		t.Errorf("state = %q, want %q", got, want)
	}
	if got, want := rec.Head, last.Hash; got != want {
		t.Errorf("certified head = %q, want %q", got, want)
	}
	if got, want := rec.Version, int64(8); got != want {
		t.Errorf("certified version = %d, want %d", got, want)
	}
	if rec.Certified == "" {
		t.Errorf("certified is empty")
	}
	conflict("certify", nil)
	conflict("open", nil)
	conflict("close", issued(6))

	t.Run("unknown contest", func(t *testing.T) {
		h := h.in(t)
		for _, verb := range []string{"open", "certify"} {
			mustError(t, h.do("POST", "/api/v1/contests/nope/"+verb, nil, asAdmin), http.StatusNotFound, "")
		}
		mustError(t, h.do("POST", "/api/v1/contests/nope/close", issued(0), asAdmin), http.StatusNotFound, "")
	})

	t.Run("empty log closes at the genesis hash", func(t *testing.T) {
		h := h.in(t)
		h.openContest(contestDef("empty"))
		rec := h.transition("empty", "close", issued(0))
		if got, want := rec.Head, tally.GenesisHash; got != want {
			t.Errorf("head = %q, want %q", got, want)
		}
		if got, want := rec.Version, int64(0); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
	})
}

func TestNextRound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	issued := func(n int) map[string]int { return map[string]int{"issued": n} }

	t.Run("still open", func(t *testing.T) {
		h := h.in(t)
		h.openContest(contestDef("open-1"))
		mustError(t, h.do("POST", "/api/v1/contests/open-1/next", nil, asAdmin), http.StatusConflict, "")
	})

	t.Run("every seat filled", func(t *testing.T) {
		h := h.in(t)
		// c1–c3 get 6 of 8, c4 none: three elected for three seats.
		h.openContest(contestDef("full"))
		h.castStrike("full", strikes("f", 6, "c4")...)
		h.transition("full", "close", issued(6))
		mustError(t, h.do("POST", "/api/v1/contests/full/next", nil, asAdmin), http.StatusConflict, "")
	})

	t.Run("re-vote after a tie at the last seat", func(t *testing.T) {
		h := h.in(t)
		// D = 8. c1 and c2 get 7, c3 and c4 tie at 5, which passes: one
		// seat for two tied names.
		const id = "tie"
		h.openContest(contestDef(id))
		var ballots []tally.Ballot
		ballots = append(ballots, strikes("a", 1, "c1")...)
		ballots = append(ballots, strikes("b", 1, "c2")...)
		ballots = append(ballots, strikes("c", 3, "c3")...)
		ballots = append(ballots, strikes("d", 3, "c4")...)
		h.castStrike(id, ballots...)
		rec := h.transition(id, "close", issued(8))
		if got, want := rec.NextRound, "revote"; got != want {
			t.Fatalf("next_round = %q, want %q", got, want)
		}

		// Names are added only to a further round, never to a re-vote.
		add := map[string]any{"add": []any{map[string]any{"id": "c9", "name": "Võ Văn Em"}}}
		mustError(t, h.do("POST", "/api/v1/contests/"+id+"/next", add, asAdmin), http.StatusBadRequest, "add")

		r := h.do("POST", "/api/v1/contests/"+id+"/next", nil, asAdmin)
		mustStatus(t, r, http.StatusCreated)
		if got, want := r.header.Get("Location"), "/api/v1/contests/tie-r2"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
		var next record
		decode(t, r, &next)
		c := next.Contest
		if got, want := c.ID, "tie-r2"; got != want {
			t.Errorf("id = %q, want %q", got, want)
		}
		if got, want := next.State, tally.StateDraft; got != want {
			t.Errorf("state = %q, want %q", got, want)
		}
		if got, want := next.Previous, id; got != want {
			t.Errorf("previous = %q, want %q", got, want)
		}
		if got, want := c.Round, 2; got != want {
			t.Errorf("round = %d, want %d", got, want)
		}
		var res tally.Result
		decode(t, h.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin), &res)
		if got, want := res.Tied, []string{"c3", "c4"}; !sameSet(got, want) || res.RevoteSeats != 1 {
			t.Fatalf("tied = %v with revote_seats %d, want %v and 1", got, res.RevoteSeats, want)
		}
		if got, want := c.Seats, res.RevoteSeats; got != want {
			t.Errorf("seats = %d, want the revote_seats %d", got, want)
		}
		if got, want := candidateIDs(c), res.Tied; !sameSet(got, want) {
			t.Errorf("candidates = %v, want the tied %v", got, want)
		}
		if got, want := c.Denominator(), 8; got != want {
			t.Errorf("D = %d, want the same %d", got, want)
		}

		var prev record
		decode(t, h.do("GET", "/api/v1/contests/"+id, nil, asAdmin), &prev)
		if got, want := prev.Next, "tie-r2"; got != want {
			t.Errorf("next of the closed round = %q, want %q", got, want)
		}
		if prev.NextRound != "" {
			t.Errorf("next_round = %q once the next round exists, want none", prev.NextRound)
		}
		var stored record
		decode(t, h.do("GET", "/api/v1/contests/tie-r2", nil, asAdmin), &stored)
		if got, want := stored.Previous, id; got != want {
			t.Errorf("stored previous = %q, want %q", got, want)
		}

		mustError(t, h.do("POST", "/api/v1/contests/"+id+"/next", nil, asAdmin), http.StatusConflict, "")
	})

	t.Run("further round with added names", func(t *testing.T) {
		h := h.in(t)
		// D = 8: c1 and c2 get 6 and pass; c3 and c4 get none. One seat
		// is vacant.
		const id = "vacant"
		h.openContest(contestDef(id))
		h.castStrike(id, strikes("v", 6, "c3", "c4")...)
		rec := h.transition(id, "close", issued(6))
		if got, want := rec.NextRound, "further"; got != want {
			t.Fatalf("next_round = %q, want %q", got, want)
		}
		var res tally.Result
		decode(t, h.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin), &res)
		if got, want := res.Vacant, 1; got != want {
			t.Fatalf("vacant = %d, want %d (result %+v)", got, want, res)
		}

		add := map[string]any{"add": []any{map[string]any{"id": "c9", "name": "Võ Văn Em"}}}
		r := h.do("POST", "/api/v1/contests/"+id+"/next", add, asAdmin)
		mustStatus(t, r, http.StatusCreated)
		var next record
		decode(t, r, &next)
		c := next.Contest
		if got, want := c.ID, "vacant-r2"; got != want {
			t.Errorf("id = %q, want %q", got, want)
		}
		if got, want := c.Seats, 1; got != want {
			t.Errorf("seats = %d, want %d", got, want)
		}
		if got, want := candidateIDs(c), []string{"c3", "c4", "c9"}; !sameSet(got, want) {
			t.Errorf("candidates = %v, want %v", got, want)
		}
		if got, want := c.Ballot, tally.StyleStrike; got != want {
			t.Errorf("ballot = %q, want %q", got, want)
		}
		if got, want := next.Previous, id; got != want {
			t.Errorf("previous = %q, want %q", got, want)
		}

		t.Run("added names are checked", func(t *testing.T) {
			h := h.in(t)
			h.openContest(contestDef("vacant2"))
			h.castStrike("vacant2", strikes("v", 6, "c3", "c4")...)
			h.transition("vacant2", "close", issued(6))
			bad := map[string]any{"add": []any{map[string]any{"id": "c3", "name": "Trùng Mã"}}}
			r := h.do("POST", "/api/v1/contests/vacant2/next", bad, asAdmin)
			errorOf(t, r, http.StatusBadRequest)
			unknown := map[string]any{"add": []any{map[string]any{"id": "c9", "name": "Võ Văn Em", "age": 40}}}
			mustError(t, h.do("POST", "/api/v1/contests/vacant2/next", unknown, asAdmin), http.StatusBadRequest, "age")
			if _, err := h.store.Contest(context.Background(), "vacant2-r2"); tally.ErrorKind(err) != tally.NotFound {
				t.Errorf("a refused next round was stored: %v", err)
			}
		})
	})
}

func candidateIDs(c *tally.Contest) []string {
	var ids []string
	for _, cand := range c.Candidates {
		ids = append(ids, cand.ID)
	}
	return ids
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
