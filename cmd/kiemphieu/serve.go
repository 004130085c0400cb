package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/store/redis"
	"github.com/kiemphieu/kiemphieu/tally"
)

// serveConfig is DESIGN §5.6: each setting from a flag, else the
// environment, else the default.
type serveConfig struct {
	Addr       string
	Data       string
	RedisURL   string
	AdminToken string
	LogFormat  string
	PublicURL  string
	// TrustedProxies: comma-separated addresses or CIDR ranges.
	TrustedProxies string
	// Open: open the service (or its first-run link) in this machine's
	// browser once it listens (kiemphieu.exe started from Explorer).
	Open bool
}

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
	fs.StringVar(&cfg.AdminToken, "admin-token", envOr("KIEMPHIEU_ADMIN_TOKEN", ""), "bootstrap admin bearer token (KIEMPHIEU_ADMIN_TOKEN)")
	fs.StringVar(&cfg.PublicURL, "public-url", envOr("KIEMPHIEU_PUBLIC_URL", ""),
		"address people reach the service at, printed as the minutes' QR code; https:// also marks cookies Secure (KIEMPHIEU_PUBLIC_URL)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", envOr("KIEMPHIEU_TRUSTED_PROXIES", ""),
		"comma-separated addresses or CIDR ranges of reverse proxies whose X-Real-IP header names the client (KIEMPHIEU_TRUSTED_PROXIES)")
	fs.BoolVar(&cfg.Open, "open", false, "open the service in this machine's browser once it listens")
	fs.StringVar(&cfg.LogFormat, "log-format", envOr("KIEMPHIEU_LOG_FORMAT", "text"), "text or json (KIEMPHIEU_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		return cfg, usageErrorf("%s: %v", name, err)
	}
	if fs.NArg() > 0 {
		return cfg, usageErrorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return cfg, usageErrorf(`%s: --log-format must be "text" or "json"; got %q`, name, cfg.LogFormat)
	}
	if u, err := url.Parse(cfg.PublicURL); cfg.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return cfg, usageErrorf("%s: --public-url must be an http:// or https:// address; got %q", name, cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.AdminToken != "" && len(cfg.AdminToken) < 16 {
		return cfg, usageErrorf("%s: the admin token must be at least 16 characters", name)
	}
	return cfg, nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// openStore opens Redis when a URL is given, else the embedded store.
func openStore(ctx context.Context, cfg serveConfig) (api.Store, string, error) {
	if cfg.RedisURL != "" {
		s, err := redis.Open(ctx, cfg.RedisURL)
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
	srv := api.New(store, api.Config{AdminToken: cfg.AdminToken, Logger: log, PublicURL: cfg.PublicURL,
		SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"), TrustedProxies: splitList(cfg.TrustedProxies),
		SigningKey: key})
	// Nobody can sign in yet: a one-time link makes the first admin.
	firstRun, err := srv.FirstRun(ctx)
	if err != nil {
		return fmt.Errorf("first run: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	log.Info("kiemphieu listening", slog.String("url", "http://"+ln.Addr().String()), slog.String("store", what))
	log.Info("signing key", slog.String("fingerprint", tally.Fingerprint(key.Public().(ed25519.PublicKey))))
	link := localLink(cfg.PublicURL, ln.Addr()) + "/"
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
		go ready("http://" + ln.Addr().String())
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
	return <-served
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
