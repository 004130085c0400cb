package api

import (
	"os"
	"path/filepath"
	"regexp"
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
