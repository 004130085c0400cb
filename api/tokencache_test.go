package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"
)

// A token is trusted for a short while without asking the store; once the
// store no longer has it, it stops working within that while.
func TestTokenCacheExpires(t *testing.T) {
	h := newHarness(t)
	token := h.issueToken("viewer", "Màn hình")
	mustStatus(t, h.do("GET", "/api/v1/contests", nil, bearer(token)), http.StatusOK)

	sum := sha256.Sum256([]byte(token))
	if err := h.store.DeleteItem(context.Background(), "token", hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, h.do("GET", "/api/v1/contests", nil, bearer(token)), http.StatusOK) // still cached
	h.clock.Advance(11 * time.Second)
	mustError(t, h.do("GET", "/api/v1/contests", nil, bearer(token)), http.StatusUnauthorized, "")
}
