package main

import (
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kiemphieu/kiemphieu/tally"
)

// verify implements `kiemphieu verify EXPORT [--head HASH] [--key KEY]`: it
// checks a round's export (GET /contests/{id}/export.jsonl) on its own —
// the hash chain, the head and version recorded at close, the recount
// against the exported result, the certifying instance's signature when
// there is one — and, with --head, that the log ends with the hash printed
// on the minutes; with --key (a fingerprint as the minutes print it, or a
// public key), that the round is signed with that key.
func verify(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	printed := fs.String("head", "", "the log head hash printed on the minutes")
	keyArg := fs.String("key", "", "the key the round must be signed with: its fingerprint or its public key")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageErrorf("verify: %v", err)
	}
	var wantKey func(ed25519.PublicKey) bool
	if *keyArg != "" {
		if fp, err := tally.ParseFingerprint(*keyArg); err == nil {
			wantKey = func(pub ed25519.PublicKey) bool { return tally.FingerprintKey(tally.Fingerprint(pub)) == fp }
		} else if k, err := tally.ParsePublicKey(*keyArg); err == nil {
			wantKey = func(pub ed25519.PublicKey) bool { return k.Equal(pub) }
		} else {
			return usageErrorf("verify: --key: %q is neither a key fingerprint (32 hex digits, as printed on the minutes) nor a public key (64 hex digits)", *keyArg)
		}
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
	pub, err := tally.CheckSignature(rec)
	if err != nil {
		return inputErrorf("%s:%d: %v", path, x.Line("record"), err)
	}
	switch {
	case wantKey == nil:
	case pub == nil:
		return inputErrorf("%s: record.signature: the export is not signed, so nothing says it was certified with the key %s", path, *keyArg)
	case !wantKey(pub):
		return inputErrorf("%s: record.signature: the round is signed with the key %s, not with the key given (%s): another instance certified it", path, tally.Fingerprint(pub), *keyArg)
	}
	fmt.Fprintf(stdout, "OK  %s, round %d (%s)\n", rec.Contest.ID, rec.Contest.Round, rec.State)
	fmt.Fprintf(stdout, "    %d log entries, hash chain unbroken; head %s\n", len(entries), hash)
	fmt.Fprintf(stdout, "    recount equals the exported result: %d ballots, %d valid; elected %d of %d\n",
		res.Ballots.Total, res.Ballots.Valid, len(res.Elected), res.Seats)
	if *printed != "" {
		fmt.Fprintln(stdout, "    the head matches the hash printed on the minutes")
	}
	if pub != nil {
		fmt.Fprintf(stdout, "    signed with the key %s; the signature verifies\n", tally.Fingerprint(pub))
	} else {
		fmt.Fprintln(stdout, "    not signed (certified before instances had signing keys): only the head ties it to the minutes")
	}
	if wantKey != nil {
		fmt.Fprintln(stdout, "    the signing key is the key given")
	}
	return nil
}
