package tally_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// domain-rules Ex 7: a surplus list of 7 names for 5 seats.
func TestClassifyStrikeMatrix(t *testing.T) {
	c := newContest(t, 5, 20, lettered(7), nil)
	all := []string{"A", "B", "C", "D", "E", "F", "G"}
	tests := []struct {
		name   string
		ballot tally.Ballot
		want   tally.Reason
		kept   []string // the candidates who get a vote
	}{
		{"2 struck: 5 kept", tally.Ballot{Struck: []string{"B", "F"}}, tally.Valid, []string{"A", "C", "D", "E", "G"}},
		{"4 struck: under-vote", tally.Ballot{Struck: []string{"A", "B", "C", "D"}}, tally.Valid, []string{"E", "F", "G"}},
		{"6 struck: 1 kept", tally.Ballot{Struck: []string{"A", "B", "C", "D", "E", "F"}}, tally.Valid, []string{"G"}},
		{"1 struck: 6 kept", tally.Ballot{Struck: []string{"C"}}, tally.ReasonOverVote, nil},
		{"nothing struck", tally.Ballot{Struck: []string{}}, tally.ReasonOverVote, nil},
		{"all 7 struck", tally.Ballot{Struck: all}, tally.ReasonNoVote, nil},
		{"2 struck + name written in", tally.Ballot{Invalid: tally.ReasonWriteIn}, tally.ReasonWriteIn, nil},
		{"no stamp", tally.Ballot{Invalid: tally.ReasonNotIssued}, tally.ReasonNotIssued, nil},
		{"2 struck + signature", tally.Ballot{Invalid: tally.ReasonIdentifyingMark}, tally.ReasonIdentifyingMark, nil},
		{"torn", tally.Ballot{Invalid: tally.ReasonOther, Note: "rách đôi"}, tally.ReasonOther, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ballot.ID = "b1"
			if err := tt.ballot.Validate(); err != nil {
				t.Fatalf("fixture ballot invalid: %v", err)
			}
			m, err := c.Mark(tt.ballot, c.Index())
			if err != nil {
				t.Fatalf("Mark: %v", err)
			}
			if got, want := c.Classify(m), tt.want; got != want {
				t.Errorf("Classify = %q, want %q", got, want)
			}
			cnt := tally.NewCount(c)
			if got, want := cnt.Add(m), tt.want; got != want {
				t.Errorf("Add = %q, want %q", got, want)
			}
			var got []string
			for i, v := range cnt.Votes() {
				if v > 1 {
					t.Errorf("%s got %d votes from one ballot", c.Candidates[i].ID, v)
				}
				if v == 1 {
					got = append(got, c.Candidates[i].ID)
				}
			}
			if !slices.Equal(got, tt.kept) {
				t.Errorf("votes went to %v, want %v", got, tt.kept)
			}
		})
	}
}

func TestClassifyApprove(t *testing.T) {
	single := newContest(t, 1, 21, lettered(1), nil)
	multi := newContest(t, 3, 15, lettered(3), nil)
	// Kind opinion is built on its own; Classify
	// reads only the kind, the list and the seats.
	o := *multi
	o.Kind = tally.KindOpinion
	opinion := &o
	marks := func(ms ...tally.Mark) []tally.Mark { return ms }
	const (
		none     = tally.MarkNone
		agree    = tally.MarkAgree
		disagree = tally.MarkDisagree
		both     = tally.MarkBoth
	)
	tests := []struct {
		name    string
		contest *tally.Contest
		marks   []tally.Mark
		want    tally.Reason
	}{
		// Ex 5: one name, exactly one box.
		{"single agree", single, marks(agree), tally.Valid},
		{"single disagree", single, marks(disagree), tally.Valid},
		{"single both", single, marks(both), tally.ReasonAmbiguousSingle},
		{"single none", single, marks(none), tally.ReasonAmbiguousSingle},
		// Ex 6: several names; both/none rows count for nobody.
		{"multi all agree", multi, marks(agree, agree, agree), tally.Valid},
		{"multi some both/none", multi, marks(agree, both, none), tally.Valid},
		{"multi one agree, rest disagree", multi, marks(disagree, agree, disagree), tally.Valid},
		// 244-QĐ/TW Điều 17.2: a multi-name ballot that votes for nobody
		// is invalid, whatever its other rows (audit B7).
		{"multi all none", multi, marks(none, none, none), tally.ReasonNoVote},
		{"multi all both", multi, marks(both, both, both), tally.ReasonNoVote},
		{"multi all disagree", multi, marks(disagree, disagree, disagree), tally.ReasonNoVote},
		{"multi disagree and both", multi, marks(disagree, both, none), tally.ReasonNoVote},
		// An opinion ballot is not an election: "không đồng ý" to every
		// nominee is a valid opinion.
		{"opinion all disagree", opinion, marks(disagree, disagree, disagree), tally.Valid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := tt.contest.Classify(tally.Marking{Marks: tt.marks}), tt.want; got != want {
				t.Errorf("Classify = %q, want %q", got, want)
			}
		})
	}

	// Through ballots: a missing row is "none".
	for _, tt := range []struct {
		name    string
		contest *tally.Contest
		marks   map[string]tally.Mark
		want    tally.Reason
	}{
		{"single, no marks at all", single, map[string]tally.Mark{}, tally.ReasonAmbiguousSingle},
		{"single, explicit none", single, map[string]tally.Mark{"A": none}, tally.ReasonAmbiguousSingle},
		{"multi, no marks at all", multi, map[string]tally.Mark{}, tally.ReasonNoVote},
		{"multi, one row given", multi, map[string]tally.Mark{"B": agree}, tally.Valid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.contest.Mark(tally.Ballot{ID: "b", Marks: tt.marks}, tt.contest.Index())
			if err != nil {
				t.Fatalf("Mark: %v", err)
			}
			if got, want := tt.contest.Classify(m), tt.want; got != want {
				t.Errorf("Classify = %q, want %q", got, want)
			}
		})
	}
}

// Ex 6 counted: every ballot valid; X 13 (86,67%) and Y 9 (60,00%)
// elected, Z 7 not; agree + disagree + unmarked = valid for each.
func TestApproveCountEx6(t *testing.T) {
	c := newContest(t, 3, 15, []tally.Candidate{cand("X", "Lê Văn X"), cand("Y", "Lê Văn Y"), cand("Z", "Lê Văn Z")},
		func(c *tally.Contest) { c.Kind = tally.KindInspectionCommittee })
	// Each candidate's rows in a run of ballots starting at its own place,
	// so that every ballot agrees with someone (a ballot that agrees with
	// nobody is invalid, 244 Điều 17.2): X agrees on 0–12, Y on 13–6, Z on
	// 0–6; the one row of each left is none.
	rows := []struct {
		id                     string
		start, agree, disagree int
	}{{"X", 0, 13, 1}, {"Y", 13, 9, 5}, {"Z", 0, 7, 7}}
	ballots := make([]tally.Ballot, 15)
	for k := range ballots {
		ballots[k] = tally.Ballot{ID: fmt.Sprintf("a%04d", k), Marks: map[string]tally.Mark{}}
	}
	for _, r := range rows {
		for j := range r.agree + r.disagree {
			mk := tally.MarkAgree
			if j >= r.agree {
				mk = tally.MarkDisagree
			}
			ballots[(r.start+j)%15].Marks[r.id] = mk
		}
	}
	// Make the both/none rows a mix: the last ballot marks both boxes for X.
	ballots[14].Marks["X"] = tally.MarkBoth
	res := resultOf(t, c, ballots)
	if got, want := res.Ballots.Valid, 15; got != want {
		t.Errorf("valid = %d, want %d", got, want)
	}
	for _, tt := range []struct {
		id                        string
		agree, disagree, unmarked int
		text                      string
		status                    tally.Status
	}{
		{"X", 13, 1, 1, "86,67%", tally.StatusElected},
		{"Y", 9, 5, 1, "60,00%", tally.StatusElected},
		{"Z", 7, 7, 1, "46,67%", tally.StatusNotElected},
	} {
		cr := candidateResult(t, res, tt.id)
		if cr.Agree == nil || cr.Disagree == nil || cr.Unmarked == nil {
			t.Fatalf("%s: approve counts missing: %+v", tt.id, cr)
		}
		if got, want := [4]int{cr.Votes, *cr.Agree, *cr.Disagree, *cr.Unmarked}, [4]int{tt.agree, tt.agree, tt.disagree, tt.unmarked}; got != want {
			t.Errorf("%s: votes, agree, disagree, unmarked = %v, want %v", tt.id, got, want)
		}
		if got, want := cr.Text, tt.text; got != want {
			t.Errorf("%s: percent_text = %q, want %q", tt.id, got, want)
		}
		if got, want := cr.Status, tt.status; got != want {
			t.Errorf("%s: status = %q, want %q", tt.id, got, want)
		}
	}
	if got, want := res.Vacant, 1; got != want {
		t.Errorf("vacant = %d, want %d", got, want)
	}
}

// Ex 5: single candidate; both-box and no-box ballots are invalid.
func TestApproveCountEx5(t *testing.T) {
	c := newContest(t, 1, 21, []tally.Candidate{cand("A", "Nguyễn Văn An")}, func(c *tally.Contest) { c.Kind = tally.KindSecretary })
	ballots := approveBallots(18, map[string]int{"A": 16}, map[string]int{"A": 2})
	ballots = append(ballots,
		tally.Ballot{ID: "both", Marks: map[string]tally.Mark{"A": tally.MarkBoth}},
		tally.Ballot{ID: "none", Marks: map[string]tally.Mark{}},
	)
	res := resultOf(t, c, ballots)
	if got, want := [3]int{res.Ballots.Total, res.Ballots.Valid, res.Ballots.Invalid}, [3]int{20, 18, 2}; got != want {
		t.Errorf("total, valid, invalid = %v, want %v", got, want)
	}
	if got, want := res.Ballots.InvalidByReason, map[string]int{"ambiguous_single": 2}; !mapsEqual(got, want) {
		t.Errorf("invalid_by_reason = %v, want %v", got, want)
	}
	cr := candidateResult(t, res, "A")
	if got, want := cr.Text, "76,19%"; got != want {
		t.Errorf("percent_text = %q, want %q", got, want)
	}
	if got, want := res.Elected, []string{"A"}; !slices.Equal(got, want) {
		t.Errorf("elected = %v, want %v", got, want)
	}
}

// The committee's rulings on sight come before anything the marks say.
func TestOnSightRulings(t *testing.T) {
	strike := newContest(t, 5, 20, lettered(7), nil)
	approve := newContest(t, 3, 20, lettered(3), nil)
	for _, r := range []tally.Reason{tally.ReasonNotIssued, tally.ReasonWriteIn, tally.ReasonIdentifyingMark, tally.ReasonOther} {
		if !r.OnSight() {
			t.Errorf("%q.OnSight() = false, want true", r)
		}
		for _, c := range []*tally.Contest{strike, approve} {
			b := invalidBallot("b", r)
			m, err := c.Mark(b, c.Index())
			if err != nil {
				t.Fatalf("%s on a %s contest: %v", r, c.Ballot, err)
			}
			if got, want := c.Classify(m), r; got != want {
				t.Errorf("%s contest: Classify = %q, want %q", c.Ballot, got, want)
			}
		}
		// A ruling wins over marks that would be valid.
		if got, want := strike.Classify(tally.Marking{Ruling: r, Struck: []uint16{0, 1}}), r; got != want {
			t.Errorf("ruling with valid marks: Classify = %q, want %q", got, want)
		}
	}
	for _, r := range []tally.Reason{tally.Valid, tally.ReasonOverVote, tally.ReasonNoVote, tally.ReasonAmbiguousSingle} {
		if r.OnSight() {
			t.Errorf("%q.OnSight() = true, want false", r)
		}
	}
	// Every reason is listed once, with its wire name.
	var names []string
	for _, r := range tally.Reasons() {
		names = append(names, r.String())
	}
	if got, want := names, []string{"over_vote", "no_vote", "ambiguous_single", "not_issued", "write_in", "identifying_mark", "other"}; !slices.Equal(got, want) {
		t.Errorf("Reasons() = %v, want %v", got, want)
	}
}

func TestParseBallot(t *testing.T) {
	tests := []struct {
		name  string
		input string
		field string // "" with ok false: an error on the whole input
		ok    bool
		want  tally.Ballot
	}{
		{name: "strike", input: `{"id": "b-0001", "struck": ["c2", "c5"]}`, ok: true,
			want: tally.Ballot{ID: "b-0001", Struck: []string{"c2", "c5"}}},
		{name: "untouched", input: `{"id": "b-0001", "struck": []}`, ok: true,
			want: tally.Ballot{ID: "b-0001", Struck: []string{}}},
		{name: "approve", input: `{"id": "b-0002", "marks": {"c1": "agree", "c2": "disagree", "c3": "both", "c4": "none"}}`, ok: true,
			want: tally.Ballot{ID: "b-0002", Marks: map[string]tally.Mark{"c1": tally.MarkAgree, "c2": tally.MarkDisagree, "c3": tally.MarkBoth, "c4": tally.MarkNone}}},
		{name: "approve, no box", input: `{"id": "b-0002", "marks": {}}`, ok: true,
			want: tally.Ballot{ID: "b-0002", Marks: map[string]tally.Mark{}}},
		{name: "invalid on sight", input: `{"id": "b-0003", "invalid": "write_in", "note": "ghi  thêm tên "}`, ok: true,
			want: tally.Ballot{ID: "b-0003", Invalid: tally.ReasonWriteIn, Note: "ghi thêm tên"}},
		{name: "other with note", input: `{"id": "b-0004", "invalid": "other", "note": "rách"}`, ok: true,
			want: tally.Ballot{ID: "b-0004", Invalid: tally.ReasonOther, Note: "rách"}},
		{name: "trailing newline", input: "{\"id\": \"b\", \"struck\": []}\r\n", ok: true,
			want: tally.Ballot{ID: "b", Struck: []string{}}},

		{name: "unknown field", input: `{"id": "b", "struck": [], "stamp": true}`, field: "stamp"},
		{name: "missing id", input: `{"struck": ["c1"]}`, field: "id"},
		{name: "empty id", input: `{"id": "", "struck": ["c1"]}`, field: "id"},
		{name: "id with a space", input: `{"id": "b 1", "struck": ["c1"]}`, field: "id"},
		{name: "id too long", input: `{"id": "` + strings.Repeat("x", 129) + `", "struck": []}`, field: "id"},
		{name: "neither struck nor marks", input: `{"id": "b"}`, field: "struck"},
		{name: "both struck and marks", input: `{"id": "b", "struck": [], "marks": {}}`, field: "struck"},
		{name: "invalid with struck", input: `{"id": "b", "invalid": "write_in", "struck": ["c1"]}`, field: "invalid"},
		{name: "invalid with empty marks", input: `{"id": "b", "invalid": "write_in", "marks": {}}`, field: "invalid"},
		{name: "other without note", input: `{"id": "b", "invalid": "other"}`, field: "note"},
		{name: "other with a blank note", input: `{"id": "b", "invalid": "other", "note": "  "}`, field: "note"},
		{name: "note too long", input: `{"id": "b", "invalid": "other", "note": "` + strings.Repeat("ư", 501) + `"}`, field: "note"},
		{name: "bad mark", input: `{"id": "b", "marks": {"c1": "yes"}}`, field: "marks"},
		{name: "mark as number", input: `{"id": "b", "marks": {"c1": 1}}`, field: "marks.c1"},
		{name: "engine reason given", input: `{"id": "b", "invalid": "over_vote"}`, field: "invalid"},
		{name: "bad invalid value", input: `{"id": "b", "invalid": "dirty"}`, field: "invalid"},
		{name: "struck not a list", input: `{"id": "b", "struck": "c1"}`, field: "struck"},
		{name: "id a number", input: `{"id": 7, "struck": []}`, field: "id"},
		{name: "trailing garbage", input: `{"id": "b", "struck": []}x`},
		{name: "trailing brace", input: `{"id": "b", "struck": []}}`},
		{name: "trailing bracket", input: `{"id": "b", "struck": []}]`},
		{name: "two objects", input: `{"id": "b", "struck": []} {"id": "c", "struck": []}`},
		{name: "truncated", input: `{"id": "b", "struck": [`},
		{name: "empty", input: ``},
		{name: "not an object", input: `["c1"]`, field: "(value)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tally.ParseBallot([]byte(tt.input))
			if tt.ok {
				if err != nil {
					t.Fatalf("ParseBallot: %v", err)
				}
				if !reflect.DeepEqual(b, tt.want) {
					t.Errorf("ParseBallot = %#v, want %#v", b, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseBallot accepted %s as %#v", tt.input, b)
			}
			ps := tally.Problems(err)
			if len(ps) == 0 {
				t.Fatalf("no problems in %v", err)
			}
			if got, want := ps[0].Field, tt.field; got != want {
				t.Errorf("field = %q, want %q (%v)", got, want, err)
			}
			if got, want := tally.ErrorKind(err), tally.Invalid; got != want {
				t.Errorf("kind = %q, want %q", got, want)
			}
		})
	}
}

// Contest.Mark checks a ballot against the list, naming the field; the
// BallotDecoder accepts and refuses the same lines with the same markings.
func TestMarkAgainstContest(t *testing.T) {
	strike := newContest(t, 2, 10, lettered(4), nil) // A B C D
	approve := newContest(t, 3, 10, lettered(3), nil)
	tests := []struct {
		name    string
		contest *tally.Contest
		line    string
		field   string
		ok      bool
		want    tally.Marking
	}{
		{name: "strike", contest: strike, line: `{"id": "b", "struck": ["D", "B"]}`, ok: true,
			want: tally.Marking{Struck: []uint16{3, 1}}},
		{name: "untouched", contest: strike, line: `{"id": "b", "struck": []}`, ok: true,
			want: tally.Marking{Struck: []uint16{}}},
		{name: "approve", contest: approve, line: `{"id": "b", "marks": {"C": "agree", "A": "both"}}`, ok: true,
			want: tally.Marking{Marks: []tally.Mark{tally.MarkBoth, tally.MarkNone, tally.MarkAgree}}},
		{name: "invalid on a strike contest", contest: strike, line: `{"id": "b", "invalid": "not_issued"}`, ok: true,
			want: tally.Marking{Ruling: tally.ReasonNotIssued}},
		{name: "invalid on an approve contest", contest: approve, line: `{"id": "b", "invalid": "identifying_mark"}`, ok: true,
			want: tally.Marking{Ruling: tally.ReasonIdentifyingMark}},

		{name: "unknown id in struck", contest: strike, line: `{"id": "b", "struck": ["A", "Q"]}`, field: "struck[1]"},
		{name: "struck twice", contest: strike, line: `{"id": "b", "struck": ["B", "C", "B"]}`, field: "struck[2]"},
		{name: "unknown id in marks", contest: approve, line: `{"id": "b", "marks": {"A": "agree", "Q": "agree"}}`, field: "marks.Q"},
		{name: "marks on a strike contest", contest: strike, line: `{"id": "b", "marks": {"A": "agree"}}`, field: "marks"},
		{name: "struck on an approve contest", contest: approve, line: `{"id": "b", "struck": ["A"]}`, field: "struck"},
		{name: "empty struck on an approve contest", contest: approve, line: `{"id": "b", "struck": []}`, field: "struck"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tally.ParseBallot([]byte(tt.line))
			if err != nil {
				t.Fatalf("ParseBallot: %v", err)
			}
			m, err := tt.contest.Mark(b, tt.contest.Index())
			if tt.ok {
				if err != nil {
					t.Fatalf("Mark: %v", err)
				}
				if !sameMarking(m, tt.want) {
					t.Errorf("Mark = %#v, want %#v", m, tt.want)
				}
			} else {
				if err == nil {
					t.Fatalf("Mark accepted %s as %#v", tt.line, m)
				}
				if got, want := problemFields(err), []string{tt.field}; !slices.Equal(got, want) {
					t.Errorf("fields = %q, want %q (%v)", got, want, err)
				}
			}
			id, dm, derr := tally.NewBallotDecoder(tt.contest).Decode([]byte(tt.line))
			if (derr == nil) != tt.ok {
				t.Fatalf("BallotDecoder: err = %v, want ok = %v", derr, tt.ok)
			}
			if tt.ok {
				if id != "b" {
					t.Errorf("BallotDecoder id = %q, want %q", id, "b")
				}
				if !sameMarking(dm, tt.want) {
					t.Errorf("BallotDecoder marking = %#v, want %#v", dm, tt.want)
				}
			}
		})
	}
}

// sameMarking compares markings, taking a nil and an empty slice as equal
// (a decoder may reuse buffers) and the struck indexes as a set.
func sameMarking(a, b tally.Marking) bool {
	as, bs := slices.Clone(a.Struck), slices.Clone(b.Struck)
	slices.Sort(as)
	slices.Sort(bs)
	return a.Ruling == b.Ruling && slices.Equal(as, bs) && slices.Equal(a.Marks, b.Marks)
}

// An unknown mark is refused whatever the map order, even when the
// unknown id is the empty string (found by FuzzBallotDecoder).
func TestMarkUnknownEmptyID(t *testing.T) {
	c := mustParseContest(t, `{"id":"x","title":"T","kind":"other","seats":2,"ballot":"approve",
		"electorate":{"congress":"body","convened":5},"candidates":[{"id":"c1","name":"An"},{"id":"c2","name":"Bình"}]}`)
	for range 50 { // map iteration order varies from run to run
		b := tally.Ballot{ID: "b", Marks: map[string]tally.Mark{"": tally.MarkAgree, "zz": tally.MarkBoth, "c1": tally.MarkAgree}}
		_, err := c.Mark(b, c.Index())
		if err == nil || tally.Problems(err)[0].Field != "marks." {
			t.Fatalf("err = %v, want the least unknown id (\"\") named", err)
		}
	}
}
