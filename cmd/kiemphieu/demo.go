package main

import (
	"bytes"
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// demo runs the service with a sample congress loaded through its own API:
// a district delegate congress (đại hội đại biểu) electing a 41-seat
// committee from 50 names (counted and certified), the new committee's
// first meeting electing the secretary (closed), and the delegates to the
// provincial congress, still being keyed by a demo desk so that the live
// stream moves.
func demo(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags("demo", args)
	if err != nil {
		return err
	}
	if _, set := os.LookupEnv("KIEMPHIEU_DATA"); !set && !hasFlag(args, "data") && cfg.RedisURL == "" {
		dir, err := os.MkdirTemp("", "kiemphieu-demo-")
		if err != nil {
			return err
		}
		cfg.Data = dir
	}
	if cfg.AdminToken == "" {
		var b [16]byte
		crand.Read(b[:])
		cfg.AdminToken = "demo-" + hex.EncodeToString(b[:])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The demo's own requests (loading the congress, the live desk) are
	// not logged when they succeed: a line every few seconds would push
	// the banner with the sign-ins off the terminal. People's requests and
	// every refusal are logged as by serve.
	log := slog.New(quietDemo{newLogger(cfg.LogFormat, stderr).Handler()})
	return runServer(ctx, cfg, log, func(base string) {
		// The live desk keys a ballot every 5 s or so (2.5–7.5 s): the
		// delegates' screen moves for about seven minutes, long enough to
		// be seen moving.
		if err := loadDemo(ctx, base, cfg.AdminToken, log, 5*time.Second); err != nil {
			log.Error("demo: loading the sample congress failed", slog.Any("err", err))
			stop()
			return
		}
		fmt.Fprintf(stdout, `
kiemphieu demo — a sample district delegate congress is loaded.
  open:          %[3]s/            sign in as thuky / %[4]s (congress secretary, admin)
                                   or ban1, ban2 / %[4]s (two counting desks)
  committee:     %[3]s/contests/demo-bch/minutes   (certified: minutes, PDF, verification)
  secretary:     %[3]s/contests/demo-bithu/setup    (closed: certify it, print the minutes)
  delegates:     %[3]s/contests/demo-daibieu/screen (live: a demo desk keys a ballot every few seconds for ~7 minutes)
                 %[3]s/contests/demo-daibieu/desk   (key ballots yourself as ban1 or ban2)
  verify:        %[3]s/verify
  data:          %[1]s
  admin token:   %[2]s   (API: curl -H 'Authorization: Bearer …' %[3]s/api/v1/contests)
Ctrl-C stops the service.
`, cfg.Data, cfg.AdminToken, base, demoPassword)
	})
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "-"+name || a == "--"+name || bytes.HasPrefix([]byte(a), []byte("-"+name+"=")) || bytes.HasPrefix([]byte(a), []byte("--"+name+"=")) {
			return true
		}
	}
	return false
}

// demoPassword is the demo users' password, printed at start: the demo is
// for trying the service on one's own machine, never for a congress.
const demoPassword = "kiemphieu-demo"

// demoClient drives the API as a counting room would.
type demoClient struct {
	base, token string
	http        *http.Client
}

func (d *demoClient) do(ctx context.Context, method, path string, body any, out any) (int, error) {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(data, out)
	}
	return resp.StatusCode, nil
}

// loadDemo sets up the sample congress. pace is the delay between the live
// desk's ballots (0 in tests keys them all at once).
func loadDemo(ctx context.Context, base, token string, log *slog.Logger, pace time.Duration) error {
	d := &demoClient{base: base, token: token, http: &http.Client{Timeout: 30 * time.Second}}
	var existing struct {
		Contests []struct{ ID string } `json:"contests"`
	}
	if _, err := d.do(ctx, "GET", "/api/v1/contests", nil, &existing); err != nil {
		return err
	}
	if slices.ContainsFunc(existing.Contests, func(c struct{ ID string }) bool { return c.ID == "demo-bch" }) {
		log.Info("demo: the sample congress is already loaded")
		return nil
	}
	rng := rand.New(rand.NewPCG(2025, 10))
	people := demoPeople(rng, 50)
	congress := map[string]any{"congress": "delegates", "convened": 300,
		"exclusions": map[string]int{"committee_absent": 2, "delegates_absent_unreplaced": 3}} // D = 295
	composition := map[string]any{"reference_date": "2025-06-30"}
	bch := map[string]any{"id": "demo-bch", "title": "Bầu Ban Chấp hành Đảng bộ quận Ba Đình, nhiệm kỳ 2025–2030",
		"kind": "committee", "seats": 41, "ballot": "strike", "electorate": congress, "composition": composition,
		"candidates": people}
	// The new committee's first meeting elects the secretary among its members.
	bithu := map[string]any{"id": "demo-bithu", "title": "Bầu Bí thư Quận ủy Ba Đình, nhiệm kỳ 2025–2030",
		"kind": "secretary", "seats": 1, "ballot": "approve",
		"electorate": map[string]any{"congress": "body", "convened": 41},
		"candidates": []any{people[0]}}
	daibieu := map[string]any{"id": "demo-daibieu", "title": "Bầu đại biểu dự Đại hội Đảng bộ thành phố lần thứ XVIII",
		"kind": "delegates", "seats": 20, "ballot": "strike", "electorate": congress, "composition": composition,
		"visibility": "live", "candidates": people[5:29]}
	// The congress records: what the minutes' header and signature blocks
	// print, and the show-of-hands votes taken before the ballots.
	committee := []map[string]string{{"name": "Trần Thị Thanh Hương", "role": "head"},
		{"name": "Nguyễn Đức Mạnh", "role": "member"}, {"name": "Lê Thị Ngọc Ánh", "role": "member"},
		{"name": "Phạm Quang Vinh", "role": "member"}, {"name": "Đỗ Xuân Trường", "role": "member"}}
	hands := func(subject, contest string, present, approve int) map[string]any {
		return map[string]any{"subject": subject, "contest": contest, "present": present, "approve": approve,
			"disapprove": present - approve, "other": 0}
	}
	for _, cg := range []map[string]any{
		{"id": "demo-daihoi", "organization": "Đảng bộ quận Ba Đình", "superior": "Đảng bộ thành phố Hà Nội",
			"name": "Đại hội đại biểu Đảng bộ quận Ba Đình", "ordinal": 23, "term": "2025–2030",
			"place": "Hội trường Quận ủy Ba Đình", "date": "2025-06-20", "counting_committee": committee,
			"electorate": congress, "votes": []any{hands("counting_committee", "", 295, 295)}},
		{"id": "demo-hoinghi", "organization": "Đảng bộ quận Ba Đình", "superior": "Đảng bộ thành phố Hà Nội",
			"name": "Hội nghị lần thứ nhất Ban Chấp hành Đảng bộ quận Ba Đình", "term": "2025–2030",
			"place": "Hội trường Quận ủy Ba Đình", "date": "2025-06-21", "counting_committee": committee[:3],
			"electorate": map[string]any{"congress": "body", "convened": 41},
			"votes":      []any{hands("counting_committee", "", 41, 41)}},
	} {
		if _, err := d.do(ctx, "POST", "/api/v1/congresses", cg, nil); err != nil {
			return err
		}
	}
	for _, c := range []map[string]any{bch, bithu, daibieu} {
		id, congress := c["id"].(string), "demo-daihoi"
		if id == "demo-bithu" {
			congress = "demo-hoinghi"
		}
		if _, err := d.do(ctx, "POST", "/api/v1/contests?congress="+congress, c, nil); err != nil {
			return err
		}
		if _, err := d.do(ctx, "POST", "/api/v1/contests/"+id+"/open", nil, nil); err != nil {
			return err
		}
	}
	// The votes on each list, once its contest exists (a vote names a
	// round of its own congress).
	for _, v := range []struct {
		congress string
		vote     map[string]any
	}{{"demo-daihoi", hands("seats", "demo-bch", 295, 295)}, {"demo-daihoi", hands("list", "demo-bch", 295, 291)},
		{"demo-daihoi", hands("seats", "demo-daibieu", 295, 295)}, {"demo-daihoi", hands("list", "demo-daibieu", 295, 295)},
		{"demo-hoinghi", hands("list", "demo-bithu", 41, 41)}} {
		if _, err := d.do(ctx, "POST", "/api/v1/congresses/"+v.congress+"/votes", v.vote, nil); err != nil {
			return err
		}
	}
	for id, n := range map[string]map[string]any{
		"demo-bch":     {"present": 295, "collected": 290, "complaints": "Không có khiếu nại."},
		"demo-bithu":   {"present": 41, "collected": 41},
		"demo-daibieu": {"present": 295, "collected": 288},
	} {
		if _, err := d.do(ctx, "PUT", "/api/v1/contests/"+id+"/notes", n, nil); err != nil {
			return err
		}
	}
	// People who sign in with a browser: the congress secretary (admin)
	// and a desk.
	if _, err := d.do(ctx, "POST", "/api/v1/users", map[string]string{"username": "thuky", "password": demoPassword, "role": "admin"}, nil); err != nil {
		return err
	}
	for _, desk := range []string{"ban1", "ban2"} {
		if _, err := d.do(ctx, "POST", "/api/v1/users", map[string]string{"username": desk, "password": demoPassword, "role": "counter"}, nil); err != nil {
			return err
		}
	}
	// Committee: 290 ballots from 4 desks, then closed and certified.
	if err := keyBallots(ctx, d, "demo-bch", demoStrikeBallots(rng, "bch", ids(people), 41, 290), 4, 0); err != nil {
		return err
	}
	for _, step := range []struct {
		path string
		body any
	}{
		{"/api/v1/contests/demo-bch/close", map[string]int{"issued": 290}},
		{"/api/v1/contests/demo-bch/certify", nil},
	} {
		if _, err := d.do(ctx, "POST", step.path, step.body, nil); err != nil {
			return err
		}
	}
	// Secretary: 41 members, 38 đồng ý, 2 không đồng ý, 1 both boxes.
	var sec []tally.Ballot
	for i := range 41 {
		mark := tally.MarkAgree
		switch {
		case i >= 40:
			mark = tally.MarkBoth
		case i >= 38:
			mark = tally.MarkDisagree
		}
		sec = append(sec, tally.Ballot{ID: fmt.Sprintf("bithu-%03d", i+1), Marks: map[string]tally.Mark{people[0]["id"].(string): mark}})
	}
	if err := keyBallots(ctx, d, "demo-bithu", sec, 2, 0); err != nil {
		return err
	}
	if _, err := d.do(ctx, "POST", "/api/v1/contests/demo-bithu/close", map[string]int{"issued": 41}, nil); err != nil {
		return err
	}
	// Delegates: most keyed now, the rest by a slow desk in the background.
	deleg := demoStrikeBallots(rng, "daibieu", ids(people[5:29]), 20, 288)
	if err := keyBallots(ctx, d, "demo-daibieu", deleg[:200], 4, 0); err != nil {
		return err
	}
	go func() {
		if err := keyBallots(ctx, d, "demo-daibieu", deleg[200:], 1, pace); err != nil && ctx.Err() == nil {
			log.Error("demo: the live desk stopped", slog.Any("err", err))
		}
	}()
	return nil
}

func ids(people []map[string]any) []string {
	out := make([]string, len(people))
	for i, p := range people {
		out[i] = p["id"].(string)
	}
	return out
}

// keyBallots posts ballots from several desks at once, each ballot retried
// until it is acknowledged (a retry is counted once).
func keyBallots(ctx context.Context, d *demoClient, contest string, ballots []tally.Ballot, desks int, pace time.Duration) error {
	var wg sync.WaitGroup
	errs := make(chan error, desks)
	next := make(chan tally.Ballot)
	for range desks {
		wg.Go(func() {
			for b := range next {
				var err error
				for try := 0; try < 5; try++ {
					if _, err = d.do(ctx, "POST", "/api/v1/contests/"+contest+"/ballots", b, nil); err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, b := range ballots {
		select {
		case next <- b:
		case err := <-errs:
			close(next)
			wg.Wait()
			return err
		case <-ctx.Done():
			close(next)
			wg.Wait()
			return ctx.Err()
		}
		if pace > 0 {
			// pace on average, unevenly, as a person keys.
			time.Sleep(pace/2 + rand.N(pace))
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// demoStrikeBallots makes n strike ballots over the candidates: each
// candidate has a standing, each voter strikes the names they rate lowest
// (at least len−seats of them, a few more on some ballots), and a handful
// of ballots are invalid.
func demoStrikeBallots(rng *rand.Rand, prefix string, cands []string, seats, n int) []tally.Ballot {
	standing := make([]float64, len(cands))
	for i := range standing {
		standing[i] = 0.3 + 0.7*rng.Float64()
	}
	var out []tally.Ballot
	for i := range n {
		id := fmt.Sprintf("%s-%04d", prefix, i+1)
		switch {
		case i%97 == 13:
			out = append(out, tally.Ballot{ID: id, Struck: []string{}}) // untouched: over-vote
			continue
		case i%131 == 7:
			out = append(out, tally.Ballot{ID: id, Invalid: tally.ReasonWriteIn, Note: "ghi thêm tên ngoài danh sách"})
			continue
		}
		type scored struct {
			id    string
			score float64
		}
		s := make([]scored, len(cands))
		for j, c := range cands {
			s[j] = scored{c, standing[j] + 0.5*rng.Float64()}
		}
		slices.SortFunc(s, func(a, b scored) int { return cmp.Compare(a.score, b.score) })
		strike := len(cands) - seats
		if rng.IntN(5) == 0 {
			strike += rng.IntN(4)
		}
		b := tally.Ballot{ID: id, Struck: []string{}}
		for _, x := range s[:strike] {
			b.Struck = append(b.Struck, x.id)
		}
		out = append(out, b)
	}
	return out
}

// demoPeople makes n candidates with plausible Vietnamese names and the
// attributes of the composition report.
func demoPeople(rng *rand.Rand, n int) []map[string]any {
	families := []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	men := []string{"Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân"}
	women := []string{"Thị", "Thu", "Ngọc", "Thanh"}
	givenM := []string{"An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong", "Quân", "Sơn", "Thắng", "Tuấn", "Việt"}
	givenF := []string{"Anh", "Châu", "Dung", "Giang", "Hà", "Hằng", "Hương", "Lan", "Linh", "Mai", "Nga", "Phương", "Thảo", "Trang", "Yến"}
	seen := map[string]bool{}
	var out []map[string]any
	for len(out) < n {
		female := rng.IntN(10) < 3
		name := families[rng.IntN(len(families))] + " "
		if female {
			name += women[rng.IntN(len(women))] + " " + givenF[rng.IntN(len(givenF))]
		} else {
			name += men[rng.IntN(len(men))] + " " + givenM[rng.IntN(len(givenM))]
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		gender := "male"
		if female {
			gender = "female"
		}
		birth := time.Date(1965+rng.IntN(28), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		out = append(out, map[string]any{
			"id": fmt.Sprintf("c%02d", len(out)+1), "name": name, "gender": gender,
			"birth_date": birth.Format(time.DateOnly), "ethnic_minority": rng.IntN(12) == 0, "incumbent": rng.IntN(2) == 0,
		})
	}
	return out
}

// quietDemo drops the demo's own successful requests from the log: those
// of the bootstrap token the demo loads and keys with (who), answered
// below 400 (status).
type quietDemo struct{ slog.Handler }

func (q quietDemo) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "request" {
		own, fine := false, false
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "who":
				own = a.Value.String() == "token:bootstrap"
			case "status":
				fine = a.Value.Kind() == slog.KindInt64 && a.Value.Int64() < 400
			}
			return true
		})
		if own && fine {
			return nil
		}
	}
	return q.Handler.Handle(ctx, r)
}

func (q quietDemo) WithAttrs(as []slog.Attr) slog.Handler { return quietDemo{q.Handler.WithAttrs(as)} }
func (q quietDemo) WithGroup(name string) slog.Handler    { return quietDemo{q.Handler.WithGroup(name)} }
