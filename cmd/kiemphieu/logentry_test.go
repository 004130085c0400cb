package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/kiemphieu/kiemphieu/internal/benchgen"
	"github.com/kiemphieu/kiemphieu/tally"
)

// strictEntry decodes a log line as countLog's slow path does.
func strictEntry(line []byte) (tally.Entry, error) {
	var e tally.Entry
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	err := dec.Decode(&e)
	return e, err
}

// TestDecodeCanonicalEntry: on the lines of a generated log (strike
// ballots, over-votes, ballots ruled invalid on sight) and on variants of
// them, the fast decoder either declines or returns exactly what the strict
// decoder returns; it takes the common lines.
func TestDecodeCanonicalEntry(t *testing.T) {
	c, err := benchgen.Million.Contest()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := benchgen.Million.WriteLog(&buf, c, 3000, "2026-11-21T09:00:00Z"); err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	extra := []string{
		`{"seq":1,"ballot":{"id":"a","struck":[]},"desk":"Bàn 1","time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a","struck":["c1"]},"desk":"Bàn 1","desk_id":"token:0123456789ab","time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a","struck":["c1"]},"desk":"Bàn 1","desk_id":"","time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a","struck":["c1"]},"desk":"d","desk_id":1,"time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a","struck":["c1"]},"desk":"d","time":"t","desk_id":"x","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a","struck":["c1"]},"desk":"d","time":"t","prev":"p","hash":"h","x":1}`,
		`{"seq":1,"ballot":{"id":"a","struck":["c1"]},"desk":"d","time":"t","prev":"p","hash":"h"} `,
		`{"seq":1, "ballot":{"id":"a","struck":["c1"]},"desk":"d","time":"t","prev":"p","hash":"h"}`,
		`{"seq":01,"ballot":{"id":"a","struck":["c1"]},"desk":"d","time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a\u0062","struck":["c1"]},"desk":"d","time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a","struck":["c1",]},"desk":"d","time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a","struck":["c1"],"note":"n"},"desk":"d","time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a","struck":["c1"]},"desk":"\xff","time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a","struck":["<&>"]},"desk":"d","time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"void":{"seq":1,"ballot":"a","reason":"r"},"desk":"d","time":"t","prev":"p","hash":"h"}`,
		`{"seq":1,"ballot":{"id":"a","struck":["c1"]},"desk":"d","time":"t","prev":"p"}`,
	}
	for _, x := range extra {
		lines = append(lines, []byte(x))
	}
	fast := 0
	for i, line := range lines {
		got, ok := decodeCanonicalEntry(line)
		if !ok {
			continue
		}
		fast++
		want, err := strictEntry(line)
		if err != nil {
			t.Fatalf("line %d %s: the fast decoder took it, the strict one refuses it: %v", i, line, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("line %d %s:\nfast   %+v %+v\nstrict %+v %+v", i, line, got, got.Ballot, want, want.Ballot)
		}
	}
	if fast < 2900 {
		t.Fatalf("the fast decoder took %d of %d lines, want most of the generated ones", fast, len(lines))
	}
	// The lines the service writes now carry the desk's credential: they
	// stay on the fast path.
	if e, ok := decodeCanonicalEntry([]byte(extra[1])); !ok || e.DeskID != "token:0123456789ab" {
		t.Fatalf("a line with desk_id: ok=%v desk_id=%q", ok, e.DeskID)
	}
}
