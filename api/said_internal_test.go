package api

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// TestRefusalKeysExist: every message key the API says a refusal with
// exists (web.Lang.T shows a missing key as itself): the labels of the
// fields, the sentences of each kind with and without a field, and every
// key literal in the package's sources (refused(…, "key"), l.T("key")).
// A key made by concatenation ends with "." in the source and is checked
// with each of its endings.
func TestRefusalKeysExist(t *testing.T) {
	missing := func(k string) bool { return web.Vietnamese.T(k) == k || web.English.T(k) == k }
	for f, k := range fieldLabelKeys {
		if missing(k) {
			t.Errorf("the label of %s, %s, is not a message", f, k)
		}
	}
	for f, k := range refusalKeys {
		if missing(k) {
			t.Errorf("the refusal of %q, %s, is not a message", f, k)
		}
	}
	for kind := range statusOf {
		for _, k := range []string{"refusal." + string(kind), "refusal.field." + string(kind)} {
			if missing(k) {
				t.Errorf("the kind %s has no sentence %s", kind, k)
			}
		}
	}
	for _, st := range []tally.State{tally.StateDraft, tally.StateOpen, tally.StateClosed, tally.StateCertified} {
		if k := notOpenKey(st); missing(k) {
			t.Errorf("a desk on a round %s is told %s, which is not a message", st, k)
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	literal := regexp.MustCompile(`"((?:refusal|field|imports|keys|hands|appointment|error|desk|setup|users|account|login)\.[a-z_.]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			k := m[1]
			if strings.HasSuffix(k, ".") {
				continue // a prefix: its keys are checked above or by their pages' tests
			}
			n++
			if missing(k) {
				t.Errorf("%s says %q, which is not a message", f, k)
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d message keys found in the sources; the pattern has gone stale", n)
	}
}

// TestSayProblem: the field's label, its row, the kind; never the path.
func TestSayProblem(t *testing.T) {
	cases := []struct {
		err  *tally.Error
		want string
	}{
		{&tally.Error{Kind: tally.Invalid, Field: "candidates[2].name", Message: "required"}, "Cần nhập mục “Họ và tên (dòng 3)”."},
		{&tally.Error{Kind: tally.Invalid, Field: "electorate.exclusions.absent_with_leave", Message: "must not be negative"}, "Mục “Tổng số đại biểu (đảng viên) và mẫu số D” chưa đúng; hãy kiểm tra lại."},
		{&tally.Error{Kind: tally.Invalid, Field: "row 4, Ngày sinh", Message: "bad"}, "Mục “dòng 4, cột Ngày sinh của tệp” chưa đúng; hãy kiểm tra lại."},
		{&tally.Error{Kind: tally.Invalid, Field: "zzz[1].qqq", Message: "bad"}, web.Vietnamese.T("refusal.invalid")},
		{&tally.Error{Kind: tally.Conflict, Field: "id", Message: "exists"}, web.Vietnamese.T("refusal.conflict.id")},
		{&tally.Error{Kind: tally.NotFound, Message: `no contest "x"`}, web.Vietnamese.T("refusal.not_found")},
		{&tally.Error{Kind: "strange", Field: "title", Message: "?"}, "Máy chủ gặp lỗi (mục “Tên cuộc bầu”); hãy báo cho người quản trị."},
	}
	for _, tc := range cases {
		if got := sayProblem(web.Vietnamese, tc.err); got != tc.want {
			t.Errorf("sayProblem(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestSayEngineChecks runs the engine's own checks of a contest and reads
// what the page says: each is the full sentence of refusalPatterns, so a
// changed engine message that no longer matches its prefix fails here.
func TestSayEngineChecks(t *testing.T) {
	cands := func(n int) []tally.Candidate {
		out := make([]tally.Candidate, n)
		for i := range out {
			out[i] = tally.Candidate{ID: "c" + string(rune('a'+i)), Name: "Người " + string(rune('A'+i))}
		}
		return out
	}
	base := func(kind tally.ContestKind, ballot tally.BallotStyle, seats, n int) *tally.Contest {
		return &tally.Contest{ID: "x", Title: "Bầu thử", Kind: kind, Round: 1, Seats: seats, Ballot: ballot,
			Electorate: tally.Electorate{Congress: tally.CongressMembers, Convened: 20},
			Percent:    tally.PercentPolicy{Places: 2, Rounding: tally.RoundHalfUp}, Candidates: cands(n)}
	}
	exclusions := base(tally.KindCommittee, tally.StyleStrike, 3, 4)
	exclusions.Electorate.Exclusions.AbsentWithLeave = 20
	cases := []struct {
		name string
		c    *tally.Contest
		key  string
	}{
		{"strike without surplus", base(tally.KindSecretary, tally.StyleStrike, 1, 1), "refusal.ballot.strike"},
		{"approve with a surplus", base(tally.KindSecretary, tally.StyleApprove, 1, 2), "refusal.ballot.approve"},
		{"3 seats, surplus 2", base(tally.KindCommittee, tally.StyleStrike, 3, 5), "refusal.candidates.surplus_one"},
		{"10 seats, surplus 4", base(tally.KindCommittee, tally.StyleStrike, 10, 14), "refusal.candidates.surplus_limit"},
		{"no one convened left", exclusions, "refusal.exclusions.all"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := web.Vietnamese.T(tc.key)
			var said []string
			for _, p := range tally.Problems(tc.c.Validate()) {
				said = append(said, sayProblem(web.Vietnamese, p))
			}
			if !slices.Contains(said, want) {
				t.Errorf("said %q; want %q among them (problems: %v)", said, want, tc.c.Validate())
			}
		})
	}
}
