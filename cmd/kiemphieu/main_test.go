package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

var update = flag.Bool("update", false, "rewrite the golden text tables in testdata/")

// runCLI runs the program in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// exampleDirs lists the worked examples that carry ballots and an expected result.
func exampleDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../../examples/*/ballots.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no examples found under examples/")
	}
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	return dirs
}

// The recount command prints exactly the expected result of every worked
// example, and its text table matches the golden file.
func TestRecountExamples(t *testing.T) {
	for _, dir := range exampleDirs(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			contest, ballots := filepath.Join(dir, "contest.json"), filepath.Join(dir, "ballots.jsonl")
			code, out, errOut := runCLI(t, "recount", contest, ballots)
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			want, err := os.ReadFile(filepath.Join(dir, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			var got, exp any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if err := json.Unmarshal(want, &exp); err != nil {
				t.Fatalf("result.json: %v", err)
			}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("recount output differs from result.json\ngot:\n%s", out)
			}
			if _, hasVersion := got.(map[string]any)["version"]; hasVersion {
				t.Error("the CLI output must not carry a version")
			}

			code, text, errOut := runCLI(t, "recount", "--format", "text", contest, ballots)
			if code != exitOK {
				t.Fatalf("text: exit %d, stderr:\n%s", code, errOut)
			}
			golden := filepath.Join("testdata", "text", name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantText, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/kiemphieu -update to create it)", err)
			}
			if text != string(wantText) {
				t.Errorf("text table differs from %s (rerun with -update after checking):\ngot:\n%s", golden, text)
			}
		})
	}
}

// Examples that must be refused (contest.json + error.txt) exit 2 naming
// the file, the line and the field.
func TestRecountRefusedExamples(t *testing.T) {
	refusals, _ := filepath.Glob("../../examples/*/error.txt")
	if len(refusals) == 0 {
		t.Skip("no refusal examples")
	}
	empty := writeFile(t, t.TempDir(), "empty.jsonl", "")
	for _, errFile := range refusals {
		dir := filepath.Dir(errFile)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			contest := filepath.Join(dir, "contest.json")
			code, _, stderr := runCLI(t, "recount", contest, empty)
			if code != exitBadUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitBadUsage, stderr)
			}
			want, _ := os.ReadFile(errFile)
			for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
				if !strings.Contains(stderr, strings.TrimSpace(line)) {
					t.Errorf("stderr lacks %q:\n%s", line, stderr)
				}
			}
			if !strings.HasPrefix(stderr, contest+":") {
				t.Errorf("stderr should start with %q:\n%s", contest+":", stderr)
			}
		})
	}
}

const goodContest = `{
  "id": "bch-test",
  "title": "Bầu Chi ủy",
  "kind": "committee",
  "seats": 3,
  "ballot": "strike",
  "electorate": {"congress": "members", "convened": 10},
  "candidates": [
    {"id": "c1", "name": "Nguyễn Văn An"},
    {"id": "c2", "name": "Trần Thị Bình"},
    {"id": "c3", "name": "Lê Văn Cường"},
    {"id": "c4", "name": "Phạm Thị Dung"}
  ]
}`

// Bad input exits 2 with file:line: field: problem, never a panic.
func TestRecountBadInput(t *testing.T) {
	dir := t.TempDir()
	contest := writeFile(t, dir, "contest.json", goodContest)
	ballots := writeFile(t, dir, "ballots.jsonl", `{"id":"b1","struck":["c1"]}`+"\n")
	tests := []struct {
		name     string
		contest  string // replaces the good contest when set
		ballots  string // replaces the good ballots when set
		args     []string
		wantCode int
		want     []string // substrings of stderr
	}{
		{name: "unknown field named with its line",
			contest: strings.Replace(goodContest, `"seats": 3`, `"seat": 3`, 1),
			want:    []string{"contest.json:5: seat: unknown field"}},
		{name: "wrong type",
			contest: strings.Replace(goodContest, `"seats": 3`, `"seats": "3"`, 1),
			want:    []string{"contest.json:5: seats: expected a whole number"}},
		{name: "every problem listed",
			contest: strings.Replace(strings.Replace(goodContest, `"seats": 3`, `"seats": 0`, 1), `"id": "c4"`, `"id": "c1"`, 1),
			want:    []string{"contest.json:5: seats:", "contest.json:12: candidates[3].id:"}},
		{name: "fields count in the order of the file, not the ballot order",
			contest: strings.Replace(goodContest, `{"id": "c1", "name": "Nguyễn Văn An"}`, `{"id": "c1", "name": "Vũ Văn Yên", "gender": "m"}`, 1),
			want:    []string{"contest.json:9: candidates[0].gender:"}},
		{name: "surplus over the limit",
			contest: strings.Replace(goodContest, `"seats": 3`, `"seats": 2`, 1),
			want:    []string{"contest.json:8: candidates: surplus 2 exceeds the limit of 0"}},
		{name: "exclusion of the other congress type",
			contest: strings.Replace(goodContest, `"convened": 10}`, `"convened": 10, "exclusions": {"committee_absent": 1}}`, 1),
			want:    []string{"contest.json:7: electorate.exclusions.committee_absent: does not apply"}},
		{name: "malformed JSON",
			contest: strings.Replace(goodContest, `"kind": "committee",`, `"kind": "committee",,`, 1),
			want:    []string{"contest.json:4: malformed JSON"}},
		{name: "unknown candidate in a ballot",
			ballots: "{\"id\":\"b1\",\"struck\":[\"c1\"]}\n{\"id\":\"b2\",\"struck\":[\"c9\"]}\n",
			want:    []string{"ballots.jsonl:2: struck[0]: unknown candidate \"c9\""}},
		{name: "duplicate ballot id",
			ballots: "{\"id\":\"b1\",\"struck\":[\"c1\"]}\n\n{\"id\":\"b1\",\"struck\":[\"c2\"]}\n",
			want:    []string{`ballots.jsonl:3: id: ballot "b1" was already counted at line 1`}},
		{name: "wrong ballot style",
			ballots: `{"id":"b1","marks":{"c1":"agree"}}` + "\n",
			want:    []string{"ballots.jsonl:1: marks: this contest uses strike ballots"}},
		{name: "malformed ballot",
			ballots: `{"id":"b1","struck":["c1"]` + "\n",
			want:    []string{"ballots.jsonl:1:"}},
		{name: "missing file", args: []string{"recount", filepath.Join(dir, "nope.json"), ballots},
			want: []string{"nope.json: no such file or directory"}},
		{name: "one file only", args: []string{"recount", contest},
			want: []string{"recount needs CONTEST.json and BALLOTS.jsonl"}},
		{name: "bad format", args: []string{"recount", contest, ballots, "--format", "xml"},
			want: []string{`--format must be "json" or "text"`}},
		{name: "unknown command", args: []string{"tally"}, want: []string{`unknown command "tally"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := t.TempDir()
			c, b := contest, ballots
			if tt.contest != "" {
				c = writeFile(t, sub, "contest.json", tt.contest)
			}
			if tt.ballots != "" {
				b = writeFile(t, sub, "ballots.jsonl", tt.ballots)
			}
			args := tt.args
			if args == nil {
				args = []string{"recount", c, b}
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != exitBadUsage {
				t.Errorf("exit %d, want %d", code, exitBadUsage)
			}
			if stdout != "" {
				t.Errorf("nothing may be printed on stdout on bad input; got:\n%s", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// Flags may come before or after the files, and blank lines are skipped.
func TestRecountArgumentsAnywhere(t *testing.T) {
	dir := t.TempDir()
	contest := writeFile(t, dir, "contest.json", goodContest)
	ballots := writeFile(t, dir, "ballots.jsonl", "\n{\"id\":\"b1\",\"struck\":[\"c4\"]}\n  \n{\"id\":\"b2\",\"struck\":[]}\n")
	for _, args := range [][]string{
		{"recount", "--format=json", contest, ballots},
		{"recount", contest, "-format", "json", ballots},
		{"recount", contest, ballots, "--format", "json"},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var res struct {
			Ballots struct {
				Total, Valid, Invalid int
			}
			Elected []string
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if got, want := res.Ballots.Total, 2; got != want {
			t.Errorf("%v: total=%d, want %d", args, got, want)
		}
		if got, want := res.Ballots.Invalid, 1; got != want {
			t.Errorf("%v: invalid=%d, want %d (the untouched ballot is an over-vote)", args, got, want)
		}
		// D = 10, threshold 6: one valid ballot elects nobody.
		if len(res.Elected) != 0 {
			t.Errorf("%v: elected %v, want nobody", args, res.Elected)
		}
	}
}

// A round's log export recounts like its ballots, voids left out; a
// tampered line is refused naming its line.
func TestRecountLogExport(t *testing.T) {
	dir := t.TempDir()
	contest := writeFile(t, dir, "contest.json", goodContest)
	var log []tally.Entry
	add := func(e tally.Entry) {
		seq, prev := int64(0), tally.GenesisHash
		if n := len(log); n > 0 {
			seq, prev = log[n-1].Seq, log[n-1].Hash
		}
		e.Desk, e.Time = "Bàn 1", "2026-11-21T09:00:00Z"
		e.Link(seq, prev)
		log = append(log, e)
	}
	ballots := []tally.Ballot{
		{ID: "b1", Struck: []string{"c4"}}, {ID: "b2", Struck: []string{"c1"}},
		{ID: "b3", Struck: []string{}}, {ID: "b4", Struck: []string{"c2"}},
	}
	var kept strings.Builder
	for i := range ballots {
		add(tally.Entry{Ballot: &ballots[i]})
		if ballots[i].ID != "b2" {
			line, _ := ballots[i].MarshalJSON()
			kept.Write(append(line, '\n'))
		}
	}
	add(tally.Entry{Void: &tally.Void{Seq: 2, Ballot: "b2", Reason: "gõ nhầm"}})
	var export strings.Builder
	for _, e := range log {
		line, _ := e.MarshalJSON()
		export.Write(append(line, '\n'))
	}
	logFile := writeFile(t, dir, "log.jsonl", export.String())
	ballotFile := writeFile(t, dir, "ballots.jsonl", kept.String())

	code, fromLog, errOut := runCLI(t, "recount", contest, logFile)
	if code != exitOK {
		t.Fatalf("log: exit %d: %s", code, errOut)
	}
	_, fromBallots, _ := runCLI(t, "recount", contest, ballotFile)
	if fromLog != fromBallots {
		t.Fatalf("the log's recount differs from its ballots' recount:\n%s\n%s", fromLog, fromBallots)
	}

	tampered := strings.Replace(export.String(), `"struck":["c2"]`, `"struck":["c3"]`, 1)
	code, _, errOut = runCLI(t, "recount", contest, writeFile(t, dir, "tampered.jsonl", tampered))
	if code != exitBadUsage || !strings.Contains(errOut, "tampered.jsonl:4: hash: entry 4 has been altered") {
		t.Fatalf("tampered log: exit %d: %s", code, errOut)
	}
}

// verify accepts a sound export, checks the printed head, and refuses a
// tampered one naming its line, and one whose void names one ballot but
// withdraws another (chain and result made to fit).
func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	c, err := tally.ParseContest([]byte(goodContest))
	if err != nil {
		t.Fatal(err)
	}
	// exportOf links entries into a log and writes the export of the
	// certified round with the result recounted from them.
	exportOf := func(entries []tally.Entry) (string, string) {
		t.Helper()
		var log []tally.Entry
		seq, prev := int64(0), tally.GenesisHash
		for _, e := range entries {
			e.Link(seq, prev)
			seq, prev = e.Seq, e.Hash
			log = append(log, e)
		}
		voided := map[int64]bool{}
		count := tally.NewCount(c)
		for _, e := range log {
			if e.Void != nil {
				voided[e.Void.Seq] = true
			}
		}
		for _, e := range log {
			if e.Ballot != nil && !voided[e.Seq] {
				m, err := c.Mark(*e.Ballot, c.Index())
				if err != nil {
					t.Fatal(err)
				}
				count.Add(m)
			}
		}
		res := count.Result()
		version := int64(len(log))
		res.Version = &version
		rec := &tally.Record{Contest: c, State: tally.StateCertified, Head: prev, Version: version}
		var b strings.Builder
		line, _ := json.Marshal(tally.ExportHeader{Kind: tally.ExportKind, Record: rec})
		b.Write(append(line, '\n'))
		for _, e := range log {
			line, _ := e.MarshalJSON()
			b.Write(append(line, '\n'))
		}
		line, _ = json.Marshal(tally.ExportTrailer{Result: res})
		b.Write(append(line, '\n'))
		return b.String(), prev
	}
	var entries []tally.Entry
	for i, struck := range [][]string{{"c4"}, {"c1"}, {}, {"c2"}} {
		entries = append(entries, tally.Entry{Ballot: &tally.Ballot{ID: fmt.Sprint("b", i), Struck: struck}, Desk: "Bàn 1",
			DeskID: []string{"", "token:0a0a0a0a0a0a"}[i%2], Time: "2026-11-21T09:00:00Z"})
	}
	body, head := exportOf(entries)
	export := writeFile(t, dir, "export.jsonl", body)

	code, out, errOut := runCLI(t, "verify", export, "--head", head)
	if code != exitOK || !strings.Contains(out, "head "+head) || !strings.Contains(out, "matches the hash printed") {
		t.Fatalf("sound export: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "verify", export, "--head", strings.Repeat("ab", 32))
	if code != exitBadUsage || !strings.Contains(errOut, "not the log the minutes were printed from") {
		t.Fatalf("wrong printed head: exit %d: %s", code, errOut)
	}
	tampered := strings.Replace(body, `"struck":["c2"]`, `"struck":["c3"]`, 1)
	code, _, errOut = runCLI(t, "verify", writeFile(t, dir, "tampered.jsonl", tampered))
	if code != exitBadUsage || !strings.Contains(errOut, "tampered.jsonl:5: log[3].hash: entry 4 has been altered") {
		t.Fatalf("tampered export: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "verify", writeFile(t, dir, "ballots.jsonl", `{"id":"b1","struck":[]}`+"\n"+`{"id":"b2","struck":[]}`+"\n"))
	if code != exitBadUsage || !strings.Contains(errOut, "ballots.jsonl:1: not an export header") {
		t.Fatalf("not an export: exit %d: %s", code, errOut)
	}
	code, out, _ = runCLI(t, "verify", export)
	if code != exitOK || !strings.Contains(out, "not signed") {
		t.Fatalf("an unsigned export: exit %d\n%s", code, out)
	}
	code, _, errOut = runCLI(t, "verify", export, "--key", strings.Repeat("ab", 16))
	if code != exitBadUsage || !strings.Contains(errOut, "record.signature: the export is not signed") {
		t.Fatalf("--key on an unsigned export: exit %d: %s", code, errOut)
	}

	// Signed at certification, as the service does: --key takes the
	// fingerprint printed on the minutes or the public key.
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize))
	pub := key.Public().(ed25519.PublicKey)
	header, rest, _ := strings.Cut(body, "\n")
	var hdr tally.ExportHeader
	if err := json.Unmarshal([]byte(header), &hdr); err != nil {
		t.Fatal(err)
	}
	rec := hdr.Record
	tally.Sign(rec, key)
	signedExport := func(name string, rec *tally.Record) string {
		line, _ := json.Marshal(tally.ExportHeader{Kind: tally.ExportKind, Record: rec})
		return writeFile(t, dir, name, string(line)+"\n"+rest)
	}
	signed := signedExport("signed.jsonl", rec)
	fp := tally.Fingerprint(pub)
	for _, k := range []string{fp, strings.ToUpper(strings.ReplaceAll(fp, " ", "")), hex.EncodeToString(pub)} {
		code, out, errOut = runCLI(t, "verify", signed, "--key", k, "--head", head)
		if code != exitOK || !strings.Contains(out, "signed with the key "+fp+"; the signature verifies") || !strings.Contains(out, "the signing key is the key given") {
			t.Fatalf("--key %s: exit %d\n%s%s", k, code, out, errOut)
		}
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	code, _, errOut = runCLI(t, "verify", signed, "--key", tally.Fingerprint(other))
	if code != exitBadUsage || !strings.Contains(errOut, "signed with the key "+fp+", not with the key given") {
		t.Fatalf("another key: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "verify", signed, "--key", "not-a-key")
	if code != exitBadUsage || !strings.Contains(errOut, "--key") {
		t.Fatalf("a malformed key: exit %d: %s", code, errOut)
	}
	// The record changed after signing (the ballots issued): refused, with
	// or without --key.
	forged := *rec
	issued := 99
	forged.Issued = &issued
	code, _, errOut = runCLI(t, "verify", signedExport("forged.jsonl", &forged))
	if code != exitBadUsage || !strings.Contains(errOut, "forged.jsonl:1: record.signature: does not verify") {
		t.Fatalf("a record changed after signing: exit %d: %s", code, errOut)
	}

	// A void of entry 2 (b1) that names it: sound. One that names b3 while
	// withdrawing entry 2: refused, though the chain and the result fit.
	void := tally.Entry{Void: &tally.Void{Seq: 2, Ballot: "b1", Reason: "gõ nhầm"}, Desk: "admin", DeskID: "token:bootstrap", Time: "2026-11-21T09:01:00Z"}
	body, _ = exportOf(append(slices.Clone(entries), void))
	if code, out, errOut := runCLI(t, "verify", writeFile(t, dir, "voided.jsonl", body)); code != exitOK {
		t.Fatalf("export with a void: exit %d\n%s%s", code, out, errOut)
	}
	void.Void.Ballot = "b3"
	body, _ = exportOf(append(slices.Clone(entries), void))
	code, _, errOut = runCLI(t, "verify", writeFile(t, dir, "misnamed.jsonl", body))
	if code != exitBadUsage || !strings.Contains(errOut, `misnamed.jsonl:6: log[4].void.ballot: entry 5 voids entry 2, ballot "b1", but names ballot "b3"`) {
		t.Fatalf("a void naming another ballot: exit %d: %s", code, errOut)
	}
}
