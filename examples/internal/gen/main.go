// Command gen writes the ballots.jsonl of the worked examples in examples/
// (domain-rules §11) from per-candidate vote targets, so that every file
// realises its example's numbers exactly.
//
//	go run ./examples/internal/gen          # rewrite examples/*/ballots.jsonl
//	go run ./examples/internal/gen -check   # fail if a file is out of date
//
// It reads only the candidate ids, seats and ballot style of each
// contest.json and does not use package tally: the ballots must be an
// independent check of the engine, not a product of it.
//
// Strike ballots: a candidate with v votes is kept (left unstruck) on v
// valid ballots. Candidates are taken by votes, most first, and each is kept
// on the v ballots that keep the fewest names so far, so the kept counts of
// any two valid ballots differ by at most one: with Σ votes between valid and
// valid × seats every valid ballot keeps between 1 and seats names, as a
// valid ballot must. The names not kept are the ballot's "struck".
//
// Approve ballots: each candidate's rows (agree, disagree, both, none) are
// dealt out the same way: the both/none rows to the ballots with the fewest
// such rows so far, then the agree
// rows to the ballots with the fewest agrees so far (so every ballot of
// several names agrees with someone: one that agrees with nobody is
// invalid, 244-QĐ/TW Điều 17.2), the rest disagree.
//
// The invalid ballots of an example are spread evenly among the valid ones.
// Ballot ids are b-0001, b-0002, … in file order. The output is
// deterministic.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	dir := flag.String("dir", "examples", "the examples directory")
	check := flag.Bool("check", false, "compare with the files on disk instead of writing them")
	flag.Parse()
	stale, err := run(*dir, !*check)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for _, f := range stale {
		fmt.Fprintln(os.Stderr, "gen: out of date:", f)
	}
	if len(stale) > 0 {
		os.Exit(1)
	}
}

// run generates every example's ballots. With write it writes them;
// otherwise it returns the files whose content differs from the generated.
func run(dir string, write bool) (stale []string, err error) {
	for _, s := range specs {
		data, err := generate(dir, s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.dir, err)
		}
		path := filepath.Join(dir, s.dir, "ballots.jsonl")
		if write {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				return nil, err
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(old, data) {
			stale = append(stale, path)
		}
	}
	return stale, nil
}

// spec is one example's ballots.
type spec struct {
	dir   string
	valid int // valid ballots
	// strike: how many valid ballots keep each candidate (its votes);
	// name (introduction): how many valid ballots name each candidate.
	votes map[string]int
	// approve: each candidate's rows over the valid ballots.
	rows map[string]rows
	// approve: candidates whose "none" rows are left out of the ballot (a
	// missing candidate is none) instead of written as "none".
	omitNone []string
	// ballots the engine must refuse, spread among the valid ones.
	invalid []raw
	// when set, the whole file, ballot by ballot; valid, votes, rows and
	// invalid are then unused.
	explicit []raw
}

// rows is one candidate's marks on the valid approve ballots.
type rows struct{ agree, disagree, both, none int }

// raw is a ballot written by hand.
type raw struct {
	struck    []string // strike: these names struck
	untouched bool     // strike: nothing struck ("struck": [])
	strikeAll bool     // strike: every name struck
	marks     map[string]string
	named     []string // name: these people named ([] when nameNone)
	nameNone  bool     // name: nobody named ("named": [])
	invalid   string   // ruled invalid on sight
	note      string
}

// ballot is one line of ballots.jsonl (DESIGN §5.2). Pointers keep an empty
// "struck": [] or "marks": {} in the output.
type ballot struct {
	ID      string             `json:"id"`
	Struck  *[]string          `json:"struck,omitempty"`
	Marks   *map[string]string `json:"marks,omitempty"`
	Named   *[]string          `json:"named,omitempty"`
	Invalid string             `json:"invalid,omitempty"`
	Note    string             `json:"note,omitempty"`
}

// contest is what gen needs of a contest.json.
type contest struct {
	Kind       string `json:"kind"`
	Seats      int    `json:"seats"`
	Ballot     string `json:"ballot"`
	Candidates []struct {
		ID string `json:"id"`
	} `json:"candidates"`
}

func generate(dir string, s spec) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, s.dir, "contest.json"))
	if err != nil {
		return nil, err
	}
	var c contest
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	ids := make([]string, len(c.Candidates))
	for i, cand := range c.Candidates {
		ids[i] = cand.ID
	}
	var all []ballot
	if s.explicit != nil {
		for _, r := range s.explicit {
			all = append(all, r.ballot(ids))
		}
	} else {
		var valid []ballot
		switch c.Ballot {
		case "strike":
			valid, err = strikeBallots(s, ids, c.Seats)
		case "approve":
			valid, err = approveBallots(s, ids, c.Kind != "opinion")
		case "name":
			valid, err = nameBallots(s, ids, c.Seats)
		default:
			err = fmt.Errorf("unknown ballot style %q", c.Ballot)
		}
		if err != nil {
			return nil, err
		}
		var invalid []ballot
		for _, r := range s.invalid {
			invalid = append(invalid, r.ballot(ids))
		}
		all = spread(valid, invalid)
	}
	width := max(4, len(fmt.Sprint(len(all))))
	var buf bytes.Buffer
	for i, b := range all {
		b.ID = fmt.Sprintf("b-%0*d", width, i+1)
		line, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

func (r raw) ballot(ids []string) ballot {
	var b ballot
	switch {
	case r.invalid != "":
		b.Invalid = r.invalid
	case r.untouched:
		b.Struck = &[]string{}
	case r.strikeAll:
		s := slices.Clone(ids)
		b.Struck = &s
	case r.struck != nil:
		s := slices.Clone(r.struck)
		b.Struck = &s
	case r.marks != nil:
		m := r.marks
		b.Marks = &m
	case r.nameNone:
		b.Named = &[]string{}
	case r.named != nil:
		n := slices.Clone(r.named)
		b.Named = &n
	}
	b.Note = r.note
	return b
}

// strikeBallots deals the votes out as described in the package comment and
// checks the result: every valid ballot keeps 1..seats names and every
// candidate is kept on exactly its target of ballots.
func strikeBallots(s spec, ids []string, seats int) ([]ballot, error) {
	if err := sameIDs(ids, keys(s.votes)); err != nil {
		return nil, err
	}
	kept := make([][]bool, s.valid) // kept[ballot][candidate]
	nkept := make([]int, s.valid)
	for i := range kept {
		kept[i] = make([]bool, len(ids))
	}
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return s.votes[ids[b]] - s.votes[ids[a]] })
	for _, ci := range order {
		v := s.votes[ids[ci]]
		if v < 0 || v > s.valid {
			return nil, fmt.Errorf("%s: %d votes on %d valid ballots", ids[ci], v, s.valid)
		}
		for _, bi := range fewest(nkept, v, nil) {
			kept[bi][ci] = true
			nkept[bi]++
		}
	}
	out := make([]ballot, s.valid)
	for bi := range out {
		if nkept[bi] < 1 || nkept[bi] > seats {
			return nil, fmt.Errorf("valid ballot %d would keep %d names (seats %d): the targets cannot be met", bi+1, nkept[bi], seats)
		}
		struck := []string{}
		for ci, id := range ids {
			if !kept[bi][ci] {
				struck = append(struck, id)
			}
		}
		out[bi].Struck = &struck
	}
	// Recount what was written, independently of how it was built.
	for ci, id := range ids {
		n := 0
		for _, b := range out {
			if !slices.Contains(*b.Struck, id) {
				n++
			}
		}
		if n != s.votes[id] {
			return nil, fmt.Errorf("%s: wrote %d votes, want %d", ids[ci], n, s.votes[id])
		}
	}
	return out, nil
}

// nameBallots deals each candidate's votes (the ballots naming it) to the
// valid introduction ballots that name the fewest so far, and checks that
// every valid ballot names 1..seats people and every candidate is named on
// exactly its target of ballots.
func nameBallots(s spec, ids []string, seats int) ([]ballot, error) {
	if err := sameIDs(ids, keys(s.votes)); err != nil {
		return nil, err
	}
	nnamed := make([]int, s.valid)
	named := make([][]string, s.valid)
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return s.votes[ids[b]] - s.votes[ids[a]] })
	for _, ci := range order {
		v := s.votes[ids[ci]]
		if v < 0 || v > s.valid {
			return nil, fmt.Errorf("%s: named on %d of %d valid ballots", ids[ci], v, s.valid)
		}
		for _, bi := range fewest(nnamed, v, nil) {
			named[bi] = append(named[bi], ids[ci])
			nnamed[bi]++
		}
	}
	out := make([]ballot, s.valid)
	for bi := range out {
		if nnamed[bi] < 1 || nnamed[bi] > seats {
			return nil, fmt.Errorf("valid ballot %d would name %d people (seats %d): the targets cannot be met", bi+1, nnamed[bi], seats)
		}
		n := named[bi]
		out[bi].Named = &n
	}
	// Recount what was written.
	for _, id := range ids {
		n := 0
		for _, b := range out {
			if slices.Contains(*b.Named, id) {
				n++
			}
		}
		if n != s.votes[id] {
			return nil, fmt.Errorf("%s: named %d times, want %d", id, n, s.votes[id])
		}
	}
	return out, nil
}

// approveBallots deals each candidate's rows out as described in the
// package comment and checks the result.
// elects: the contest elects, so a valid ballot of several names must agree
// with someone (an opinion ballot's rows are each their own question).
func approveBallots(s spec, ids []string, elects bool) ([]ballot, error) {
	if err := sameIDs(ids, keys(s.rows)); err != nil {
		return nil, err
	}
	marks := make([]map[string]string, s.valid)
	for i := range marks {
		marks[i] = map[string]string{}
	}
	nUnmarked := make([]int, s.valid)
	nAgree := make([]int, s.valid)
	for _, id := range ids {
		r := s.rows[id]
		if r.agree+r.disagree+r.both+r.none != s.valid || min(r.agree, r.disagree, r.both, r.none) < 0 {
			return nil, fmt.Errorf("%s: rows %+v do not add up to %d valid ballots", id, r, s.valid)
		}
		taken := make([]bool, s.valid)
		deal := func(n int, load []int, mark string) {
			for _, bi := range fewest(load, n, taken) {
				marks[bi][id] = mark
				taken[bi] = true
				load[bi]++
			}
		}
		deal(r.both, nUnmarked, "both")
		deal(r.none, nUnmarked, "none")
		deal(r.agree, nAgree, "agree")
		deal(r.disagree, make([]int, s.valid), "disagree")
	}
	out := make([]ballot, s.valid)
	for bi, m := range marks {
		if elects && len(ids) > 1 && nAgree[bi] == 0 {
			return nil, fmt.Errorf("valid ballot %d would agree with nobody, which makes it invalid (244-QĐ/TW Điều 17.2): avoid it", bi+1)
		}
		for _, id := range s.omitNone {
			if m[id] == "none" {
				delete(m, id)
			}
		}
		out[bi].Marks = &m
	}
	// Recount what was written.
	for _, id := range ids {
		var got rows
		for _, b := range out {
			switch (*b.Marks)[id] {
			case "agree":
				got.agree++
			case "disagree":
				got.disagree++
			case "both":
				got.both++
			default:
				got.none++
			}
		}
		if got != s.rows[id] {
			return nil, fmt.Errorf("%s: wrote %+v, want %+v", id, got, s.rows[id])
		}
	}
	return out, nil
}

// fewest returns the n indexes of load with the smallest values, lowest
// index first among equals, skipping those marked in skip.
func fewest(load []int, n int, skip []bool) []int {
	var idx []int
	for i := range load {
		if skip == nil || !skip[i] {
			idx = append(idx, i)
		}
	}
	if n > len(idx) {
		panic(fmt.Sprintf("gen: %d rows for %d free ballots", n, len(idx)))
	}
	slices.SortStableFunc(idx, func(a, b int) int { return load[a] - load[b] })
	return idx[:n]
}

// spread puts the invalid ballots at evenly spaced places among the valid.
func spread(valid, invalid []ballot) []ballot {
	total, k := len(valid)+len(invalid), len(invalid)
	at := map[int]bool{}
	for j := range k {
		at[(2*j+1)*total/(2*k)] = true
	}
	out := make([]ballot, 0, total)
	for i := range total {
		if at[i] {
			out = append(out, invalid[0])
			invalid = invalid[1:]
		} else {
			out = append(out, valid[0])
			valid = valid[1:]
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func sameIDs(contest, spec []string) error {
	a, b := slices.Sorted(slices.Values(contest)), slices.Sorted(slices.Values(spec))
	if !slices.Equal(a, b) {
		return errors.New("the vote targets name candidates " + strings.Join(b, ",") + " but the contest has " + strings.Join(a, ","))
	}
	return nil
}
