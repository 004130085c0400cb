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
			body := checkVerifyLink(t, h.listen()+"/contests/bq/minutes", tc.headers, tc.want+rec.Head)
			if strings.Contains(body, "evil.example") {
				t.Error("the minutes name evil.example")
			}
		})
	}
}

// checkVerifyLink gets the minutes at url over the network with the headers
// given ("Host" as the request's host) and checks that their verify link is
// want; it returns the page.
func checkVerifyLink(t *testing.T, url string, headers map[string]string, want string) string {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.Host = headers["Host"]
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(data)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if !strings.Contains(body, "Kiểm tra tại: "+want) {
		i := strings.Index(body, "Kiểm tra tại")
		t.Errorf("the minutes do not say %q; they say %.120q", "Kiểm tra tại: "+want, body[max(i, 0):])
	}
	return body
}
