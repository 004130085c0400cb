package tally_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// certifiedRecord is a certified round's record over sampleLog.
func certifiedRecord(t *testing.T) *tally.Record {
	t.Helper()
	log := sampleLog(t)
	issued := 6
	return &tally.Record{Contest: logContest(t), State: tally.StateCertified, Congress: "dh-p7", Issued: &issued,
		Head: log[len(log)-1].Hash, Version: int64(len(log)), Closed: "2026-11-21T09:00:00Z", Certified: "2026-11-21T09:30:00Z"}
}

var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))

func TestSignature(t *testing.T) {
	rec := certifiedRecord(t)
	if pub, err := tally.CheckSignature(rec); pub != nil || err != nil {
		t.Fatalf("an unsigned record: %v %v", pub, err)
	}
	tally.Sign(rec, testKey)
	pub, err := tally.CheckSignature(rec)
	if err != nil || !pub.Equal(testKey.Public()) {
		t.Fatalf("a signed record: %v %v", pub, err)
	}
	// Through the export's JSON and back, the signature still verifies.
	data, _ := json.Marshal(rec)
	var back tally.Record
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if _, err := tally.CheckSignature(&back); err != nil {
		t.Fatalf("after a JSON round trip: %v", err)
	}

	// Everything the minutes print beyond the log is signed; the filing and
	// the link to a later round are not (they change after certification).
	signed := map[string]func(r *tally.Record){
		"the contest id":         func(r *tally.Record) { r.Contest.ID = "other" },
		"the round":              func(r *tally.Record) { r.Contest.Round = 2 },
		"a candidate's name":     func(r *tally.Record) { r.Contest.Candidates[0].Name = "Trần Thị Bình" },
		"the seats":              func(r *tally.Record) { r.Contest.Seats = 2 },
		"those convened":         func(r *tally.Record) { r.Contest.Electorate.Convened = 10 },
		"the ballots issued":     func(r *tally.Record) { *r.Issued = 7 },
		"the head":               func(r *tally.Record) { r.Head = strings.Repeat("0", 64) },
		"the log's length":       func(r *tally.Record) { r.Version-- },
		"the close time":         func(r *tally.Record) { r.Closed = "2026-11-21T09:01:00Z" },
		"the certification time": func(r *tally.Record) { r.Certified = "2026-11-21T09:31:00Z" },
	}
	for name, edit := range signed {
		t.Run(name, func(t *testing.T) {
			r := certifiedRecord(t)
			tally.Sign(r, testKey)
			edit(r)
			_, err := tally.CheckSignature(r)
			if err == nil || tally.Problems(err)[0].Field != "record.signature" {
				t.Fatalf("changing %s after signing: %v", name, err)
			}
		})
	}
	r := certifiedRecord(t)
	tally.Sign(r, testKey)
	r.Congress, r.Next, r.Imported = "dh-q3", "log-test-2", "2026-11-23T08:00:00Z"
	if _, err := tally.CheckSignature(r); err != nil {
		t.Errorf("filing elsewhere and a next round must not break the signature: %v", err)
	}

	malformed := map[string]tally.Signature{
		"record.signature.public_key": {PublicKey: "abc", Value: rec.Signature.Value},
		"record.signature.value":      {PublicKey: rec.Signature.PublicKey, Value: "zz"},
		"record.signature":            {PublicKey: strings.Repeat("ab", 32), Value: rec.Signature.Value},
	}
	for field, sig := range malformed {
		r := certifiedRecord(t)
		r.Signature = &sig
		if _, err := tally.CheckSignature(r); err == nil || tally.Problems(err)[0].Field != field {
			t.Errorf("%+v: %v, want a refusal on %s", sig, err, field)
		}
	}
}

func TestFingerprint(t *testing.T) {
	pub := testKey.Public().(ed25519.PublicKey)
	fp := tally.Fingerprint(pub)
	if !regexp.MustCompile(`^[0-9a-f]{4}( [0-9a-f]{4}){7}$`).MatchString(fp) {
		t.Fatalf("fingerprint %q: want eight groups of four hex digits", fp)
	}
	for _, typed := range []string{fp, strings.ToUpper(fp), strings.ReplaceAll(fp, " ", ""), strings.ReplaceAll(fp, " ", ":"), " " + fp + "\n"} {
		got, err := tally.ParseFingerprint(typed)
		if err != nil || got != tally.FingerprintKey(fp) {
			t.Errorf("ParseFingerprint(%q) = %q, %v", typed, got, err)
		}
	}
	for _, bad := range []string{"", fp[:10], fp + " 0000", strings.Replace(fp, fp[:1], "g", 1)} {
		if _, err := tally.ParseFingerprint(bad); err == nil {
			t.Errorf("ParseFingerprint(%q) accepted", bad)
		}
	}
	if k, err := tally.ParsePublicKey(" " + strings.ToUpper(hex.EncodeToString(pub)) + " "); err != nil || !k.Equal(pub) {
		t.Errorf("ParsePublicKey: %v", err)
	}
	if _, err := tally.ParsePublicKey(hex.EncodeToString(pub)[:62]); err == nil {
		t.Error("a short public key accepted")
	}
}

// The definition's digest is of the contest as stored: the same after the
// record goes through an export and back.
func TestContestDigestStable(t *testing.T) {
	c := logContest(t)
	data, _ := json.Marshal(c)
	var back tally.Contest
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if tally.ContestDigest(c) != tally.ContestDigest(&back) {
		t.Fatal("the digest changes through JSON")
	}
	back.Candidates[1].Name += " "
	if tally.ContestDigest(c) == tally.ContestDigest(&back) {
		t.Fatal("the digest misses a change of a name")
	}
}
