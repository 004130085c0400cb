# kiemphieu — see README.md.
GO ?= go
EXAMPLE ?= examples/ex01-branch-committee

.PHONY: run test lint bench build

# Tally a worked example offline (the service, `kiemphieu serve`, is issue 3).
run:
	$(GO) run ./cmd/kiemphieu recount $(EXAMPLE)/contest.json $(EXAMPLE)/ballots.jsonl --format text

# Everything CI runs: vet, gofmt, go test -race, short fuzzing.
test:
	./scripts/test

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

build:
	$(GO) build -o kiemphieu ./cmd/kiemphieu

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...
