package tally

import (
	"strings"
	"testing"
)

func TestPositionID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		s, k int
		ok   bool
	}{
		{"t1-1", 1, 1, true}, {"t12-305", 12, 305, true},
		{"t0-1", 0, 0, false}, {"t1-0", 0, 0, false}, {"t01-1", 0, 0, false}, {"b-1", 0, 0, false},
		{"t1", 0, 0, false}, {"t1-x", 0, 0, false}, {"t-1-2", 0, 0, false},
	} {
		s, k, ok := ParsePositionID(tc.id)
		if ok != tc.ok || ok && (s != tc.s || k != tc.k) {
			t.Errorf("ParsePositionID(%q) = %d, %d, %v; want %d, %d, %v", tc.id, s, k, ok, tc.s, tc.k, tc.ok)
		}
		if tc.ok {
			if got := PositionID(tc.s, tc.k); got != tc.id {
				t.Errorf("PositionID(%d, %d) = %q", tc.s, tc.k, got)
			}
			b := Ballot{ID: PositionID(tc.s, tc.k), Struck: []string{}}
			if err := b.Validate(); err != nil {
				t.Errorf("a position id is not a valid ballot id: %v", err)
			}
		}
	}
}

func TestEntryModeValidation(t *testing.T) {
	base := `{"id":"x","title":"T","kind":"other","seats":1,"ballot":"approve","electorate":{"congress":"body","convened":3},
		"candidates":[{"id":"c1","name":"Nguyễn Văn An"}]`
	for _, tc := range []struct {
		entry string
		desks int
		err   bool
	}{{"", 1, false}, {`,"entry":"single"`, 1, false}, {`,"entry":"double"`, 2, false}, {`,"entry":"triple"`, 3, false},
		{`,"entry":"quadruple"`, 0, true}, {`,"entry":"Triple"`, 0, true}} {
		c, err := ParseContest([]byte(base + tc.entry + "}"))
		if tc.err {
			if e := Problems(err); len(e) != 1 || e[0].Field != "entry" {
				t.Errorf("%s: error %v, want one naming entry", tc.entry, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.entry, err)
		}
		if got := c.Entry.Desks(); got != tc.desks {
			t.Errorf("%s: Desks() = %d, want %d", tc.entry, got, tc.desks)
		}
	}
}

func TestBodyCanonical(t *testing.T) {
	c := mustContest(t, `{"id":"x","title":"T","kind":"other","seats":2,"ballot":"strike","electorate":{"congress":"body","convened":3},
		"candidates":[{"id":"c1","name":"Nguyễn Văn An"},{"id":"c2","name":"Trần Văn Bình"},{"id":"c3","name":"Lê Văn Cường"}]}`)
	idx := c.Index()
	a, err := c.Body(Ballot{Struck: []string{"c2", "c1"}}, 3, 7, idx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Body(Ballot{Struck: []string{"c1", "c2"}}, 3, 7, idx)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "t3-7" || BallotDigest(&a) != BallotDigest(&b) {
		t.Errorf("the same strikes typed in another order differ: %+v vs %+v", a, b)
	}
	other, _ := c.Body(Ballot{Struck: []string{"c1"}}, 3, 7, idx)
	if BallotDigest(&other) == BallotDigest(&a) {
		t.Error("different strikes have the same digest")
	}
	if _, err := c.Body(Ballot{Struck: []string{"c9"}}, 3, 7, idx); err == nil || !strings.Contains(err.Error(), "struck[0]") {
		t.Errorf("unknown candidate: %v", err)
	}
	ap := mustContest(t, `{"id":"y","title":"T","kind":"other","seats":2,"ballot":"approve","electorate":{"congress":"body","convened":3},
		"candidates":[{"id":"c1","name":"Nguyễn Văn An"},{"id":"c2","name":"Trần Văn Bình"}]}`)
	x, _ := ap.Body(Ballot{Marks: map[string]Mark{"c1": MarkAgree, "c2": MarkNone}}, 1, 1, ap.Index())
	y, _ := ap.Body(Ballot{Marks: map[string]Mark{"c1": MarkAgree}}, 1, 1, ap.Index())
	if BallotDigest(&x) != BallotDigest(&y) {
		t.Errorf("an explicit none differs from a missing mark: %+v vs %+v", x, y)
	}
}

func TestDecidePosition(t *testing.T) {
	k := func(desk string, n int, digest string) Keying {
		return Keying{ID: desk + "-" + digest, DeskID: "id:" + desk, Desk: desk, N: n, Digest: digest,
			Ballot: Ballot{ID: "t1-1", Note: digest}}
	}
	dec := &CommitteeDecision{Ballot: Ballot{ID: "t1-1", Note: "decided"}, Reason: "xem phiếu gốc"}
	for _, tc := range []struct {
		name     string
		required int
		keyings  []Keying
		decision *CommitteeDecision
		want     PositionStatus
		keyed    int
		ballot   string
	}{
		{"nothing", 3, nil, nil, PositionEmpty, 0, ""},
		{"one of three", 3, []Keying{k("b1", 1, "x")}, nil, PositionPending, 1, ""},
		{"two agree of three", 3, []Keying{k("b1", 1, "x"), k("b2", 1, "x")}, nil, PositionPending, 2, ""},
		{"three agree", 3, []Keying{k("b1", 1, "x"), k("b2", 1, "x"), k("b3", 1, "x")}, nil, PositionAccepted, 3, "x"},
		{"one desk three times", 3, []Keying{k("b1", 1, "x"), k("b1", 2, "x"), k("b1", 3, "x")}, nil, PositionPending, 1, ""},
		{"two differ early", 3, []Keying{k("b1", 1, "x"), k("b2", 1, "y")}, nil, PositionDisputed, 2, ""},
		{"two of three agree", 3, []Keying{k("b1", 1, "x"), k("b2", 1, "x"), k("b3", 1, "y")}, nil, PositionDisputed, 3, ""},
		{"slip superseded", 2, []Keying{k("b1", 1, "y"), k("b1", 2, "x"), k("b2", 1, "x")}, nil, PositionAccepted, 2, "x"},
		{"double agree", 2, []Keying{k("b2", 1, "x"), k("b1", 1, "x")}, nil, PositionAccepted, 2, "x"},
		{"decision", 3, []Keying{k("b1", 1, "x"), k("b2", 1, "y")}, dec, PositionAccepted, 2, "decided"},
	} {
		st := DecidePosition(1, 1, tc.required, tc.keyings, tc.decision)
		if st.Status != tc.want || st.Keyed != tc.keyed {
			t.Errorf("%s: status %s keyed %d, want %s %d", tc.name, st.Status, st.Keyed, tc.want, tc.keyed)
		}
		if (st.Ballot == nil) != (tc.ballot == "") || st.Ballot != nil && st.Ballot.Note != tc.ballot {
			t.Errorf("%s: ballot %+v, want %q", tc.name, st.Ballot, tc.ballot)
		}
	}
}

func mustContest(t *testing.T, js string) *Contest {
	t.Helper()
	c, err := ParseContest([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
