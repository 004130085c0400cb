package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The readers of files anyone may hand the CLI: a round's log (`recount
// CONTEST LOG.jsonl`, the log line decoder) and a round's export (`verify
// EXPORT`). On any bytes they never panic, refuse only with an input error
// (exit 2) naming the file, and never accept a log that is not the
// original or a whole-entry prefix of it: a SHA-256 chain cannot be
// forged by mutation, so what they accept must be something they were
// given.

// fuzzLog is a small sound log: four ballots and a void.
func fuzzLog(tb testing.TB) (*tally.Contest, []tally.Entry) {
	tb.Helper()
	c, err := tally.ParseContest([]byte(goodContest))
	if err != nil {
		tb.Fatal(err)
	}
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
	for i, struck := range [][]string{{"c4"}, {"c1"}, {}, {"c2", "c3"}} {
		add(tally.Entry{Ballot: &tally.Ballot{ID: fmt.Sprint("b", i), Struck: struck}})
	}
	add(tally.Entry{Ballot: &tally.Ballot{ID: "b9", Invalid: tally.ReasonOther, Note: "rách"}})
	add(tally.Entry{Void: &tally.Void{Seq: 2, Ballot: "b1", Reason: "gõ nhầm"}})
	return c, log
}

func logBytes(log []tally.Entry) []byte {
	var b bytes.Buffer
	for _, e := range log {
		line, _ := e.MarshalJSON()
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

// prefixResults are the results of the log's whole-entry prefixes, as
// JSON: the only counts a mutated log may be accepted with.
func prefixResults(tb testing.TB, c *tally.Contest, log []tally.Entry) map[string]int {
	tb.Helper()
	out := map[string]int{}
	for k := 0; k <= len(log); k++ {
		count, err := tally.Replay(c, log[:k])
		if err != nil {
			tb.Fatal(err)
		}
		data, _ := json.Marshal(count.Result())
		out[string(data)] = k
	}
	return out
}

func checkInputError(t *testing.T, err error, path string) {
	t.Helper()
	var ie *inputError
	if !errors.As(err, &ie) {
		t.Fatalf("refused with %T, not an input error (exit 2): %v", err, err)
	}
	if !strings.HasPrefix(err.Error(), path) {
		t.Fatalf("the refusal does not name the file: %v", err)
	}
}

func FuzzLogDecoder(f *testing.F) {
	c, log := fuzzLog(f)
	good := logBytes(log)
	f.Add(good)
	f.Add(good[:len(good)-1])                 // the last newline gone
	f.Add(good[:len(good)-20])                // the last line cut short
	f.Add(good[:bytes.IndexByte(good, '\n')]) // one entry
	f.Add(bytes.Replace(good, []byte(`"c4"`), []byte(`"c3"`), 1))
	f.Add(bytes.Replace(good, []byte("\n"), []byte("\r\n\n  "), -1))
	f.Add(append(append([]byte{}, good...), good...)) // replayed
	f.Add([]byte(`{"seq":1,"prev":"` + tally.GenesisHash + `","hash":"x","desk":"","time":""}`))
	f.Add([]byte("{\"seq\":1}\n{"))
	f.Add([]byte{})
	want := prefixResults(f, c, log)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		count, err := countLog(c, "log.jsonl", bytes.NewReader(data))
		if err != nil {
			checkInputError(t, err, "log.jsonl")
			return
		}
		got, _ := json.Marshal(count.Result())
		if _, ok := want[string(got)]; !ok {
			t.Fatalf("accepted a log whose count is no prefix of the original's:\n%s\n%q", got, data)
		}
	})
}

var headLine = regexp.MustCompile(`head ([0-9a-f]{64})`)

func FuzzVerifyExport(f *testing.F) {
	c, log := fuzzLog(f)
	known := map[string]bool{tally.GenesisHash: true}
	for _, e := range log {
		known[e.Hash] = true
	}
	export := func(state tally.State, entries []tally.Entry) []byte {
		count, _ := tally.Replay(c, entries)
		res := count.Result()
		version := int64(len(entries))
		res.Version = &version
		head := tally.GenesisHash
		if len(entries) > 0 {
			head = entries[len(entries)-1].Hash
		}
		rec := &tally.Record{Contest: c, State: state, Head: head, Version: version}
		var b bytes.Buffer
		line, _ := json.Marshal(tally.ExportHeader{Kind: tally.ExportKind, Record: rec})
		b.Write(append(line, '\n'))
		b.Write(logBytes(entries))
		line, _ = json.Marshal(tally.ExportTrailer{Result: res})
		b.Write(append(line, '\n'))
		return b.Bytes()
	}
	good := export(tally.StateCertified, log)
	f.Add(good)
	f.Add(export(tally.StateOpen, log[:3]))
	f.Add(export(tally.StateClosed, nil))
	f.Add(good[:len(good)/2])
	f.Add(bytes.Replace(good, []byte(`"c4"`), []byte(`"c3"`), 1))
	f.Add(bytes.Replace(good, []byte(`"certified"`), []byte(`"open"`), 1))
	f.Add([]byte(`{"kind":"kiemphieu-log-export","record":null}` + "\n{}\n"))
	f.Add([]byte(`{"id":"b1","struck":[]}` + "\n" + `{"id":"b2","struck":[]}` + "\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		file, err := os.CreateTemp(dir, "export-*.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		path := file.Name()
		defer os.Remove(path)
		file.Write(data)
		file.Close()
		var out bytes.Buffer
		err = verify([]string{path}, &out)
		if err != nil {
			checkInputError(t, err, path)
			return
		}
		m := headLine.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("accepted without printing the head:\n%s", out.String())
		}
		if !known[m[1]] {
			t.Fatalf("accepted an export whose head %s is none of the original log's:\n%q", m[1], data)
		}
	})
}

// watchdog crashes the fuzz worker, input and all, when one input takes
// more than 10 s: the fuzzer reports a crash (and keeps the input in
// testdata/fuzz), where a hang would only stall it.
func watchdog(input []byte) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			panic(fmt.Sprintf("one input took more than 10 s: %q", input))
		}
	}()
	return func() { close(done) }
}
