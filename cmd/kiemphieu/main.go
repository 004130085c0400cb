// Command kiemphieu tallies ballots of Party congress elections.
//
//	kiemphieu serve [--addr A] [--data DIR] [--redis-url URL] [--admin-token T] [--lan] [--tls auto]
//	kiemphieu recount CONTEST.json BALLOTS.jsonl [--format json|text]
//	kiemphieu verify EXPORT [--head HASH] [--key FINGERPRINT|PUBKEY]
//	kiemphieu demo
//	kiemphieu version
//
// On Windows, kiemphieu.exe with no arguments (started from Explorer) is
// `serve --open --addr 0.0.0.0:8080` with the data beside the executable.
//
// Exit status: 0 on success, 2 on bad input (with file:line: field: what is
// wrong on stderr), 1 on any other failure.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
)

const (
	exitOK       = 0
	exitFailure  = 1
	exitBadUsage = 2 // bad input or usage: the user can fix it
)

const usage = `kiemphieu — ballot tallying for Party congress elections

Usage:
  kiemphieu serve [--addr 127.0.0.1:8080] [--data ./data] [--redis-url URL] [--admin-token T]
                  [--lan] [--tls auto | --tls-cert FILE --tls-key FILE] [--open]
      Run the service: the ballot log (embedded in DATA/kiemphieu.db, or in
      Redis when a URL is given), the HTTP API and the live results.
      --lan serves the hall's LAN (0.0.0.0:8080 unless an address is given)
      and prints the addresses for the desks, with a QR code; --tls auto
      serves HTTPS with a certificate made once in DATA/tls.
      Environment: KIEMPHIEU_ADDR, KIEMPHIEU_DATA, KIEMPHIEU_REDIS_URL,
      KIEMPHIEU_REDIS_WAIT (--redis-wait N: each write waits for N Redis
      replicas), KIEMPHIEU_REDIS_WAIT_TIMEOUT, KIEMPHIEU_ADMIN_TOKEN, KIEMPHIEU_PUBLIC_URL, KIEMPHIEU_TLS (auto),
      KIEMPHIEU_TLS_CERT, KIEMPHIEU_TLS_KEY, KIEMPHIEU_LOG_FORMAT (text|json).
      With no account and no admin token, it prints a one-time link
      …/setup?code=… that creates the secretary's admin account.
      --open opens the service (or that link) in this machine's browser.
      On Windows, kiemphieu.exe with no arguments runs
      serve --open --addr 0.0.0.0:8080, its data beside the executable.
  kiemphieu demo [serve flags]
      Run the service with a sample congress loaded (in a new temporary data
      directory unless --data or KIEMPHIEU_DATA is given) and print where to look.
  kiemphieu recount CONTEST.json BALLOTS.jsonl [--format json|text]
      Tally the ballots offline and print the result (JSON, or a Vietnamese
      table laid out like the counting minutes). The second file may also be
      a round's log (GET /api/v1/contests/{id}/log).
  kiemphieu version
      Print the version (a release's git tag, or "dev").
  kiemphieu verify EXPORT [--head HASH] [--key FINGERPRINT|PUBKEY]
      Check a round's export (GET /contests/{id}/export.jsonl): the hash
      chain, the head recorded at close, the recount against the exported
      result, the certifying instance's signature if it has one; with --head
      the hash printed on the minutes, with --key that the round is signed
      with that key (its fingerprint as the minutes print it, or its public
      key).

Exit status: 0 on success, 2 on bad input (file:line: field: problem), 1 otherwise.
`

func main() {
	args := os.Args[1:]
	if a := doubleClickArgs(runtime.GOOS, os.LookupEnv); len(args) == 0 && a != nil {
		code := run(a, os.Stdout, os.Stderr)
		if code != exitOK {
			waitBeforeClosing(os.Stdin, os.Stderr)
		}
		os.Exit(code)
	}
	os.Exit(run(args, os.Stdout, os.Stderr))
}

// run is the whole program behind main, so tests drive it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadUsage
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr)
	case "demo":
		err = demo(args[1:], stdout, stderr)
	case "recount":
		err = recount(args[1:], stdout)
	case "verify":
		err = verify(args[1:], stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "kiemphieu", version)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = usageErrorf("unknown command %q", args[0])
	}
	var bad *inputError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &bad):
		fmt.Fprintln(stderr, bad.Error())
		if bad.usage {
			fmt.Fprint(stderr, "\n"+usage)
		}
		return exitBadUsage
	default:
		fmt.Fprintln(stderr, "kiemphieu:", err)
		return exitFailure
	}
}

// inputError is a problem the user can fix: bad arguments or bad files.
// Its text is one or more lines of the form file:line: field: problem.
type inputError struct {
	lines []string
	usage bool // print the usage after it
}

func (e *inputError) Error() string {
	s := ""
	for i, l := range e.lines {
		if i > 0 {
			s += "\n"
		}
		s += l
	}
	return s
}

func usageErrorf(format string, args ...any) error {
	return &inputError{lines: []string{"kiemphieu: " + fmt.Sprintf(format, args...)}, usage: true}
}

func inputErrorf(format string, args ...any) error {
	return &inputError{lines: []string{fmt.Sprintf(format, args...)}}
}
