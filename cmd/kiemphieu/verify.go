package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kiemphieu/kiemphieu/tally"
)

// verify implements `kiemphieu verify EXPORT [--head HASH]`: it checks a
// round's export (GET /contests/{id}/export.jsonl) on its own — the hash
// chain, the head and version recorded at close, the recount against the
// exported result — and, with --head, that the log ends with the hash
// printed on the minutes.
func verify(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	printed := fs.String("head", "", "the log head hash printed on the minutes")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageErrorf("verify: %v", err)
	}
	if len(files) != 1 {
		return usageErrorf("verify needs one EXPORT file; got %d file arguments", len(files))
	}
	path := files[0]
	f, err := os.Open(path)
	if err != nil {
		return inputErrorf("%s: %v", path, unwrapPathError(err))
	}
	defer f.Close()

	var lines [][]byte
	var numbers []int // the file line of each non-blank line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20) // the record of a large contest is one line
	for n := 1; sc.Scan(); n++ {
		if b := bytes.TrimSpace(sc.Bytes()); len(b) > 0 {
			lines, numbers = append(lines, bytes.Clone(b)), append(numbers, n)
		}
	}
	if err := sc.Err(); err != nil {
		return inputErrorf("%s: %v", path, err)
	}
	if len(lines) < 2 {
		return inputErrorf("%s:1: not a kiemphieu export: it needs a record line and a result line", path)
	}
	strict := func(i int, v any, what string) error {
		dec := json.NewDecoder(bytes.NewReader(lines[i]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return inputErrorf("%s:%d: not %s: %v", path, numbers[i], what, strings.TrimPrefix(err.Error(), "json: "))
		}
		return nil
	}
	var head tally.ExportHeader
	if err := strict(0, &head, "an export header"); err != nil {
		return err
	}
	if head.Kind != tally.ExportKind {
		return inputErrorf("%s:%d: kind: %q is not a kiemphieu log export", path, numbers[0], head.Kind)
	}
	entries := make([]tally.Entry, len(lines)-2)
	for i := range entries {
		if err := strict(i+1, &entries[i], "a log entry"); err != nil {
			return err
		}
	}
	var tail tally.ExportTrailer
	if err := strict(len(lines)-1, &tail, "the result line"); err != nil {
		return err
	}
	hash, res, err := tally.VerifyExport(head.Record, entries, tail.Result)
	if err != nil {
		p := tally.Problems(err)[0]
		line := numbers[0]
		var i int
		switch {
		case strings.HasPrefix(p.Field, "log["):
			if _, serr := fmt.Sscanf(p.Field, "log[%d]", &i); serr == nil && i < len(entries) {
				line = numbers[i+1]
			}
		case p.Field == "result":
			line = numbers[len(numbers)-1]
		}
		return inputErrorf("%s:%d: %v", path, line, err)
	}
	if *printed != "" && !strings.EqualFold(strings.TrimSpace(*printed), hash) {
		return inputErrorf("%s: head: the log ends with %s, not with the hash given (%s): this is not the log the minutes were printed from", path, hash, *printed)
	}
	rec := head.Record
	fmt.Fprintf(stdout, "OK  %s, round %d (%s)\n", rec.Contest.ID, rec.Contest.Round, rec.State)
	fmt.Fprintf(stdout, "    %d log entries, hash chain unbroken; head %s\n", len(entries), hash)
	fmt.Fprintf(stdout, "    recount equals the exported result: %d ballots, %d valid; elected %d of %d\n",
		res.Ballots.Total, res.Ballots.Valid, len(res.Elected), res.Seats)
	if *printed != "" {
		fmt.Fprintln(stdout, "    the head matches the hash printed on the minutes")
	}
	return nil
}
