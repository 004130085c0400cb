// Command kiemphieu tallies ballots of Party congress elections.
//
//	kiemphieu recount CONTEST.json BALLOTS.jsonl [--format json|text]
//
// Exit status: 0 on success, 2 on bad input (with file:line: field: what is
// wrong on stderr), 1 on any other failure.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

const (
	exitOK       = 0
	exitFailure  = 1
	exitBadUsage = 2 // bad input or usage: the user can fix it
)

const usage = `kiemphieu — ballot tallying for Party congress elections

Usage:
  kiemphieu recount CONTEST.json BALLOTS.jsonl [--format json|text]
      Tally the ballots offline and print the result (JSON, or a Vietnamese
      table laid out like the counting minutes).

Exit status: 0 on success, 2 on bad input (file:line: field: problem), 1 otherwise.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program behind main, so tests drive it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadUsage
	}
	var err error
	switch args[0] {
	case "recount":
		err = recount(args[1:], stdout)
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
