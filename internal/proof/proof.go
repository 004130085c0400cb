// Package proof is how the tests of the reliability campaign (make proof,
// docs/reliability.md) report their figures: one line per figure, which
// scripts/proof collects into the run's summary.
package proof

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// Full reports whether the full campaign is running (make proof sets
// KP_PROOF=full); otherwise tests run their short version, sized for CI.
func Full() bool { return os.Getenv("KP_PROOF") == "full" }

// Size returns full in the full campaign and short otherwise, unless
// KP_PROOF_<NAME> sets it (for replaying one phase at another size).
func Size(name string, short, full int) int {
	if v, err := strconv.Atoi(os.Getenv("KP_PROOF_" + name)); err == nil && v > 0 {
		return v
	}
	if Full() {
		return full
	}
	return short
}

// Report logs one figure of the campaign: "PROOF <test> <name> = <value> <unit>".
// scripts/proof greps these lines (go test -v) into the summary.
func Report(t testing.TB, name string, value any, unit string) {
	t.Helper()
	t.Logf("PROOF %s %s = %v %s", t.Name(), name, value, unit)
}

// Reportf is Report with a formatted value.
func Reportf(t testing.TB, name, unit, format string, args ...any) {
	t.Helper()
	Report(t, name, fmt.Sprintf(format, args...), unit)
}
