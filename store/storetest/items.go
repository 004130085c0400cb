package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/kiemphieu/kiemphieu/tally"
)

// ItemStore is the rest of what the service keeps: small records by kind
// and key (tokens, users, sessions) and the audit log.
type ItemStore interface {
	PutItem(ctx context.Context, kind, key string, value []byte) error
	Item(ctx context.Context, kind, key string) ([]byte, error)
	DeleteItem(ctx context.Context, kind, key string) error
	ListItems(ctx context.Context, kind string) (map[string][]byte, error)
	AppendAudit(ctx context.Context, line []byte) error
	Audit(ctx context.Context, after int64, limit int) ([][]byte, error)
	Ping(ctx context.Context) error
}

// RunItems runs the contract of ItemStore. reopen restarts the store on
// the same data.
func RunItems(t *testing.T, open func(t *testing.T) ItemStore, reopen func(t *testing.T, s ItemStore) ItemStore) {
	t.Run("Items", func(t *testing.T) {
		s := open(t)
		if err := s.Ping(ctx(t)); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		_, err := s.Item(ctx(t), "token", "k1")
		wantKind(t, err, tally.NotFound)
		if err := s.PutItem(ctx(t), "token", "k1", []byte(`{"a":1}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutItem(ctx(t), "user", "k1", []byte(`{"b":2}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutItem(ctx(t), "token", "k1", []byte(`{"a":2}`)); err != nil {
			t.Fatal(err)
		}
		s = reopen(t, s)
		if got, err := s.Item(ctx(t), "token", "k1"); err != nil || string(got) != `{"a":2}` {
			t.Fatalf("Item token/k1 = %s, %v; want the overwritten value", got, err)
		}
		if got, err := s.Item(ctx(t), "user", "k1"); err != nil || string(got) != `{"b":2}` {
			t.Fatalf("kinds are separate: Item user/k1 = %s, %v", got, err)
		}
		if err := s.PutItem(ctx(t), "token", "k2", []byte(`{"c":3}`)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ListItems(ctx(t), "token"); err != nil || len(got) != 2 || string(got["k1"]) != `{"a":2}` || string(got["k2"]) != `{"c":3}` {
			t.Fatalf("ListItems(token) = %q, %v; want k1 and k2", got, err)
		}
		if got, err := s.ListItems(ctx(t), "none"); err != nil || len(got) != 0 {
			t.Fatalf("ListItems of an empty kind = %q, %v", got, err)
		}
		if err := s.DeleteItem(ctx(t), "token", "k1"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ListItems(ctx(t), "token"); err != nil || len(got) != 1 {
			t.Fatalf("ListItems after a delete = %q, %v; want k2 only", got, err)
		}
		_, err = s.Item(ctx(t), "token", "k1")
		wantKind(t, err, tally.NotFound)
		if err := s.DeleteItem(ctx(t), "token", "k1"); err != nil && tally.ErrorKind(err) != tally.NotFound {
			t.Fatalf("deleting a missing item: %v", err)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		s := open(t)
		var want [][]byte
		for i := range 25 {
			line := []byte(fmt.Sprintf(`{"n":%d}`, i))
			want = append(want, line)
			if err := s.AppendAudit(ctx(t), line); err != nil {
				t.Fatal(err)
			}
		}
		s = reopen(t, s)
		all, err := s.Audit(ctx(t), 0, 100)
		if err != nil || !reflect.DeepEqual(all, want) {
			t.Fatalf("Audit = %q, %v", all, err)
		}
		page, err := s.Audit(ctx(t), 10, 5)
		if err != nil || !reflect.DeepEqual(page, want[10:15]) {
			t.Fatalf("Audit(after 10, limit 5) = %q, %v", page, err)
		}
	})
}
