package api_test

import (
	"html"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
)

// hallAddrs stand for a laptop's LAN addresses (RFC 5737 and 3849
// documentation ranges): what LANAddrs would list, IPv4 first.
var hallAddrs = []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10")}

// listenOn is listen on the address given (a wildcard one, for the hall)
// and returns the port.
func (h *harness) listenOn(addr string) string {
	h.t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		h.t.Fatal(err)
	}
	h.served = make(chan error, 1)
	go func() { h.served <- h.srv.Serve(ln) }()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	h.base = "http://127.0.0.1:" + port
	h.t.Cleanup(func() {
		if err := h.shutdown(5 * time.Second); err != nil {
			h.t.Errorf("Shutdown: %v", err)
		}
	})
	return port
}

// TestMinutesOfLANBoundServer is DESIGN §7.3: bound to a wildcard address,
// the minutes' verify link carries a LAN address whatever local name the
// secretary's browser used; a name others reach is kept; and a server
// only this machine reaches prints the path alone, saying so — never a
// loopback or wildcard host, in the page or its PDF.
func TestMinutesOfLANBoundServer(t *testing.T) {
	cases := []struct {
		name, listen, host string
		want               string // the verify link's base; "" for the path alone
	}{
		{"127.0.0.1", "0.0.0.0:0", "127.0.0.1:PORT", "http://192.0.2.10:PORT"},
		{"localhost", "0.0.0.0:0", "localhost:PORT", "http://192.0.2.10:PORT"},
		{"localhost without a port", "0.0.0.0:0", "localhost", "http://192.0.2.10:PORT"},
		{"::1", "[::]:0", "[::1]:PORT", "http://192.0.2.10:PORT"},
		{"the wildcard", "0.0.0.0:0", "0.0.0.0:PORT", "http://192.0.2.10:PORT"},
		{"the IPv6 wildcard", "[::]:0", "[::]:PORT", "http://192.0.2.10:PORT"},
		{"a LAN address typed by a desk", "0.0.0.0:0", "192.0.2.77:PORT", "http://192.0.2.77:PORT"},
		{"a host name", "0.0.0.0:0", "kp.hall:8080", "http://kp.hall:8080"},
		{"bound to loopback: the path alone", "127.0.0.1:0", "127.0.0.1:PORT", ""},
		{"bound to loopback, localhost: the path alone", "127.0.0.1:0", "localhost:PORT", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessWith(t, api.Config{LANAddrs: func() []netip.Addr { return hallAddrs }})
			h.countRound("bq")
			rec := h.transition("bq", "certify", nil)
			port := h.listenOn(tc.listen)
			host, want := strings.ReplaceAll(tc.host, "PORT", port), strings.ReplaceAll(tc.want, "PORT", port)
			headers := map[string]string{"Host": host}
			if want != "" {
				checkVerifyLink(t, h.base+"/contests/bq/minutes", headers, want+"/verify/"+rec.Head)
				return
			}
			page := getWithHost(t, h.base+"/contests/bq/minutes", host)
			if !strings.Contains(page, "Kiểm tra tại trang /verify/"+rec.Head+" của máy kiểm phiếu") {
				t.Errorf("the minutes do not say where to open the path: %.300q", page[max(strings.Index(page, "Kiểm tra"), 0):])
			}
			if strings.Contains(page, `alt="Mã QR`) {
				t.Error("the minutes print a QR code of a path")
			}
			pdf := minutesPDFText(t, []byte(getWithHost(t, h.base+"/contests/bq/minutes.pdf", host)))
			if !strings.Contains(strings.Join(strings.Fields(pdf), ""), "/verify/"+rec.Head) {
				t.Errorf("the PDF does not print the path /verify/%s", rec.Head)
			}
			for _, local := range []string{"127.0.0.1", "localhost", "[::1]", "0.0.0.0", "[::]"} {
				if strings.Contains(page, local) || strings.Contains(pdf, local) {
					t.Errorf("the minutes of a loopback-bound server print %q", local)
				}
			}
		})
	}
}

func getWithHost(t *testing.T, url, host string) string {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", url, resp.StatusCode, data)
	}
	return string(data)
}

func TestReachableAddrs(t *testing.T) {
	cases := []struct {
		bound string
		want  []netip.Addr
	}{
		{"::", hallAddrs},
		{"0.0.0.0", hallAddrs[:1]},
		{"127.0.0.1", nil},
		{"192.0.2.10", nil}, // reached by that address only, which requests carry
	}
	for _, tc := range cases {
		got := api.ReachableAddrs(netip.MustParseAddr(tc.bound), hallAddrs)
		if len(got) != len(tc.want) || len(got) > 0 && got[0] != tc.want[0] {
			t.Errorf("bound to %s: %v, want %v", tc.bound, got, tc.want)
		}
	}
	if got := api.HostURL("https", hallAddrs[1], 8443); got != "https://[2001:db8::10]:8443/" {
		t.Errorf("HostURL of an IPv6 address: %q", got)
	}
}

// TestLANAddrs checks the machine's own list against its interfaces: no
// loopback, unspecified or link-local address, IPv4 before IPv6, each once.
func TestLANAddrs(t *testing.T) {
	got := api.LANAddrs()
	seen := map[netip.Addr]bool{}
	for i, a := range got {
		if a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() || a.Zone() != "" {
			t.Errorf("LANAddrs lists %s", a)
		}
		if i > 0 && got[i-1].Is6() && a.Is4() {
			t.Errorf("IPv4 %s after IPv6 %s", a, got[i-1])
		}
		if seen[a] {
			t.Errorf("%s twice", a)
		}
		seen[a] = true
	}
	t.Logf("this machine's LAN addresses: %v", got)
}

// TestDeskTokenPageFingerprint: under TLS auto the desk-token page shows
// the certificate's fingerprint for the desk to compare; without, nothing
// about certificates.
func TestDeskTokenPageFingerprint(t *testing.T) {
	const fp = "2F:2B:60:BF:C6:9B:3A:8C:90:D9:83:A6:55:3F:1B:29:BE:C9:2B:A5:E4:CB:AB:44:9C:1D:56:A3:2F:36:CA:D6"
	for _, shown := range []bool{true, false} {
		cfg := apiConfigWithURL("https://kiemphieu.example/")
		if shown {
			cfg.TLSFingerprint = fp
		}
		h := newHarnessWith(t, cfg)
		h.createContest(contestDef("bch"))
		r := h.page("POST", "/contests/bch/tokens", "name=B%C3%A0n+1", asAdmin, withHeader("Content-Type", "application/x-www-form-urlencoded"))
		mustStatus(t, r, http.StatusCreated)
		body := html.UnescapeString(string(r.body))
		if got := strings.Contains(body, "dấu vân tay SHA-256") && strings.Contains(body, fp); got != shown {
			t.Errorf("fingerprint configured %v, shown %v", shown, got)
		}
		if !strings.Contains(body, `<code class="login-url">https://kiemphieu.example/login</code>`) {
			t.Error("the page does not say where to sign in")
		}
	}
}

// TestLANAddressFollowsTheMachine: the laptop joined the hall's Wi-Fi
// after the service started (or got another lease); within lanRefresh the
// next link carries the address it has now.
func TestLANAddressFollowsTheMachine(t *testing.T) {
	var mu sync.Mutex
	addrs := []netip.Addr(nil) // no network yet
	h := newHarnessWith(t, api.Config{LANAddrs: func() []netip.Addr {
		mu.Lock()
		defer mu.Unlock()
		return addrs
	}})
	h.countRound("bq")
	rec := h.transition("bq", "certify", nil)
	port := h.listenOn("0.0.0.0:0")
	local := map[string]string{"Host": "127.0.0.1:" + port}
	page := getWithHost(t, h.base+"/contests/bq/minutes", local["Host"])
	if !strings.Contains(page, "Kiểm tra tại trang /verify/"+rec.Head) {
		t.Errorf("with no LAN address the minutes do not print the path alone")
	}
	mu.Lock()
	addrs = []netip.Addr{netip.MustParseAddr("192.0.2.20")}
	mu.Unlock()
	h.clock.Advance(11 * time.Second)
	checkVerifyLink(t, h.base+"/contests/bq/minutes", local, "http://192.0.2.20:"+port+"/verify/"+rec.Head)
}
