package tally

import (
	"strings"

	"github.com/shopspring/decimal"
)

// Percentage is n × 100 / d under a contest's policy: Percent with a '.'
// for machines ("80.95"), Text in the Vietnamese display ("80,95%").
type Percentage struct {
	Percent string `json:"percent"`
	Text    string `json:"percent_text"`
}

// Of computes n × 100 / d exactly (shopspring/decimal, no floats) and cuts it
// to the policy's places, half up or truncated. d must be positive.
func (p PercentPolicy) Of(n, d int) Percentage {
	num := decimal.NewFromInt(int64(n)).Mul(decimal.NewFromInt(100)) // exact: n·100 may not fit an int64
	den := decimal.NewFromInt(int64(d))
	var v decimal.Decimal
	if p.Rounding == RoundTruncate {
		// QuoRem truncates toward zero at exactly Places decimals.
		v, _ = num.QuoRem(den, int32(p.Places))
	} else {
		// DivRound rounds half away from zero: half up for n ≥ 0.
		v = num.DivRound(den, int32(p.Places))
	}
	s := v.StringFixed(int32(p.Places))
	return Percentage{Percent: s, Text: strings.Replace(s, ".", ",", 1) + "%"}
}
