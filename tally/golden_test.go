package tally

import "testing"

func goldenEntries() []Entry {
	strike := Ballot{ID: "b-0000001", Struck: []string{"c07", "c12", "c59"}}
	empty := Ballot{ID: "b-2", Struck: []string{}}
	marks := Ballot{ID: "a-1", Marks: map[string]Mark{"c2": MarkDisagree, "c1": MarkAgree}, Note: "ghi chú \"<&>\"\n"}
	invalid := Ballot{ID: "x-1", Invalid: ReasonNotIssued, Note: "rách"}
	es := []Entry{
		{Ballot: &strike, Desk: "Bàn kiểm phiếu 1", Time: "2026-11-21T09:00:00Z"},
		{Ballot: &empty, Desk: "desk \u2028 2", Time: "2026-11-21T09:00:01Z"},
		{Ballot: &marks, Desk: "d", Time: "2026-11-21T09:00:02Z"},
		{Ballot: &invalid, Desk: "d", Time: "2026-11-21T09:00:03Z"},
		{Void: &Void{Seq: 1, Ballot: "b-0000001", Reason: "nhầm"}, Desk: "d", Time: "2026-11-21T09:00:04Z"},
	}
	seq, head := int64(0), GenesisHash
	for i := range es {
		es[i].Link(seq, head)
		seq, head = es[i].Seq, es[i].Hash
	}
	return es
}

// TestCanonicalGolden pins the bytes of log lines, and so every hash of
// every log already written: they were printed by the code as it was
// before the serialiser was made faster (commit a4fd7ec), and must never
// change.
func TestCanonicalGolden(t *testing.T) {
	want := []string{
		`{"seq":1,"ballot":{"id":"b-0000001","struck":["c07","c12","c59"]},"desk":"Bàn kiểm phiếu 1","time":"2026-11-21T09:00:00Z","prev":"0000000000000000000000000000000000000000000000000000000000000000","hash":"f89946ee40a64434a5c53e3535fd9cf2375612ae9e8200e161a26c44f0ea5dad"}`,
		`{"seq":2,"ballot":{"id":"b-2","struck":[]},"desk":"desk \u2028 2","time":"2026-11-21T09:00:01Z","prev":"f89946ee40a64434a5c53e3535fd9cf2375612ae9e8200e161a26c44f0ea5dad","hash":"b6a83312061b91fee29be28412d4ba956f6d42bed39165360674e6c774614756"}`,
		`{"seq":3,"ballot":{"id":"a-1","marks":{"c1":"agree","c2":"disagree"},"note":"ghi chú \"<&>\"\n"},"desk":"d","time":"2026-11-21T09:00:02Z","prev":"b6a83312061b91fee29be28412d4ba956f6d42bed39165360674e6c774614756","hash":"0fef37989f6c883a4727219cb9908ec5080b5ddbaac201d41e1f0d211ca76e48"}`,
		`{"seq":4,"ballot":{"id":"x-1","invalid":"not_issued","note":"rách"},"desk":"d","time":"2026-11-21T09:00:03Z","prev":"0fef37989f6c883a4727219cb9908ec5080b5ddbaac201d41e1f0d211ca76e48","hash":"25ed3957be4db32b4667e5fe0fc7f2abeec49ca9bc83718db56b3c0ee27f7f26"}`,
		`{"seq":5,"void":{"seq":1,"ballot":"b-0000001","reason":"nhầm"},"desk":"d","time":"2026-11-21T09:00:04Z","prev":"25ed3957be4db32b4667e5fe0fc7f2abeec49ca9bc83718db56b3c0ee27f7f26","hash":"abf561f9d522697d6f4fb0351404d1c31fa15cc37f70a3d618a1e536c8dc45f9"}`,
	}
	for i, e := range goldenEntries() {
		got, _ := e.MarshalJSON()
		if string(got) != want[i] {
			t.Errorf("entry %d:\n got %s\nwant %s", i+1, got, want[i])
		}
	}
}
