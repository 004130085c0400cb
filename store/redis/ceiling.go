package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// RawBallot is one ballot entry for RawAppend, already serialised: its log
// line (tally.Entry JSON), its seen value, its counter keys and its hash.
type RawBallot struct {
	ID     string
	Entry  []byte
	Stored []byte
	Keys   []string
	Hash   string
}

// RawAppend runs the store's append script once on rdb, for ballots linked
// after (seq, head) of contest (an open contest created through a Store),
// exactly as a committer's call does but without the committer: no
// planning, no linking, no retry. It returns the log's new seq, or an error
// on any reply but OK.
//
// It exists for the ceiling of the Redis-backed intake in `loadtest bench`
// (internal/cmd/loadtest, docs/benchmarks.md); the service does not use it.
func RawAppend(ctx context.Context, rdb goredis.UniversalClient, contest string, seq int64, head string, items []RawBallot) (int64, error) {
	if len(items) == 0 {
		return seq, nil
	}
	args := make([]any, 0, 9+len(items)*24)
	args = append(args, strconv.FormatInt(seq, 10), head, items[len(items)-1].Hash, changesChannel, contest, "raw", "0", turnTTL, len(items))
	for _, it := range items {
		args = append(args, "b", it.ID, it.Entry, it.Stored, len(it.Keys))
		for _, k := range it.Keys {
			args = append(args, k)
		}
	}
	keys := keysFor(contest).all()
	res, err := appendScript.EvalSha(ctx, rdb, keys, args...).StringSlice()
	if err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
		if err := appendScript.Load(ctx, rdb).Err(); err != nil {
			return 0, err
		}
		res, err = appendScript.EvalSha(ctx, rdb, keys, args...).StringSlice()
	}
	if err != nil {
		return 0, err
	}
	if len(res) != 2 || res[0] != "OK" {
		return 0, fmt.Errorf("redis store: contest %q: raw append: reply %q", contest, res)
	}
	return strconv.ParseInt(res[1], 10, 64)
}
