# kiemphieu — see README.md.
GO ?= go
# Go 1.27.3 for the standard library's security fixes (README); the go
# command fetches it from the module proxy on first use.
GOTOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN
.PHONY: run test vulncheck lint bench bench-go bench-table bench-intake bench-sse build proof release

# The service with a sample congress (embedded store, temporary data).
run:
	$(GO) run ./cmd/kiemphieu demo

# Everything CI runs: vet, gofmt, govulncheck, go test -race, short fuzzing.
test:
	./scripts/test

# The reliability campaign (docs/reliability.md): bounded, loopback only;
# figures in artifacts/proof/summary.txt. CI runs `scripts/proof --short`.
proof:
	./scripts/proof

# govulncheck with the vulnerability database built from the
# golang.org/x/vulndb module (scripts/vulncheck); part of `make test`.
vulncheck:
	./scripts/vulncheck

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

build:
	$(GO) build -o kiemphieu ./cmd/kiemphieu

# The release archives in dist/: Windows (kiemphieu.exe in a .zip), Linux
# amd64 and arm64, macOS arm64 (.tar.gz), and SHA256SUMS (scripts/release).
release:
	GO=$(GO) ./scripts/release

# Benchmarks (docs/benchmarks.md): the Go benchmarks, then `loadtest
# bench`, which measures each path of the service beside its ceiling in the
# same run (intake: raw bbolt group commit, raw EVALSHA with AOF always,
# bare Fiber; recount: reading and SHA-256 of the log; fan-out: a bare SSE
# writer) and prints one table of ratios. It starts its own servers, Redis
# and viewers on loopback and needs redis-server. About 5 minutes.
# bench-intake and bench-sse are the longer single-path load tests.
LOADTEST = $(GO) run ./internal/cmd/loadtest

bench: bench-go bench-table

bench-table:
	$(LOADTEST) bench

bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Durable ballot intake, 64 connections × 10 s: bare Fiber, embedded store, Redis.
bench-intake:
	$(LOADTEST) intake

# 10,000 SSE viewers; the second run gives the viewers the lowest priority
# (nice 19), as if they were on other machines.
bench-sse:
	$(LOADTEST) sse
	$(LOADTEST) sse -viewers-nice 19
