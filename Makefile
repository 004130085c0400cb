# kiemphieu — see README.md.
GO ?= go
.PHONY: run test lint bench build

# The service with a sample congress (embedded store, temporary data).
run:
	$(GO) run ./cmd/kiemphieu demo

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
