package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/api"
)

// TestVerifyURLIgnoresForwardedHeaders is finding 20 of the security
// review: with no public URL set, the minutes' verify link (and its QR
// code) came from X-Forwarded-Host and X-Forwarded-Proto sent by anyone,
// so anyone could print certified minutes whose QR code points at a fake
// verify site. They count now only from a trusted proxy; the request's
// own Host otherwise.
func TestVerifyURLIgnoresForwardedHeaders(t *testing.T) {
	forged := map[string]string{
		"Host":              "kp.hall:8080",
		"X-Forwarded-Host":  "evil.example",
		"X-Forwarded-Proto": "https",
		"X-Forwarded-Ssl":   "on",
		"X-Url-Scheme":      "https",
	}
	cases := []struct {
		name    string
		proxies []string
		headers map[string]string
		want    string
	}{
		{"no trusted proxy", nil, forged, "http://kp.hall:8080/verify/"},
		{"the peer is not the trusted proxy", []string{"10.9.9.9"}, forged, "http://kp.hall:8080/verify/"},
		{"the trusted proxy", []string{"127.0.0.1"}, map[string]string{"Host": "kiemphieu:8080",
			"X-Forwarded-Host": "hall.example.vn", "X-Forwarded-Proto": "https"}, "https://hall.example.vn/verify/"},
		{"the trusted proxy's first value", []string{"127.0.0.0/8"}, map[string]string{"Host": "kiemphieu:8080",
			"X-Forwarded-Host": "hall.example.vn:8443, evil.example", "X-Forwarded-Proto": "https, http"}, "https://hall.example.vn:8443/verify/"},
		{"a trusted proxy passing what is no host", []string{"127.0.0.1"}, map[string]string{"Host": "kp.hall",
			"X-Forwarded-Host": "evil.example/x?@", "X-Forwarded-Proto": "javascript"}, "http://kp.hall/verify/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessWith(t, api.Config{TrustedProxies: tc.proxies})
			h.countRound("bq")
			rec := h.transition("bq", "certify", nil)
			base := h.listen()
			req, err := http.NewRequest("GET", base+"/contests/bq/minutes", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			req.Host = tc.headers["Host"]
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if want := "Kiểm tra tại: " + tc.want + rec.Head; !strings.Contains(string(body), want) {
				i := strings.Index(string(body), "Kiểm tra tại")
				t.Errorf("the minutes do not say %q; they say %.120q", want, string(body)[max(i, 0):])
			}
			if strings.Contains(string(body), "evil.example") {
				t.Error("the minutes name evil.example")
			}
		})
	}
}
