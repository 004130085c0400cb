package api_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/internal/proof"
	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
)

// instance is one api server on a shared Redis, serving (so that it hears
// the store's notices) or not.
func redisInstance(t *testing.T, url string, clock *fakeClock, serve bool) *api.Server {
	t.Helper()
	st, err := redis.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := api.New(st, api.Config{AdminToken: adminToken, Now: clock.Now})
	if serve {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			<-done
		})
	}
	return srv
}

// until polls check until it is true, for at most limit, and says how long
// it took.
func until(t *testing.T, limit time.Duration, check func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !check() {
		if time.Since(start) > limit {
			t.Fatalf("not within %v", limit)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// Two instances on one Redis: a token revoked on A is refused by B while
// B's copy of it is still fresh (the clock stands still, so only the
// notice can tell B), and the sessions begun with it on B end at once. A
// third instance that hears no notice keeps its copy no longer than the
// cache's 10 s. A user disabled, or whose password an admin resets, on A
// is signed out on B at once, and B refuses the old password.
func TestRevocationAcrossInstances(t *testing.T) {
	rs := redistest.Start(t)
	clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
	a := client{t: t, srv: redisInstance(t, rs.URL(), clock, true)}
	b := client{t: t, srv: redisInstance(t, rs.URL(), clock, true)}
	deaf := client{t: t, srv: redisInstance(t, rs.URL(), clock, false)}

	admin := bearer(adminToken)
	mustStatus(t, a.do("POST", "/api/v1/contests", contestDef("bch"), admin), http.StatusCreated)
	mustStatus(t, a.do("POST", "/api/v1/contests/bch/open", nil, admin), http.StatusOK)
	r := a.do("POST", "/api/v1/tokens", map[string]string{"role": "counter", "name": "Bàn 1", "contest": "bch"}, admin)
	mustStatus(t, r, http.StatusCreated)
	var tok struct{ Token, ID string }
	decode(t, r, &tok)
	desk := bearer(tok.Token)

	// B and the deaf instance hold the token now; B has a desk session.
	mustStatus(t, b.do("POST", "/api/v1/contests/bch/ballots", map[string]any{"id": "b-1", "struck": []string{"c1"}}, desk), http.StatusCreated)
	mustStatus(t, deaf.do("GET", "/api/v1/contests/bch", nil, desk), http.StatusOK)
	form, _ := b.formLogin(url.Values{"token": {tok.Token}})
	mustStatus(t, form, http.StatusSeeOther)
	deskSession := withHeader("Cookie", "kp_session="+sessionCookie(t, form).Value)
	mustStatus(t, b.do("GET", "/api/v1/contests/bch", nil, deskSession), http.StatusOK)

	mustStatus(t, a.do("DELETE", "/api/v1/tokens/"+tok.ID, nil, admin), http.StatusOK)
	mustError(t, b.do("GET", "/api/v1/contests/bch", nil, deskSession), http.StatusUnauthorized, "")
	took := until(t, 2*time.Second, func() bool {
		return b.do("POST", "/api/v1/contests/bch/ballots", map[string]any{"id": "b-2", "struck": []string{"c1"}}, desk).status == http.StatusUnauthorized
	})
	// The deaf instance: its copy, then the store after the cache's 10 s.
	mustStatus(t, deaf.do("GET", "/api/v1/contests/bch", nil, desk), http.StatusOK)
	clock.Advance(10*time.Second + time.Millisecond)
	mustError(t, deaf.do("GET", "/api/v1/contests/bch", nil, desk), http.StatusUnauthorized, "")

	// Users.
	const password = "mật khẩu đủ dài 2025"
	for _, u := range []string{"bkp1", "bkp2"} {
		mustStatus(t, a.do("POST", "/api/v1/users", map[string]string{"username": u, "password": password, "role": "counter"}, admin), http.StatusCreated)
	}
	s1, s2 := b.apiLogin("bkp1", password), b.apiLogin("bkp2", password)
	mustStatus(t, b.do("GET", "/api/v1/contests/bch", nil, withSession(s1)), http.StatusOK)
	mustStatus(t, b.do("GET", "/api/v1/contests/bch", nil, withSession(s2)), http.StatusOK)

	mustStatus(t, a.do("PATCH", "/api/v1/users/bkp1", map[string]bool{"disabled": true}, admin), http.StatusOK)
	mustError(t, b.do("GET", "/api/v1/contests/bch", nil, withSession(s1)), http.StatusUnauthorized, "")
	mustError(t, b.do("POST", "/api/v1/login", map[string]string{"username": "bkp1", "password": password}), http.StatusUnauthorized, "")

	const newPassword = "mật khẩu mới tinh 2026"
	mustStatus(t, a.do("POST", "/api/v1/users/bkp2/password", map[string]string{"password": newPassword}, admin), http.StatusOK)
	mustError(t, b.do("GET", "/api/v1/contests/bch", nil, withSession(s2)), http.StatusUnauthorized, "")
	mustError(t, b.do("POST", "/api/v1/login", map[string]string{"username": "bkp2", "password": password}), http.StatusUnauthorized, "")
	b.apiLogin("bkp2", newPassword)

	proof.Report(t, "token_refused_on_the_other_instance_after", took.Round(time.Microsecond), "(notice; cache TTL 10 s not reached)")
}
