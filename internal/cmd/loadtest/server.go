package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // only on the -pprof listener of this tool's server
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/store/bolt"
	"github.com/kiemphieu/kiemphieu/store/redis"
)

// runServerChild is `loadtest server`: one server variant on a free
// loopback port. It prints "LISTEN host:port" on stdout and serves until
// SIGTERM or until its stdin closes (its parent has gone).
//
//   - bare: a Fiber app whose POST handler parses the JSON ballot with
//     BodyParser and replies with a small JSON receipt; no storage, no
//     authentication, no logging: the ceiling of Fiber on this machine.
//   - kiemphieu: the service as `kiemphieu serve` builds it (cmd/kiemphieu
//     runServer): the embedded store in -data, or Redis at -redis-url; a
//     text slog handler at Info on -log (the product writes it to stderr).
func runServerChild(args []string) error {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	variant := fs.String("variant", "kiemphieu", "bare or kiemphieu")
	data := fs.String("data", "", "data directory of the embedded store")
	redisURL := fs.String("redis-url", "", "Redis URL; unset = embedded store")
	admin := fs.String("admin-token", "", "bootstrap admin token")
	logPath := fs.String("log", "", "file for the service's log (default: stderr)")
	logLevel := fs.String("log-level", "info", "level of the log handler: debug, info, warn or error (the product's is info)")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this address (opt-in; the product has none)")
	eventData := fs.String("event-data", "", "bare-sse: file holding each tally event's data (the service's result JSON)")
	fs.Parse(args)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { // the parent closes our stdin when it stops us, or dies
		io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	if *pprofAddr != "" {
		pln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			return err
		}
		fmt.Printf("PPROF %s\n", pln.Addr())
		go http.Serve(pln, nil)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	switch *variant {
	case "bare":
		return serveBare(ctx, ln)
	case "bare-sse":
		data, err := os.ReadFile(*eventData)
		if err != nil {
			return fmt.Errorf("bare-sse needs -event-data: %w", err)
		}
		return serveBareSSE(ctx, ln, bytes.TrimSpace(data))
	case "kiemphieu":
	default:
		return fmt.Errorf("unknown variant %q", *variant)
	}

	var w io.Writer = os.Stderr
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(*logLevel))); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))

	// As cmd/kiemphieu openStore and runServer.
	var store api.Store
	what := ""
	if *redisURL != "" {
		s, err := redis.Open(ctx, *redisURL)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		store, what = s, "redis"
	} else {
		if err := os.MkdirAll(*data, 0o750); err != nil {
			return err
		}
		path := filepath.Join(*data, "kiemphieu.db")
		s, err := bolt.Open(path)
		if err != nil {
			return err
		}
		store, what = s, "embedded "+path
	}
	defer store.(interface{ Close() error }).Close()
	srv := api.New(store, api.Config{AdminToken: *admin, Logger: log})
	log.Info("kiemphieu listening", slog.String("url", "http://"+ln.Addr().String()), slog.String("store", what))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("LISTEN %s\n", ln.Addr())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}

// bareBallot is the ballot's JSON shape, parsed as the service parses it
// (all of §5.2's fields), but checked no further.
type bareBallot struct {
	ID      string            `json:"id"`
	Struck  []string          `json:"struck"`
	Marks   map[string]string `json:"marks"`
	Invalid string            `json:"invalid"`
	Note    string            `json:"note"`
}

// serveBare serves the bare handler: parse the ballot, reply with a
// receipt-sized JSON object.
func serveBare(ctx context.Context, ln net.Listener) error {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	var seq atomic.Int64
	app.Post("/api/v1/contests/:id/ballots", func(c *fiber.Ctx) error {
		var b bareBallot
		if err := c.BodyParser(&b); err != nil {
			return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": err.Error()})
		}
		if b.ID == "" {
			return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": "id"})
		}
		return c.Status(fiber.StatusCreated).JSON(fiber.Map{"seq": seq.Add(1),
			"hash": "0000000000000000000000000000000000000000000000000000000000000000", "valid": true})
	})
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	fmt.Printf("LISTEN %s\n", ln.Addr())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	return app.ShutdownWithTimeout(5 * time.Second)
}

// serveBareSSE is the ceiling of the stream's fan-out: no Fiber, no
// broker, no store. GET (any path) starts an event stream on the raw
// connection (HTTP/1.1, chunked, as the service's) and sends the current
// tally event at once; POST (any path) answers 201 {"seq":n} and marks
// version n as new. One goroutine sends each new version, at most four a
// second as the service does, framed once as one HTTP chunk ("id: n",
// "event: tally", data), to every viewer in one write each, from
// GOMAXPROCS×2 writers.
func serveBareSSE(ctx context.Context, ln net.Listener, data []byte) error {
	var (
		mu      sync.Mutex
		viewers = map[net.Conn]bool{}
		latest  atomic.Int64
		current []byte // the frame of the last version sent
		wake    = make(chan struct{}, 1)
	)
	frame := func(v int64) []byte {
		ev := "id: " + strconv.FormatInt(v, 10) + "\nevent: tally\ndata: " + string(data) + "\n\n"
		return []byte(strconv.FormatInt(int64(len(ev)), 16) + "\r\n" + ev + "\r\n")
	}
	current = frame(0)
	const head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
	go func() { // the fan-out
		var last time.Time
		for {
			select {
			case <-wake:
			case <-ctx.Done():
				return
			}
			if d := time.Until(last.Add(250 * time.Millisecond)); d > 0 {
				time.Sleep(d)
			}
			last = time.Now()
			f := frame(latest.Load())
			mu.Lock()
			current = f
			conns := make([]net.Conn, 0, len(viewers))
			for c := range viewers {
				conns = append(conns, c)
			}
			mu.Unlock()
			var wg sync.WaitGroup
			workers := 2 * runtime.GOMAXPROCS(0)
			for i := range workers {
				wg.Go(func() {
					for j := i; j < len(conns); j += workers {
						c := conns[j]
						c.SetWriteDeadline(time.Now().Add(30 * time.Second))
						if _, err := c.Write(f); err != nil {
							mu.Lock()
							delete(viewers, c)
							mu.Unlock()
							c.Close()
						}
					}
				})
			}
			wg.Wait()
		}
	}()
	serve := func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				c.Close()
				return
			}
			if req.Method == "GET" {
				mu.Lock()
				_, err := io.WriteString(c, head)
				if err == nil {
					_, err = c.Write(current)
				}
				if err == nil {
					viewers[c] = true
				}
				mu.Unlock()
				if err != nil {
					c.Close()
				}
				return // the fan-out writes from now on; nothing is read
			}
			io.Copy(io.Discard, req.Body)
			req.Body.Close()
			n := latest.Add(1)
			body := `{"seq":` + strconv.FormatInt(n, 10) + `,"valid":true}`
			if _, err := io.WriteString(c, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body); err != nil {
				c.Close()
				return
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	fmt.Printf("LISTEN %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				mu.Lock()
				for c := range viewers {
					c.Close()
				}
				mu.Unlock()
				return nil
			}
			return err
		}
		go serve(c)
	}
}
