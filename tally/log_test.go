package tally_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

func logContest(t *testing.T) *tally.Contest {
	t.Helper()
	c, err := tally.ParseContest([]byte(`{"id":"log-test","title":"Bầu Chi ủy","kind":"committee","seats":3,"ballot":"strike",
		"electorate":{"congress":"members","convened":9},
		"candidates":[{"id":"a","name":"Nguyễn Văn An"},{"id":"b","name":"Trần Thị Bình"},{"id":"c","name":"Lê Văn Cường"},{"id":"d","name":"Phạm Thị Dung"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// appendEntry links a new entry to the end of a log, as a store does.
func appendEntry(log []tally.Entry, e tally.Entry) []tally.Entry {
	seq, prev := int64(0), tally.GenesisHash
	if n := len(log); n > 0 {
		seq, prev = log[n-1].Seq, log[n-1].Hash
	}
	e.Link(seq, prev)
	return append(log, e)
}

func TestEntryHashIsSHA256OfPrevAndCanonicalJSON(t *testing.T) {
	e := tally.Entry{Ballot: &tally.Ballot{ID: "b-1", Struck: []string{"a", "c"}}, Desk: "bàn 1", Time: "2026-11-21T08:00:00Z"}
	e.Link(0, tally.GenesisHash)
	canonical := `{"seq":1,"ballot":{"id":"b-1","struck":["a","c"]},"desk":"bàn 1","time":"2026-11-21T08:00:00Z","prev":"` + tally.GenesisHash + `"}`
	sum := sha256.Sum256([]byte(tally.GenesisHash + canonical))
	if got, want := e.Hash, hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("hash=%s, want %s", got, want)
	}
	line, _ := json.Marshal(e)
	if got, want := string(line), strings.TrimSuffix(canonical, "}")+`,"hash":"`+e.Hash+`"}`; got != want {
		t.Fatalf("export line\n got %s\nwant %s", got, want)
	}
}

// desk_id is an optional field of the canonical form: between desk and
// time when set, absent when empty, so that a log written before it
// existed hashes as it did (the test above).
func TestEntryDeskIDInCanonicalJSON(t *testing.T) {
	e := tally.Entry{Ballot: &tally.Ballot{ID: "b-1", Struck: []string{"a"}}, Desk: "Bàn 1", DeskID: "token:0123456789ab", Time: "2026-11-21T08:00:00Z"}
	e.Link(0, tally.GenesisHash)
	canonical := `{"seq":1,"ballot":{"id":"b-1","struck":["a"]},"desk":"Bàn 1","desk_id":"token:0123456789ab","time":"2026-11-21T08:00:00Z","prev":"` + tally.GenesisHash + `"}`
	sum := sha256.Sum256([]byte(tally.GenesisHash + canonical))
	if got, want := e.Hash, hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("hash=%s, want %s", got, want)
	}
	line, _ := json.Marshal(e)
	var back tally.Entry
	if err := json.Unmarshal(line, &back); err != nil {
		t.Fatal(err)
	}
	if back.DeskID != e.DeskID || back.ComputeHash() != e.Hash {
		t.Fatalf("round trip: desk_id %q, hash %s; want %q, %s", back.DeskID, back.ComputeHash(), e.DeskID, e.Hash)
	}
	// Another credential of the same name is another entry.
	other := e
	other.DeskID = "token:ba9876543210"
	if other.ComputeHash() == e.Hash {
		t.Fatal("desk_id is not covered by the hash")
	}
}

func sampleLog(t *testing.T) []tally.Entry {
	t.Helper()
	var log []tally.Entry
	for _, b := range []tally.Ballot{
		{ID: "b1", Struck: []string{"a"}},
		{ID: "b2", Struck: []string{}}, // untouched: over-vote
		{ID: "b3", Struck: []string{"d"}},
		{ID: "b4", Invalid: tally.ReasonWriteIn, Note: "ghi thêm tên"},
	} {
		log = appendEntry(log, tally.Entry{Ballot: &b, Desk: "d1", Time: "2026-11-21T08:00:00Z"})
	}
	// b3 was keyed wrongly: void it, then key it again.
	log = appendEntry(log, tally.Entry{Void: &tally.Void{Seq: 3, Ballot: "b3", Reason: "gõ nhầm"}, Desk: "d1", Time: "2026-11-21T08:01:00Z"})
	log = appendEntry(log, tally.Entry{Ballot: &tally.Ballot{ID: "b3-2", Struck: []string{"c"}}, Desk: "d1", Time: "2026-11-21T08:01:10Z"})
	return log
}

func TestVerifyChain(t *testing.T) {
	log := sampleLog(t)
	head, err := tally.VerifyChain(log)
	if err != nil {
		t.Fatal(err)
	}
	if head != log[len(log)-1].Hash {
		t.Fatalf("head=%s, want the last hash", head)
	}
	if head, _ := tally.VerifyChain(nil); head != tally.GenesisHash {
		t.Fatalf("empty log head=%s", head)
	}

	// The export round-trips: every line parses back to an entry with the same hash.
	var back []tally.Entry
	for _, e := range log {
		line, _ := json.Marshal(e)
		var got tally.Entry
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		back = append(back, got)
	}
	if _, err := tally.VerifyChain(back); err != nil {
		t.Fatalf("round trip broke the chain: %v", err)
	}

	tamper := []struct {
		name, field string
		change      func([]tally.Entry) []tally.Entry
	}{
		{"ballot altered", "log[0].hash", func(l []tally.Entry) []tally.Entry {
			l[0].Ballot = &tally.Ballot{ID: "b1", Struck: []string{"b"}}
			return l
		}},
		{"entry removed", "log[1].seq", func(l []tally.Entry) []tally.Entry { return append(l[:1], l[2:]...) }},
		{"entries swapped", "log[1].seq", func(l []tally.Entry) []tally.Entry { l[1], l[2] = l[2], l[1]; return l }},
		{"rehashed after edit", "log[2].prev", func(l []tally.Entry) []tally.Entry {
			l[1].Desk = "d2"
			l[1].Hash = l[1].ComputeHash()
			return l
		}},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.change(append([]tally.Entry(nil), sampleLog(t)...))
			_, err := tally.VerifyChain(l)
			if err == nil {
				t.Fatal("tampering not detected")
			}
			if p := tally.Problems(err); p[0].Field != tt.field {
				t.Errorf("field=%q, want %q (%v)", p[0].Field, tt.field, err)
			}
		})
	}
}

func TestReplayLeavesVoidedBallotsOut(t *testing.T) {
	c := logContest(t)
	count, err := tally.Replay(c, sampleLog(t))
	if err != nil {
		t.Fatal(err)
	}
	res := count.Result()
	if got, want := res.Ballots, (tally.BallotCounts{Total: 4, Valid: 2, Invalid: 2,
		InvalidByReason: map[string]int{"over_vote": 1, "write_in": 1}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("ballots=%+v, want %+v", got, want)
	}
	votes := map[string]int{}
	for _, cr := range res.Candidates {
		votes[cr.ID] = cr.Votes
	}
	if want := map[string]int{"a": 1, "b": 2, "c": 1, "d": 2}; !reflect.DeepEqual(votes, want) {
		t.Fatalf("votes=%v, want %v", votes, want)
	}

	bad := sampleLog(t)
	bad = appendEntry(bad, tally.Entry{Void: &tally.Void{Seq: 3, Ballot: "b3", Reason: "again"}, Desk: "d1"})
	if _, err := tally.Replay(c, bad); err == nil || !strings.Contains(err.Error(), "voided twice") {
		t.Fatalf("double void: err=%v", err)
	}
	bad = appendEntry(sampleLog(t), tally.Entry{Void: &tally.Void{Seq: 5, Ballot: "?", Reason: "x"}, Desk: "d1"})
	if _, err := tally.Replay(c, bad); err == nil || !strings.Contains(err.Error(), "not an earlier ballot") {
		t.Fatalf("void of a void: err=%v", err)
	}
}

// A void names the ballot it withdraws by seq and by id. A log whose void
// says "b1" but removes entry 3 (b3) from the count reads as one thing and
// counts another: Replay, and so `kiemphieu verify`, refuse it.
func TestReplayRefusesVoidNamingAnotherBallot(t *testing.T) {
	c := logContest(t)
	var log []tally.Entry
	for _, b := range []tally.Ballot{{ID: "b1", Struck: []string{"a"}}, {ID: "b2", Struck: []string{"b"}}, {ID: "b3", Struck: []string{"c"}}} {
		log = appendEntry(log, tally.Entry{Ballot: &b, Desk: "d1", Time: "2026-11-21T08:00:00Z"})
	}
	good := appendEntry(log, tally.Entry{Void: &tally.Void{Seq: 3, Ballot: "b3", Reason: "gõ nhầm"}, Desk: "d1", Time: "2026-11-21T08:01:00Z"})
	if _, err := tally.Replay(c, good); err != nil {
		t.Fatalf("a void naming its ballot twice alike: %v", err)
	}
	bad := appendEntry(log, tally.Entry{Void: &tally.Void{Seq: 3, Ballot: "b1", Reason: "gõ nhầm"}, Desk: "d1", Time: "2026-11-21T08:01:00Z"})
	if _, err := tally.VerifyChain(bad); err != nil {
		t.Fatalf("the chain itself is whole: %v", err)
	}
	_, err := tally.Replay(c, bad)
	var e *tally.Error
	if !errors.As(err, &e) || e.Field != "log[3].void.ballot" || !strings.Contains(e.Message, `voids entry 3, ballot "b3", but names ballot "b1"`) {
		t.Fatalf("err = %v, want log[3].void.ballot naming both ballots", err)
	}
}

// A store keeps counters by applying Effect on append (+1) and void (−1);
// rebuilt with CountFromCounters they must give the result of a replay.
func TestCountersMatchReplay(t *testing.T) {
	for _, style := range []string{"strike", "approve"} {
		t.Run(style, func(t *testing.T) {
			src := `{"id":"ctr","title":"T","kind":"other","seats":3,"ballot":"strike","electorate":{"congress":"body","convened":40},
				"candidates":[{"id":"a","name":"An"},{"id":"b","name":"Bình"},{"id":"c","name":"Cường"},{"id":"d","name":"Dung"},{"id":"e","name":"Em"}]}`
			if style == "approve" {
				src = strings.Replace(strings.Replace(src, `"strike"`, `"approve"`, 1), `"seats":3`, `"seats":5`, 1)
			}
			c, err := tally.ParseContest([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, 11))
			index := c.Index()
			counters := map[string]int64{}
			apply := func(keys []string, d int64) {
				for _, k := range keys {
					counters[k] += d
					if counters[k] == 0 {
						delete(counters, k)
					}
				}
			}
			var log []tally.Entry
			effects := map[int64][]string{}
			for i := 0; i < 300; i++ {
				if i > 10 && rng.IntN(8) == 0 { // void a random earlier, not yet voided ballot
					seq := int64(rng.IntN(len(log))) + 1
					if keys, ok := effects[seq]; ok {
						log = appendEntry(log, tally.Entry{Void: &tally.Void{Seq: seq, Ballot: log[seq-1].Ballot.ID, Reason: "sửa"}})
						apply(keys, -1)
						delete(effects, seq)
						continue
					}
				}
				b := tally.Ballot{ID: "b" + string(rune('A'+i%26)) + strings.Repeat("x", i/26)}
				switch {
				case rng.IntN(20) == 0:
					b.Invalid = tally.ReasonIdentifyingMark
				case style == "strike":
					b.Struck = []string{}
					for _, cand := range c.Candidates {
						if rng.IntN(2) == 0 {
							b.Struck = append(b.Struck, cand.ID)
						}
					}
				default:
					b.Marks = map[string]tally.Mark{}
					for _, cand := range c.Candidates {
						b.Marks[cand.ID] = tally.Mark(rng.IntN(4))
					}
				}
				m, err := c.Mark(b, index)
				if err != nil {
					t.Fatal(err)
				}
				_, keys := c.Effect(m)
				log = appendEntry(log, tally.Entry{Ballot: &b})
				effects[log[len(log)-1].Seq] = keys
				apply(keys, +1)
			}
			replayed, err := tally.Replay(c, log)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := counters, replayed.Counters(); !reflect.DeepEqual(got, want) {
				t.Fatalf("incremental counters differ from the replay:\n got %v\nwant %v", got, want)
			}
			rebuilt, err := tally.CountFromCounters(c, counters)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := rebuilt.Result(), replayed.Result(); !reflect.DeepEqual(got, want) {
				t.Fatalf("result from counters differs from the replay:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestCountFromCountersRefusesNonsense(t *testing.T) {
	c := logContest(t)
	for _, counters := range []map[string]int64{
		{"total": 2, "valid": 1},                     // does not add up
		{"total": 1, "valid": 1, "struck:zz": 1},     // no such candidate
		{"total": 1, "valid": 1, "agree:a": 1},       // approve key on a strike contest
		{"total": 1, "invalid:over_vote": 1, "x": 1}, // unknown key
		{"total": -1, "invalid:over_vote": -1},       // negative
		{"total": 1, "invalid:nonsense": 1},          // unknown reason
	} {
		if _, err := tally.CountFromCounters(c, counters); err == nil {
			t.Errorf("%v: accepted", counters)
		}
	}
}

func TestLifecycle(t *testing.T) {
	states := []tally.State{tally.StateDraft, tally.StateOpen, tally.StateClosed, tally.StateCertified}
	for i, from := range states {
		for j, to := range states {
			err := tally.CheckTransition(from, to)
			if ok := j == i+1; ok != (err == nil) {
				t.Errorf("%s → %s: err=%v", from, to, err)
			}
			if err != nil && tally.ErrorKind(err) != tally.Conflict {
				t.Errorf("%s → %s: kind %s, want conflict", from, to, tally.ErrorKind(err))
			}
		}
	}
	if err := tally.CheckIssued(195, 196); tally.ErrorKind(err) != tally.Conflict || !strings.Contains(err.Error(), "196 ballots were collected but only 195 issued") {
		t.Errorf("collected > issued: %v", err)
	}
	if err := tally.CheckIssued(195, 195); err != nil {
		t.Error(err)
	}
	if err := tally.CheckIssued(-1, 0); tally.ErrorKind(err) != tally.Invalid {
		t.Errorf("negative issued: %v", err)
	}
}
