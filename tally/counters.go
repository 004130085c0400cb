package tally

import (
	"fmt"
	"strings"
)

// Counter keys name the running totals a store keeps beside the log, so
// that a result never needs a replay of the whole log: "total", "valid",
// "invalid:<reason>", and per candidate id "struck:<id>" (strike),
// "agree:<id>" and "disagree:<id>" (approve) or "named:<id>" (name).
const (
	CounterTotal = "total"
	CounterValid = "valid"
)

// Effect returns a marking's verdict and the counter keys its ballot adds
// one to (a void of it subtracts one from each).
func (c *Contest) Effect(m Marking) (Reason, []string) {
	r := c.Classify(m)
	if r != Valid {
		return r, []string{CounterTotal, "invalid:" + r.String()}
	}
	keys := []string{CounterTotal, CounterValid}
	switch c.Ballot {
	case StyleStrike:
		for _, i := range m.Struck {
			keys = append(keys, "struck:"+c.Candidates[i].ID)
		}
		return r, keys
	case StyleName:
		for _, i := range m.Named {
			keys = append(keys, "named:"+c.Candidates[i].ID)
		}
		return r, keys
	}
	for i, mk := range m.Marks {
		switch mk {
		case MarkAgree:
			keys = append(keys, "agree:"+c.Candidates[i].ID)
		case MarkDisagree:
			keys = append(keys, "disagree:"+c.Candidates[i].ID)
		}
	}
	return r, keys
}

// Counters returns the count as counter keys, leaving out zeros.
func (t *Count) Counters() map[string]int64 {
	m := map[string]int64{}
	put := func(k string, v int) {
		if v != 0 {
			m[k] = int64(v)
		}
	}
	put(CounterTotal, t.total)
	put(CounterValid, t.valid)
	for r, n := range t.invalid {
		put("invalid:"+Reason(r).String(), n)
	}
	for i, cand := range t.contest.Candidates {
		switch {
		case t.struck != nil:
			put("struck:"+cand.ID, t.struck[i])
		case t.named != nil:
			put("named:"+cand.ID, t.named[i])
		default:
			put("agree:"+cand.ID, t.agree[i])
			put("disagree:"+cand.ID, t.disagree[i])
		}
	}
	return m
}

// CountFromCounters rebuilds a count from a store's counters, refusing
// keys it does not know and totals that do not add up.
func CountFromCounters(c *Contest, counters map[string]int64) (*Count, error) {
	t := NewCount(c)
	index := c.Index()
	for k, v := range counters {
		if v < 0 {
			return nil, fmt.Errorf("counter %q is negative (%d)", k, v)
		}
		n := int(v)
		kind, id, _ := strings.Cut(k, ":")
		switch {
		case k == CounterTotal:
			t.total = n
		case k == CounterValid:
			t.valid = n
		case kind == "invalid":
			r, ok := reasonByName(id)
			if !ok {
				return nil, fmt.Errorf("unknown counter %q", k)
			}
			t.invalid[r] = n
		default:
			i, ok := index[id]
			switch {
			case !ok:
				return nil, fmt.Errorf("counter %q names no candidate", k)
			case kind == "struck" && t.struck != nil:
				t.struck[i] = n
			case kind == "named" && t.named != nil:
				t.named[i] = n
			case kind == "agree" && t.agree != nil:
				t.agree[i] = n
			case kind == "disagree" && t.disagree != nil:
				t.disagree[i] = n
			default:
				return nil, fmt.Errorf("unknown counter %q for a %s contest", k, c.Ballot)
			}
		}
	}
	invalid := 0
	for _, n := range t.invalid {
		invalid += n
	}
	if t.valid+invalid != t.total {
		return nil, fmt.Errorf("counters do not add up: valid %d + invalid %d ≠ total %d", t.valid, invalid, t.total)
	}
	return t, nil
}

func reasonByName(name string) (Reason, bool) {
	for r := Reason(1); r < numReasons; r++ {
		if r.String() == name {
			return r, true
		}
	}
	return Valid, false
}
