package tally

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Signature is the certifying instance's seal on a certified round (chữ ký
// của máy kiểm phiếu): an Ed25519 signature over CertificationMessage and
// the public key it verifies under, both in hex. It travels in the
// record, so in the export: a district that registered the key of a ward
// knows which instance certified the round without typing the head.
//
// It proves which key signed, not what the congress decided: the head
// printed on the paper minutes remains the anchor (docs/architecture.md,
// "Imports anchored to the paper").
type Signature struct {
	PublicKey string `json:"public_key"` // 32 bytes, 64 hex digits
	Value     string `json:"value"`      // 64 bytes, 128 hex digits
}

// signatureDomain opens every signed message, so that a signature over a
// round can never be taken for one over anything else.
const signatureDomain = "kiemphieu certified round v1"

// CertificationMessage is what a certifying instance signs: the domain,
// then one line each for the contest id, the round, the SHA-256 of the
// contest definition as recorded (ContestDigest: candidates, seats, D,
// rules), the ballots issued, the log's length and head, and the close and
// certification times. Everything the minutes print that is not in the
// log is in it; what changes after certification (the next round's link,
// the congress the round is filed under) is not.
func CertificationMessage(rec *Record) []byte {
	issued := -1
	if rec.Issued != nil {
		issued = *rec.Issued
	}
	var b bytes.Buffer
	b.WriteString(signatureDomain + "\n")
	fmt.Fprintf(&b, "contest %s\n", strconv.Quote(rec.Contest.ID))
	fmt.Fprintf(&b, "round %d\n", rec.Contest.Round)
	fmt.Fprintf(&b, "definition %s\n", ContestDigest(rec.Contest))
	fmt.Fprintf(&b, "issued %d\n", issued)
	fmt.Fprintf(&b, "entries %d\n", rec.Version)
	fmt.Fprintf(&b, "head %s\n", rec.Head)
	fmt.Fprintf(&b, "closed %s\n", strconv.Quote(rec.Closed))
	fmt.Fprintf(&b, "certified %s\n", strconv.Quote(rec.Certified))
	return b.Bytes()
}

// ContestDigest is the SHA-256, in hex, of the contest definition's JSON
// (encoding/json of the Contest, as stored).
func ContestDigest(c *Contest) string {
	data, _ := json.Marshal(c) // a Contest always encodes
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Sign seals a certified round with key: rec.Signature is set.
func Sign(rec *Record, key ed25519.PrivateKey) {
	pub := key.Public().(ed25519.PublicKey)
	rec.Signature = &Signature{
		PublicKey: hex.EncodeToString(pub),
		Value:     hex.EncodeToString(ed25519.Sign(key, CertificationMessage(rec))),
	}
}

// CheckSignature verifies rec's signature. It returns the public key the
// signature verifies under, nil with no error for a round that carries no
// signature, and an Invalid error on "record.signature" for one that is
// malformed or does not verify (the record was changed after signing, or
// the signature was not made over it).
func CheckSignature(rec *Record) (ed25519.PublicKey, error) {
	sig := rec.Signature
	if sig == nil {
		return nil, nil
	}
	pub, err := ParsePublicKey(sig.PublicKey)
	if err != nil {
		return nil, Errorf("record.signature.public_key", "%v", err)
	}
	value, err := hex.DecodeString(sig.Value)
	if err != nil || len(value) != ed25519.SignatureSize {
		return nil, Errorf("record.signature.value", "not an Ed25519 signature (%d hex digits)", 2*ed25519.SignatureSize)
	}
	if rec.Contest == nil || !ed25519.Verify(pub, CertificationMessage(rec), value) {
		return nil, Errorf("record.signature", "does not verify under the key it names (%s): the record was changed after it was signed, or the signature is not of this round", Fingerprint(pub))
	}
	return pub, nil
}

// ParsePublicKey reads an Ed25519 public key written in hex (64 digits;
// spaces, colons and dashes between them are dropped, capitals allowed).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(compactHex(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("not an Ed25519 public key: one is %d hex digits", 2*ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// fingerprintBytes is the part of the key's SHA-256 a fingerprint shows:
// 128 bits, as much as a person compares by eye on paper, and more than
// anyone can forge a second key for.
const fingerprintBytes = 16

// Fingerprint is how people read and compare a key: the first 16 bytes of
// the SHA-256 of the public key, in eight groups of four hex digits
// ("3f0a 9c21 …"). The minutes print it beside the head.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	h := hex.EncodeToString(sum[:fingerprintBytes])
	var b strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+4])
	}
	return b.String()
}

// FingerprintKey is a fingerprint without its spaces: the key a
// registered key is kept and addressed under.
func FingerprintKey(fingerprint string) string { return compactHex(fingerprint) }

// ParseFingerprint reads a fingerprint as people copy it (groups, spaces,
// capitals) and returns it compact; an error if it is not 32 hex digits.
func ParseFingerprint(s string) (string, error) {
	f := compactHex(s)
	if _, err := hex.DecodeString(f); err != nil || len(f) != 2*fingerprintBytes {
		return "", fmt.Errorf("not a key fingerprint: one is %d hex digits, as printed on the minutes", 2*fingerprintBytes)
	}
	return f, nil
}

// compactHex drops what people put between hex digits and lowers them.
func compactHex(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == ':' || r == '-' || r == '\t' || r == '\n' || r == '\r':
			return -1
		case r >= 'A' && r <= 'F':
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
