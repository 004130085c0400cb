package main

import (
	"errors"
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

	x, err := tally.ReadExport(f, 64<<20) // the record of a large contest is one line
	if err != nil {
		var xe *tally.ExportError
		if errors.As(err, &xe) && xe.Line > 0 {
			return inputErrorf("%s:%d: %s", path, xe.Line, xe.Message)
		}
		return inputErrorf("%s: %v", path, err)
	}
	entries := x.Entries
	hash, res, err := x.Verify()
	if err != nil {
		return inputErrorf("%s:%d: %v", path, x.Line(tally.Problems(err)[0].Field), err)
	}
	if *printed != "" && !strings.EqualFold(strings.TrimSpace(*printed), hash) {
		return inputErrorf("%s: head: the log ends with %s, not with the hash given (%s): this is not the log the minutes were printed from", path, hash, *printed)
	}
	rec := x.Record
	fmt.Fprintf(stdout, "OK  %s, round %d (%s)\n", rec.Contest.ID, rec.Contest.Round, rec.State)
	fmt.Fprintf(stdout, "    %d log entries, hash chain unbroken; head %s\n", len(entries), hash)
	fmt.Fprintf(stdout, "    recount equals the exported result: %d ballots, %d valid; elected %d of %d\n",
		res.Ballots.Total, res.Ballots.Valid, len(res.Elected), res.Seats)
	if *printed != "" {
		fmt.Fprintln(stdout, "    the head matches the hash printed on the minutes")
	}
	return nil
}
