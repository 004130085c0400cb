package tally_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

func meetingCandidates(names ...string) []tally.Candidate {
	var out []tally.Candidate
	for i, n := range names {
		out = append(out, tally.Candidate{ID: "c" + string(rune('1'+i)), Name: n})
	}
	return out
}

func TestCheckFrom(t *testing.T) {
	elected := meetingCandidates("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường")
	tests := []struct {
		name       string
		candidates []tally.Candidate
		word       string
		fields     []string // the problems' fields, in order; none: accepted
		message    string
	}{
		{"all among the elected", elected[:2], "", nil, ""},
		{"the whole body", elected, "elected", nil, ""},
		{"a name not elected", []tally.Candidate{elected[0], {ID: "c9", Name: "Phạm Văn Dũng"}}, "",
			[]string{"candidates[1]"}, "Phạm Văn Dũng (c9) is not among the 3 elected by bch (from)"},
		{"the id of another name", []tally.Candidate{{ID: "c2", Name: "Trần Thị Bích"}}, "",
			[]string{"candidates[0]"}, `c2 is "Trần Thị Bình" among the elected by bch, not "Trần Thị Bích"`},
		{"after an introduction ballot", []tally.Candidate{{ID: "x", Name: "Hồ Văn Em"}}, "introduced",
			[]string{"candidates[0]"}, "not among the 3 introduced by bch"},
		{"NFD and extra spaces are the same name", []tally.Candidate{{ID: "c1", Name: "Nguye\u0302\u0303n  Văn An"}}, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &tally.Contest{ID: "btv", From: "bch", Candidates: tt.candidates}
			probs := tally.Problems(tally.CheckFrom(c, elected, tt.word))
			var fields []string
			for _, p := range probs {
				fields = append(fields, p.Field)
				if p.Kind != tally.Invalid {
					t.Errorf("%s: kind %s, want invalid", p.Field, p.Kind)
				}
			}
			if !slices.Equal(fields, tt.fields) {
				t.Fatalf("fields %v, want %v (%v)", fields, tt.fields, probs)
			}
			if tt.message != "" && !strings.Contains(probs[0].Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", probs[0].Message, tt.message)
			}
		})
	}
}

func TestDefaultFromConvened(t *testing.T) {
	tests := []struct {
		name     string
		from     string
		congress tally.Congress
		convened int
		elected  int
		want     int
		filled   bool
	}{
		{"a body meeting linked, convened left 0", "bch", tally.CongressBody, 0, 9, 9, true},
		{"convened typed in stays", "bch", tally.CongressBody, 11, 9, 11, false},
		{"no link, no default", "", tally.CongressBody, 0, 9, 0, false},
		{"a congress of members is not a body meeting", "bch", tally.CongressMembers, 0, 9, 0, false},
		{"nobody elected there", "bch", tally.CongressBody, 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &tally.Contest{From: tt.from, Electorate: tally.Electorate{Congress: tt.congress, Convened: tt.convened}}
			if got := c.DefaultFromConvened(tt.elected); got != tt.filled || c.Electorate.Convened != tt.want {
				t.Errorf("filled %v, convened %d; want %v, %d", got, c.Electorate.Convened, tt.filled, tt.want)
			}
		})
	}
}

func TestFromWarnings(t *testing.T) {
	tests := []struct {
		name     string
		kind     tally.ContestKind
		from     string
		congress tally.Congress
		fromKind tally.ContestKind
		elected  int
		want     []string
	}{
		{"standing committee from a committee of 9", tally.KindStandingCommittee, "bch", tally.CongressBody, tally.KindCommittee, 9, nil},
		{"standing committee from a committee of 7", tally.KindStandingCommittee, "bch", tally.CongressBody, tally.KindCommittee, 7, []string{string(tally.WarnStandingCommitteeSmall)}},
		{"standing committee at a body meeting without a link", tally.KindStandingCommittee, "", tally.CongressBody, "", 0, []string{string(tally.WarnFromKind)}},
		{"secretary elected by the congress itself, no link", tally.KindSecretary, "", tally.CongressMembers, "", 0, nil},
		{"secretary from the standing committee", tally.KindSecretary, "btv", tally.CongressBody, tally.KindStandingCommittee, 5, nil},
		{"branch secretary from the branch committee", tally.KindSecretary, "cu", tally.CongressMembers, tally.KindCommittee, 3, nil},
		{"secretary from an introduction ballot", tally.KindSecretary, "gt", tally.CongressMembers, tally.KindIntroduction, 2, nil},
		{"secretary from the inspection committee", tally.KindSecretary, "ubkt", tally.CongressBody, tally.KindInspectionCommittee, 5, []string{string(tally.WarnFromKind)}},
		{"inspection vice-chair from the inspection committee", tally.KindInspectionViceChair, "ubkt", tally.CongressBody, tally.KindInspectionCommittee, 5, nil},
		{"inspection chair from the committee", tally.KindInspectionChair, "bch", tally.CongressBody, tally.KindCommittee, 15, []string{string(tally.WarnFromKind)}},
		{"a committee has no origin", tally.KindCommittee, "", tally.CongressBody, "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &tally.Contest{Kind: tt.kind, From: tt.from, Electorate: tally.Electorate{Congress: tt.congress}}
			var got []string
			for _, w := range tally.FromWarnings(c, tt.fromKind, tt.elected) {
				got = append(got, string(w.Code))
				if w.Message == "" {
					t.Errorf("%s without a message", w.Code)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAppointmentValidate(t *testing.T) {
	ok := func() tally.Appointment {
		return tally.Appointment{ID: "a1", Kind: tally.KindSecretary, Authority: "Ban Thường vụ Đảng ủy phường",
			Date: "2025-05-20", People: []tally.Candidate{{Name: "Nguyễn Văn An", BirthDate: "1980-01-01"}}}
	}
	tests := []struct {
		name   string
		edit   func(a *tally.Appointment)
		fields []string
	}{
		{"valid", func(a *tally.Appointment) {}, nil},
		{"no kind", func(a *tally.Appointment) { a.Kind = "" }, []string{"kind"}},
		{"an opinion ballot fills no office", func(a *tally.Appointment) { a.Kind = tally.KindOpinion }, []string{"kind"}},
		{"no people", func(a *tally.Appointment) { a.People = nil }, []string{"people"}},
		{"a person without a name", func(a *tally.Appointment) { a.People = append(a.People, tally.Candidate{}) }, []string{"people[1].name"}},
		{"no authority", func(a *tally.Appointment) { a.Authority = " " }, []string{"authority"}},
		{"a date not YYYY-MM-DD", func(a *tally.Appointment) { a.Date = "20/05/2025" }, []string{"date"}},
		{"born after the appointment", func(a *tally.Appointment) { a.People[0].BirthDate = "2026-01-01" }, []string{"people[0].birth_date"}},
		{"a bad id", func(a *tally.Appointment) { a.ID = "a 1" }, []string{"id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ok()
			tt.edit(&a)
			a.Normalize()
			var fields []string
			for _, p := range tally.Problems(a.Validate()) {
				fields = append(fields, p.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("fields %v, want %v", fields, tt.fields)
			}
		})
	}
	// A congress record refuses two appointments of one id.
	rec := &tally.CongressRecord{ID: "dh", Organization: "Chi bộ 1", Name: "Đại hội Chi bộ 1", Appointments: []tally.Appointment{ok(), ok()}}
	rec.Normalize()
	if probs := tally.Problems(rec.Validate()); len(probs) != 1 || probs[0].Field != "appointments[1].id" {
		t.Errorf("two appointments a1: %v, want one problem at appointments[1].id", probs)
	}
}

// A6 (rules audit): a branch secretary after three failed rounds is
// appointed by the higher committee. The election stays "fell short" (what
// the ballots did), the appointment fills its seat: the totals count it as
// appointed, not vacant, and the person joins the composition.
func TestRollupAppointmentAfterThreeFailedRounds(t *testing.T) {
	cg := &tally.CongressRecord{ID: "cb1", Organization: "Chi bộ 1", Superior: "Đảng bộ Phường 4", Name: "Đại hội Chi bộ 1", Term: "2025–2030"}
	var rounds []tally.RollupRound
	ids := []string{"bt-r1", "bt-r2", "bt-r3"}
	for i, id := range ids {
		rr := rollupRound(t, "cb1", id, i+1, 1, 0, tally.StateCertified, halfUp2)
		rr.Record.Contest.Kind = tally.KindSecretary
		if i > 0 {
			rr.Record.Previous = ids[i-1]
		}
		if i < len(ids)-1 {
			rr.Record.Next = ids[i+1]
		}
		rounds = append(rounds, rr)
	}
	cg.Appointments = []tally.Appointment{{ID: "a1", Kind: tally.KindSecretary, Authority: "Ban Thường vụ Đảng ủy Phường 4",
		Decision: "Quyết định số 12-QĐ/ĐU", Date: "2025-05-20", After: "bt-r3",
		People: []tally.Candidate{{ID: "p1", Name: "Nguyễn Thị Hoa", Gender: tally.GenderFemale, BirthDate: "1990-03-01"}}}}
	r, err := tally.ComputeRollup(tally.RollupInput{Organization: "Đảng bộ Phường 4", Congresses: []*tally.CongressRecord{cg}, Rounds: rounds})
	if err != nil {
		t.Fatal(err)
	}
	es := r.Congresses[0].Elections
	if len(es) != 2 {
		t.Fatalf("%d lines, want the election and the appointment: %+v", len(es), es)
	}
	var election, appointed tally.RollupElection
	for _, e := range es {
		if e.Appointed {
			appointed = e
		} else {
			election = e
		}
	}
	if election.Outcome != tally.OutcomeFellShort || election.AppointedBy != "a1" || len(election.Rounds) != 3 {
		t.Errorf("the election: outcome %s, appointed_by %q, %d rounds; want fell_short, a1, 3", election.Outcome, election.AppointedBy, len(election.Rounds))
	}
	if appointed.Outcome != tally.OutcomeAppointed || appointed.Seats != 1 || appointed.Fills != 1 || appointed.Elected != 0 ||
		len(appointed.People) != 1 || appointed.People[0].Appointment != "a1" || appointed.Title != "Bí thư (chỉ định)" {
		t.Errorf("the appointment line: %+v", appointed)
	}
	if len(r.Totals) != 1 {
		t.Fatalf("totals %+v, want one kind", r.Totals)
	}
	tot := r.Totals[0]
	want := tally.KindTotals{Kind: tally.KindSecretary, Elections: 2, FellShort: 1, Appointed: 1, AppointedPeople: 1, Seats: 1}
	if tot.Elections != want.Elections || tot.FellShort != want.FellShort || tot.Appointed != want.Appointed ||
		tot.AppointedPeople != want.AppointedPeople || tot.Seats != want.Seats || tot.Vacant != 0 || tot.Elected != 0 {
		t.Errorf("totals %+v, want %+v", tot, want)
	}
	if tot.Seats != tot.Elected+tot.Vacant+tot.Undecided+tot.AppointedPeople {
		t.Errorf("seats %d ≠ elected + vacant + undecided + appointed people", tot.Seats)
	}
	if len(r.Composition) != 1 || r.Composition[0].Report.Elected != 1 || r.Composition[0].Report.Women.Count != 1 ||
		r.Composition[0].Report.Young == nil || r.Composition[0].Report.Young.Count != 1 {
		t.Errorf("composition %+v, want the appointed woman, 35 at the appointment's date", r.Composition)
	}
	if r.Counted != 3 {
		t.Errorf("counted rounds %d, want 3 (an appointment has none)", r.Counted)
	}
}

// An appointment of a new organization (no election before it) adds its
// seats: the committee of a merged ward, appointed whole.
func TestRollupAppointmentWithoutElection(t *testing.T) {
	cg := &tally.CongressRecord{ID: "p9", Organization: "Đảng bộ Phường 9", Name: "Đảng bộ Phường 9 (hợp nhất)",
		Appointments: []tally.Appointment{{ID: "a1", Kind: tally.KindCommittee, Authority: "Ban Thường vụ Thành ủy",
			People: meetingCandidates("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường")}}}
	r, err := tally.ComputeRollup(tally.RollupInput{Organization: "Đảng bộ Phường 9", Congresses: []*tally.CongressRecord{cg}})
	if err != nil {
		t.Fatal(err)
	}
	tot := r.Totals[0]
	if tot.Kind != tally.KindCommittee || tot.Elections != 1 || tot.Appointed != 1 || tot.AppointedPeople != 3 || tot.Seats != 3 || tot.Vacant != 0 {
		t.Errorf("totals %+v", tot)
	}
	if c := r.Composition[0].Report; c.Elected != 3 || c.Young != nil {
		t.Errorf("composition %+v: 3 people, no ages without a date", c)
	}
}

// exampleFrom pairs each example of a first-meeting contest with the
// election it draws on (its "from"): its candidates must be among those
// elected there (by the expected result), and its D the number elected.
var exampleFrom = []struct{ contest, from string }{
	{"ex17-first-meeting-standing", "ex17-first-meeting-committee"},
}

func TestExamplesFrom(t *testing.T) {
	for _, ef := range exampleFrom {
		t.Run(ef.contest, func(t *testing.T) {
			fromDir := filepath.Join(examplesDir, ef.from)
			from, err := tally.ParseContest(exReadFile(t, fromDir, "contest.json"))
			if err != nil {
				t.Fatal(err)
			}
			var res tally.Result
			if err := json.Unmarshal(exReadFile(t, fromDir, "result.json"), &res); err != nil {
				t.Fatal(err)
			}
			c, err := tally.ParseContest(exReadFile(t, filepath.Join(examplesDir, ef.contest), "contest.json"))
			if err != nil {
				t.Fatal(err)
			}
			if c.From != from.ID {
				t.Fatalf("from = %q, want %q", c.From, from.ID)
			}
			elected := tally.ElectedCandidates(from, &res)
			if err := tally.CheckFrom(c, elected, ""); err != nil {
				t.Errorf("CheckFrom: %v", err)
			}
			if d := c.Denominator(); d != len(elected) {
				t.Errorf("D = %d, want the %d elected by %s", d, len(elected), ef.from)
			}
			if w := tally.FromWarnings(c, from.Kind, len(elected)); len(w) != 0 {
				t.Errorf("warnings %v", w)
			}
			// One name not elected there is refused, naming its row.
			for _, cand := range from.Candidates {
				if slices.Contains(res.Elected, cand.ID) {
					continue
				}
				bad := *c
				bad.Candidates = append(slices.Clone(c.Candidates[:1]), cand)
				if probs := tally.Problems(tally.CheckFrom(&bad, elected, "")); len(probs) != 1 || probs[0].Field != "candidates[1]" {
					t.Errorf("%s (not elected) on the list: %v, want one problem at candidates[1]", cand.Name, probs)
				}
				break
			}
		})
	}
}
