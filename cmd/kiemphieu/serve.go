package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/tally"
)

// serveConfig is DESIGN §5.6: each setting from a flag, else the
// environment, else the default.
type serveConfig struct {
	Addr     string
	Data     string
	RedisURL string
	// RedisWait: replicas every write waits for (WAIT); RedisWaitTimeout
	// bounds each wait (0: the store's default).
	RedisWait        int
	RedisWaitTimeout time.Duration
	AdminToken       string
	LogFormat        string
	PublicURL        string
	// TrustedProxies: comma-separated addresses or CIDR ranges.
	TrustedProxies string
	// LAN: serve the hall's LAN (--lan): a wildcard address unless one is
	// given.
	LAN bool
	// TLS is "" (plain HTTP unless a certificate is given) or "auto" (a
	// certificate made once in DATA/tls); TLSCert and TLSKey are files of
	// your own.
	TLS, TLSCert, TLSKey string
	// Banner, when set, receives the addresses to give the desks and a QR
	// code of the first, for a person at the terminal (not from a flag:
	// serve sets it for the text log).
	Banner io.Writer
	// Open: open the service (or its first-run link) in this machine's
	// browser once it listens (kiemphieu.exe started from Explorer).
	Open bool
}

// lanAddr is the address --lan listens on when none is given.
const lanAddr = "0.0.0.0:8080"

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func parseServeFlags(name string, args []string) (serveConfig, error) {
	var cfg serveConfig
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Addr, "addr", envOr("KIEMPHIEU_ADDR", "127.0.0.1:8080"), "listen address (KIEMPHIEU_ADDR)")
	fs.StringVar(&cfg.Data, "data", envOr("KIEMPHIEU_DATA", defaultDataDir(runtime.GOOS, os.Executable)),
		"data directory of the embedded store; on Windows beside the executable by default (KIEMPHIEU_DATA)")
	fs.StringVar(&cfg.RedisURL, "redis-url", envOr("KIEMPHIEU_REDIS_URL", ""), "Redis URL; unset = embedded store (KIEMPHIEU_REDIS_URL)")
	wait, waitTimeout := envOr("KIEMPHIEU_REDIS_WAIT", "0"), envOr("KIEMPHIEU_REDIS_WAIT_TIMEOUT", "")
	fs.StringVar(&wait, "redis-wait", wait, "Redis replicas each write waits for before it is acknowledged (KIEMPHIEU_REDIS_WAIT)")
	fs.StringVar(&waitTimeout, "redis-wait-timeout", waitTimeout, "how long a write waits for them, e.g. 1s (KIEMPHIEU_REDIS_WAIT_TIMEOUT)")
	fs.StringVar(&cfg.AdminToken, "admin-token", envOr("KIEMPHIEU_ADMIN_TOKEN", ""), "bootstrap admin bearer token (KIEMPHIEU_ADMIN_TOKEN)")
	fs.StringVar(&cfg.PublicURL, "public-url", envOr("KIEMPHIEU_PUBLIC_URL", ""),
		"address people reach the service at, printed as the minutes' QR code; https:// also marks cookies Secure (KIEMPHIEU_PUBLIC_URL)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", envOr("KIEMPHIEU_TRUSTED_PROXIES", ""),
		"comma-separated addresses or CIDR ranges of reverse proxies whose X-Real-IP header names the client (KIEMPHIEU_TRUSTED_PROXIES)")
	fs.BoolVar(&cfg.Open, "open", false, "open the service in this machine's browser once it listens")
	fs.StringVar(&cfg.LogFormat, "log-format", envOr("KIEMPHIEU_LOG_FORMAT", "text"), "text or json (KIEMPHIEU_LOG_FORMAT)")
	fs.BoolVar(&cfg.LAN, "lan", false, "serve the hall's LAN: listen on "+lanAddr+" unless an address is given, print the addresses for the desks")
	fs.StringVar(&cfg.TLS, "tls", envOr("KIEMPHIEU_TLS", ""), `"auto": HTTPS with a certificate made once in DATA/tls (KIEMPHIEU_TLS)`)
	fs.StringVar(&cfg.TLSCert, "tls-cert", envOr("KIEMPHIEU_TLS_CERT", ""), "HTTPS certificate file (PEM), with --tls-key (KIEMPHIEU_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", envOr("KIEMPHIEU_TLS_KEY", ""), "HTTPS private key file (PEM), with --tls-cert (KIEMPHIEU_TLS_KEY)")
	if err := fs.Parse(args); err != nil {
		return cfg, usageErrorf("%s: %v", name, err)
	}
	if fs.NArg() > 0 {
		return cfg, usageErrorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	n, err := strconv.Atoi(wait)
	if err != nil || n < 0 {
		return cfg, usageErrorf("%s: --redis-wait (KIEMPHIEU_REDIS_WAIT) must be a number of replicas, 0 or more; got %q", name, wait)
	}
	cfg.RedisWait = n
	if waitTimeout != "" {
		d, err := time.ParseDuration(waitTimeout)
		if err != nil || d <= 0 {
			return cfg, usageErrorf("%s: --redis-wait-timeout (KIEMPHIEU_REDIS_WAIT_TIMEOUT) must be a positive duration such as 1s (WAIT with 0 blocks for ever); got %q", name, waitTimeout)
		}
		cfg.RedisWaitTimeout = d
	}
	if cfg.RedisWait > 0 && cfg.RedisURL == "" {
		return cfg, usageErrorf("%s: --redis-wait (KIEMPHIEU_REDIS_WAIT) needs --redis-url: the embedded store has no replicas", name)
	}
	if err := cfg.hall(name, addrGiven(fs)); err != nil {
		return cfg, err
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return cfg, usageErrorf(`%s: --log-format must be "text" or "json"; got %q`, name, cfg.LogFormat)
	}
	if u, err := url.Parse(cfg.PublicURL); cfg.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return cfg, usageErrorf("%s: --public-url must be an http:// or https:// address; got %q", name, cfg.PublicURL)
	}
	if cfg.tlsOn() && strings.HasPrefix(cfg.PublicURL, "http://") {
		return cfg, usageErrorf("%s: --public-url must be an https:// address when serving HTTPS; got %q", name, cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.AdminToken != "" && len(cfg.AdminToken) < 16 {
		return cfg, usageErrorf("%s: the admin token must be at least 16 characters", name)
	}
	return cfg, nil
}

// addrGiven says whether the listen address was given, by flag or
// environment.
func addrGiven(fs *flag.FlagSet) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "addr" })
	_, env := os.LookupEnv("KIEMPHIEU_ADDR")
	return given || env
}

// hall checks and completes the LAN and TLS settings.
func (cfg *serveConfig) hall(name string, addrGiven bool) error {
	if cfg.LAN && !addrGiven {
		cfg.Addr = lanAddr
	}
	if cfg.LAN {
		// --lan with 127.0.0.1 would print addresses nobody can reach.
		host, _, err := net.SplitHostPort(cfg.Addr)
		if ip := net.ParseIP(host); err == nil && (host == "localhost" || ip != nil && ip.IsLoopback()) {
			return usageErrorf("%s: --lan serves the LAN, but the address %q is this machine's only: give a wildcard address such as %s", name, cfg.Addr, lanAddr)
		}
	}
	switch {
	case cfg.TLS != "" && cfg.TLS != "auto":
		return usageErrorf(`%s: --tls must be "auto" (or unset, with --tls-cert and --tls-key for a certificate of your own); got %q`, name, cfg.TLS)
	case cfg.TLS == "auto" && (cfg.TLSCert != "" || cfg.TLSKey != ""):
		return usageErrorf("%s: --tls auto makes its own certificate: give it, or --tls-cert and --tls-key, not both", name)
	case (cfg.TLSCert == "") != (cfg.TLSKey == ""):
		return usageErrorf("%s: --tls-cert and --tls-key go together: give both files", name)
	}
	return nil
}

func (cfg serveConfig) tlsOn() bool { return cfg.TLS == "auto" || cfg.TLSCert != "" }

// serverTLS loads or makes the certificate; fingerprint is set for a made
// one (the desks compare it; a certificate of your own is checked by the
// browsers).
func serverTLS(cfg serveConfig, log *slog.Logger) (tc *tls.Config, fingerprint string, err error) {
	if !cfg.tlsOn() {
		return nil, "", nil
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, "", inputErrorf("%s, %s: %v", cfg.TLSCert, cfg.TLSKey, err)
		}
		log.Info("https", slog.String("certificate", cfg.TLSCert), slog.String("sha256", api.CertFingerprint(cert)))
		return api.ServerTLS(cert), "", nil
	}
	dir := filepath.Join(cfg.Data, "tls")
	lan := api.LANAddrs()
	cert, made, err := api.AutoCertificate(dir, lan, time.Now())
	if err != nil {
		return nil, "", fmt.Errorf("the HTTPS certificate: %w", err)
	}
	fingerprint = api.CertFingerprint(cert)
	certFile, _ := api.AutoCertFiles(dir)
	log.Info("https: self-made certificate; desks compare its fingerprint before accepting it",
		slog.String("certificate", certFile), slog.Bool("made_now", made), slog.String("sha256", fingerprint))
	if miss := api.UncoveredAddrs(cert, lan); len(miss) > 0 {
		log.Warn("https: the certificate does not name these addresses of the machine (browsers warn of a wrong name too); remove "+dir+" to make a new one, with a new fingerprint",
			slog.Any("addrs", miss))
	}
	return api.ServerTLS(cert), fingerprint, nil
}

// hallURLs are the addresses to give the desks: the public URL, else each
// LAN address a wildcard listener serves; none for a specific address.
func hallURLs(cfg serveConfig, scheme string, bound netip.AddrPort) []string {
	if cfg.PublicURL != "" {
		return []string{cfg.PublicURL + "/"}
	}
	var out []string
	for _, a := range api.ReachableAddrs(bound.Addr(), api.LANAddrs()) {
		out = append(out, api.HostURL(scheme, a, bound.Port()))
	}
	return out
}

// printHall writes the hall's addresses and a QR code of the first, for
// the secretary's phone: half-block characters, light modules drawn (the
// terminals of Windows and Linux are dark), so one text line holds two
// rows of modules.
func printHall(w io.Writer, urls []string, fingerprint string) {
	if w == nil || len(urls) == 0 {
		return
	}
	fmt.Fprintln(w, "\nkiemphieu: open on the hall's LAN (mở trên mạng hội trường):")
	for _, u := range urls {
		fmt.Fprintln(w, "  "+u)
	}
	if fingerprint != "" {
		fmt.Fprintln(w, "HTTPS certificate SHA-256 (desks compare before accepting):\n  "+fingerprint)
	}
	if q, err := qrcode.New(urls[0], qrcode.Low); err == nil {
		fmt.Fprint(w, q.ToSmallString(false))
	}
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// redisDownHint is the operator's step printed when no Redis answers at
// start-up. After a power cut or a crash tore the end of its AOF, a Redis
// run as the service requires (aof-load-truncated no) refuses to start
// until the torn end is cut; the service cannot read Redis's log to know
// that this is why, so it says what to look for and what to do.
const redisDownHint = `No Redis answered. Is redis-server running? If it exited at start-up after a power cut or a crash,
look in its log for "Unexpected end of file reading the append only file" or "Bad file format reading
the append only file": the end of its AOF is torn. Then, with Redis stopped, cut the torn end:
  redis-check-aof --fix <dir>/appendonlydir/appendonly.aof.manifest
(<dir> is Redis's "dir" setting; with docker compose:
  docker compose run --rm redis redis-check-aof --fix /data/appendonlydir/appendonly.aof.manifest)
answer y, start Redis, then kiemphieu again. The tool cuts only the torn end, which with
appendfsync always holds no acknowledged ballot (docs/reliability.md, "Power cuts").`

// openStore opens Redis when a URL is given, else the embedded store.
func openStore(ctx context.Context, cfg serveConfig) (api.Store, string, error) {
	if cfg.RedisURL != "" {
		s, err := redis.OpenWith(ctx, cfg.RedisURL, redis.Options{Wait: cfg.RedisWait, WaitTimeout: cfg.RedisWaitTimeout})
		if errors.Is(err, redis.ErrUnreachable) {
			return nil, "", fmt.Errorf("redis: %w\n%s", err, redisDownHint)
		}
		if err != nil {
			return nil, "", fmt.Errorf("redis: %w", err)
		}
		return s, "redis", nil
	}
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, "", err
	}
	path := filepath.Join(cfg.Data, "kiemphieu.db")
	s, err := bolt.Open(path)
	if err != nil {
		return nil, "", err
	}
	return s, "embedded " + path, nil
}

type closer interface{ Close() error }

// serve runs the service until SIGINT or SIGTERM.
func serve(args []string, stderr io.Writer) error {
	cfg, err := parseServeFlags("serve", args)
	if err != nil {
		return err
	}
	if cfg.LogFormat == "text" {
		cfg.Banner = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runServer(ctx, cfg, newLogger(cfg.LogFormat, stderr), nil)
}

// runServer opens the store, serves until ctx ends, then shuts down in
// order: the broker (open streams end), the server, the store. ready, when
// set, is called with the base URL once the server listens (the demo).
func runServer(ctx context.Context, cfg serveConfig, log *slog.Logger, ready func(base string)) error {
	store, what, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.(closer).Close()
	// The deployment's signing key, made on the first start and kept in
	// the store (every instance on one Redis reads the same one): it signs
	// each round certified, and the minutes print its fingerprint.
	key, err := api.InstanceKey(ctx, store, func() string { return time.Now().UTC().Format(time.RFC3339) })
	if err != nil {
		return fmt.Errorf("the signing key: %w", err)
	}
	tc, fingerprint, err := serverTLS(cfg, log)
	if err != nil {
		return err
	}
	srv := api.New(store, api.Config{AdminToken: cfg.AdminToken, Logger: log, PublicURL: cfg.PublicURL,
		SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"), TrustedProxies: splitList(cfg.TrustedProxies),
		SigningKey: key, TLS: tc, TLSFingerprint: fingerprint})
	// Nobody can sign in yet: a one-time link makes the first admin.
	firstRun, err := srv.FirstRun(ctx)
	if err != nil {
		return fmt.Errorf("first run: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if tc != nil {
		scheme = "https"
	}
	bound, _ := netip.ParseAddrPort(ln.Addr().String())
	// This machine's own way in: a wildcard address is no address to open
	// ("http://[::]:8080" was what the log said).
	local := scheme + "://" + ln.Addr().String()
	if bound.Addr().IsUnspecified() {
		local = scheme + "://" + netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), bound.Port()).String()
	}
	urls := hallURLs(cfg, scheme, bound)
	log.Info("kiemphieu listening", slog.String("addr", ln.Addr().String()), slog.String("url", local),
		slog.Any("lan", urls), slog.String("store", what))
	if len(urls) == 0 && bound.Addr().IsLoopback() {
		log.Info("only this machine reaches the service: kiemphieu serve --lan serves the hall's LAN")
	}
	log.Info("signing key", slog.String("fingerprint", tally.Fingerprint(key.Public().(ed25519.PublicKey))))
	printHall(cfg.Banner, urls, fingerprint)
	// The first-run link and --open are for this machine's own browser.
	link := local + "/"
	if cfg.PublicURL != "" {
		link = strings.TrimRight(cfg.PublicURL, "/") + "/"
	}
	if firstRun != "" {
		link += "setup?code=" + firstRun
		announceFirstRun(log, link)
	}
	if cfg.Open {
		if err := openBrowser(link); err != nil {
			log.Warn("could not open the browser; open the address yourself", slog.String("url", link), slog.Any("err", err))
		}
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		go ready(local)
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// A signal that comes before Serve has begun finds no server to shut
	// down, and Serve would then run on: closing the listener ends it at
	// once in either case.
	ln.Close()
	if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// splitList splits a comma-separated setting, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
