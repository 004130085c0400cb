package api

import (
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The hall's LAN (DESIGN §7.3). A service bound to a wildcard address
// (0.0.0.0, [::]) is reached by the desks at one of the machine's LAN
// addresses, but the secretary's own browser on the laptop usually opens
// 127.0.0.1 or localhost: links made from that request's Host (desk QR
// codes, the minutes' verify link) would point every other machine at
// itself. So a loopback or wildcard Host is replaced by a LAN address, and
// what is printed on paper never carries one.

// LANAddrs returns the addresses other machines on this machine's networks
// can reach it at: those of every interface that is up and not loopback,
// IPv4 first (what a hall's router hands out and people type), then IPv6;
// link-local IPv6 is skipped (it needs a zone, which no URL on paper can
// carry). Errors listing the interfaces give what was found so far.
func LANAddrs() []netip.Addr {
	ifaces, _ := net.Interfaces()
	var v4, v6 []netip.Addr
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			pre, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pre.Addr().Unmap()
			switch {
			case !lanAddr(ip) || slices.Contains(v4, ip) || slices.Contains(v6, ip):
				// An address on two interfaces (a bridge and its port) once.
			case ip.Is4():
				v4 = append(v4, ip)
			default:
				v6 = append(v6, ip)
			}
		}
	}
	return append(v4, v6...)
}

// lanAddr says whether another machine can reach ip by it.
func lanAddr(ip netip.Addr) bool {
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsUnspecified() && !ip.IsLinkLocalUnicast() &&
		!ip.IsMulticast() && !ip.IsInterfaceLocalMulticast()
}

// ReachableAddrs is which of addrs a listener bound to bound serves: all of
// them for [::] (Go's listeners on [::] and on ":port" take IPv4 too), the
// IPv4 ones for 0.0.0.0, none for any other address (it is reached by that
// address only, which the requests then carry).
func ReachableAddrs(bound netip.Addr, addrs []netip.Addr) []netip.Addr {
	if !bound.IsUnspecified() {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if bound.Is6() || a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

// HostURL is scheme://addr:port/ with an IPv6 address in brackets.
func HostURL(scheme string, addr netip.Addr, port uint16) string {
	return scheme + "://" + netip.AddrPortFrom(addr, port).String() + "/"
}

// localHost says whether a request's Host (a name or an address, with an
// optional port) names this machine only, or no machine: a loopback
// address, localhost, or a wildcard address. Nothing carrying it may be
// printed for others to follow.
func localHost(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.Trim(name, "[]"), ".")
	if strings.EqualFold(name, "localhost") || strings.HasSuffix(strings.ToLower(name), ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(name)
	if err != nil {
		return false
	}
	return a.Unmap().IsLoopback() || a.IsUnspecified()
}

// lanHost is the host (with the listener's port) to put in links instead of
// a request's local Host, and whether there is one: the first LAN address
// the listener serves.
func (s *Server) lanHost() (string, bool) {
	b := s.bound.Load()
	if b == nil {
		return "", false
	}
	lan := b.addrs(s.now())
	if len(lan) == 0 {
		return "", false
	}
	return netip.AddrPortFrom(lan[0], b.port).String(), true
}

// lanRefresh is how long a reading of the interfaces is used: the laptop
// may join the hall's Wi-Fi, or get another lease, after the service
// started, and the next desk QR code must carry the address it has now.
const lanRefresh = 10 * time.Second

// boundAddr is what Serve learnt of its listener.
type boundAddr struct {
	port uint16
	wild netip.Addr // the wildcard address bound; invalid for any other
	list func() []netip.Addr

	mu  sync.Mutex
	lan []netip.Addr // the LAN addresses it serves, best first, as last read
	at  time.Time
}

func (b *boundAddr) addrs(now time.Time) []netip.Addr {
	if !b.wild.IsValid() {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.at.IsZero() || now.Sub(b.at) >= lanRefresh || now.Before(b.at) {
		b.lan, b.at = ReachableAddrs(b.wild, b.list()), now
	}
	return b.lan
}

// bind records the listener's address: when it is a wildcard, links name
// the machine's LAN addresses it serves (Config.LANAddrs).
func (s *Server) bind(ln net.Listener) {
	ap, err := netip.ParseAddrPort(ln.Addr().String())
	if err != nil {
		return
	}
	b := &boundAddr{port: ap.Port(), list: s.cfg.LANAddrs}
	if b.list == nil {
		b.list = LANAddrs
	}
	if ap.Addr().IsUnspecified() {
		b.wild = ap.Addr()
	}
	s.bound.Store(b)
}

// printedBase is baseURL for what is printed or filed (the minutes' verify
// link and QR code, the roll-up's links): "" when all that is known is a
// loopback or wildcard host, which on paper would send a delegate's phone
// to itself.
func (s *Server) printedBase(c *fiber.Ctx) string {
	base := s.baseURL(c)
	if u, err := url.Parse(base); err != nil || localHost(u.Host) {
		return ""
	}
	return base
}
