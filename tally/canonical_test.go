package tally

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// encoderString is what writeString must write: encoding/json with HTML
// escaping off.
func encoderString(s string) []byte {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(tmp.Bytes(), []byte("\n"))
}

// TestWriteStringAsEncoder: the fast path of writeString writes exactly
// what the encoder writes (the log's hashes are taken over these bytes),
// for every single byte, the awkward runes, and random strings of them.
func TestWriteStringAsEncoder(t *testing.T) {
	check := func(s string) {
		t.Helper()
		var buf bytes.Buffer
		writeString(&buf, s)
		if want := encoderString(s); !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("writeString(%q) = %s, the encoder writes %s", s, buf.Bytes(), want)
		}
	}
	pieces := []string{"", "a", "Z9", "b-0000001", "Bàn kiểm phiếu 1", "Nguyễn Văn A", "<&>", "\u2028", "\u2029",
		"\x7f", "\xff", "\xe2\x80", "\xc3", "😀", "\"", "\\", "\n", "\t", "\x00", " ", "~", "2026-11-21T09:00:00Z"}
	for b := range 256 {
		pieces = append(pieces, string([]byte{byte(b)}))
	}
	for _, p := range pieces {
		check(p)
	}
	rng := rand.New(rand.NewPCG(5, 7))
	plain := 0
	for range 20000 {
		var s string
		for range rng.IntN(6) {
			s += pieces[rng.IntN(len(pieces))]
		}
		if encodesAsIs(s) {
			plain++
		}
		check(s)
	}
	if plain < 1000 {
		t.Fatalf("only %d of 20,000 random strings took the fast path: the test does not exercise it", plain)
	}
}
