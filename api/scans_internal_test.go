package api

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestLimitedBody: a body past its limit fails (a cut stack must not pass
// for a whole one); one exactly at it ends.
func TestLimitedBody(t *testing.T) {
	for _, tc := range []struct {
		size, limit int
		over        bool
	}{{10, 10, false}, {9, 10, false}, {11, 10, true}, {0, 0, false}, {1, 0, true}} {
		b := &limitedBody{r: bytes.NewReader(make([]byte, tc.size)), left: int64(tc.limit)}
		n, err := io.Copy(io.Discard, b)
		if over := errors.Is(err, errScanTooLarge); over != tc.over || !tc.over && (err != nil || n != int64(tc.size)) {
			t.Errorf("%d bytes, limit %d: read %d, %v; want over %v", tc.size, tc.limit, n, err, tc.over)
		}
	}
}
