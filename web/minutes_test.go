package web

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The -update flag rewrites the golden files. Another test file of the
// package may declare the same flag: it is registered here only if absent
// (package variables are initialized before init functions run).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// Times of the rounds in the tests (UTC, as the store records them):
// 09:30, 14:05 and 14:40 in Vietnam.
const (
	minutesCreated   = "2025-05-20T01:00:00Z"
	minutesOpened    = "2025-05-20T02:30:00Z"
	minutesClosed    = "2025-05-20T07:05:00Z"
	minutesCertified = "2025-05-20T07:40:00Z"
)

// countedRound is a contest round counted by the real engine: the ballots of an
// example folder (or made by a test) chained into a log exactly as the
// store chains them, verified and replayed.
type countedRound struct {
	contest *tally.Contest
	entries []tally.Entry
	result  *tally.Result
	head    string
}

func minutesExample(t testing.TB, dir string) (*tally.Contest, []tally.Ballot) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", dir, "contest.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := tally.ParseContest(data)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	f, err := os.Open(filepath.Join("..", "examples", dir, "ballots.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ballots []tally.Ballot
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		b, err := tally.ParseBallot(sc.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		ballots = append(ballots, b)
	}
	return c, ballots
}

// count chains the ballots into a log, verifies it and replays it into the
// result, as the service does at close.
func countBallots(t testing.TB, c *tally.Contest, ballots []tally.Ballot) countedRound {
	t.Helper()
	r := countedRound{contest: c}
	seq, prev := int64(0), tally.GenesisHash
	for i := range ballots {
		e := tally.Entry{Ballot: &ballots[i], Desk: fmt.Sprintf("ban-%d", i%3+1), Time: minutesOpened}
		e.Link(seq, prev)
		seq, prev = e.Seq, e.Hash
		r.entries = append(r.entries, e)
	}
	head, err := tally.VerifyChain(r.entries)
	if err != nil {
		t.Fatal(err)
	}
	cnt, err := tally.Replay(c, r.entries)
	if err != nil {
		t.Fatal(err)
	}
	r.result, r.head = cnt.Result(), head
	v := int64(len(r.entries))
	r.result.Version = &v
	return r
}

// record is the round's record in a state, with what closing and
// certifying record.
func (r countedRound) record(state tally.State, issued int) *tally.Record {
	rec := &tally.Record{Contest: r.contest, State: state, Created: minutesCreated}
	if state != tally.StateDraft {
		rec.Opened = minutesOpened
	}
	if state == tally.StateClosed || state == tally.StateCertified {
		rec.Issued, rec.Head, rec.Version, rec.Closed = &issued, r.head, int64(len(r.entries)), minutesClosed
	}
	if state == tally.StateCertified {
		rec.Certified = minutesCertified
	}
	return rec
}

func minutesCongress(t testing.TB, js string) *tally.CongressRecord {
	t.Helper()
	cg, err := tally.ParseCongress([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return cg
}

func minutesInt(n int) *int { return &n }

// minutesKey is the signing key of the golden cases' instance: a fixed
// seed, so the signature and the fingerprint printed never change.
var minutesKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// minutesSigned signs a certified record as the instance does at
// certification.
func minutesSigned(rec *tally.Record) *tally.Record {
	tally.Sign(rec, minutesKey)
	return rec
}

const minutesVerifyBase = "https://kiemphieu.example.vn/verify/"

// minutesCase is one golden case.
type minutesCase struct {
	name string
	in   MinutesInput
	r    countedRound
}

func minutesCases(t testing.TB) []minutesCase {
	t.Helper()
	var cases []minutesCase

	// A certified committee round (strike ballots) with invalid ballots of
	// two reasons and the composition of those elected.
	c, b := minutesExample(t, "ex01-branch-committee")
	r := countBallots(t, c, b)
	cases = append(cases, minutesCase{"committee-certified", MinutesInput{
		Congress: minutesCongress(t, `{"id":"dh-cb-kp3","organization":"Chi bộ Khu phố 3","superior":"Đảng bộ Phường 4",
			"name":"Đại hội Chi bộ Khu phố 3","ordinal":9,"term":"2025–2030","place":"Phường 4","date":"2025-05-20",
			"counting_committee":[{"name":"Võ Thị Thu","role":"member"},{"name":"Hồ Văn Sáu","role":"head"},{"name":"Đinh Thị Mỹ","role":"member"}],
			"electorate":{"congress":"members","convened":21},
			"votes":[{"subject":"counting_committee","present":21,"approve":21,"disapprove":0,"other":0},
			         {"subject":"presidium","present":17,"approve":10,"disapprove":5,"other":2},
			         {"subject":"other","title":"Biểu quyết sau khi xác nhận","present":21,"approve":21,"recorded":"2099-01-01T00:00:00Z"},
			         {"subject":"seats","contest":"chiuy-cb-kp3-2025","present":21,"approve":21,"disapprove":0,"other":0},
			         {"subject":"list","contest":"chiuy-cb-kp3-2025","present":21,"approve":19,"disapprove":1,"other":1},
			         {"subject":"seats","contest":"bithu-cb-kp3-2025","present":21,"approve":21,"disapprove":0,"other":0}]}`),
		Record:    minutesSigned(r.record(tally.StateCertified, 21)),
		Result:    r.result,
		Notes:     tally.RoundNotes{Present: minutesInt(21), Collected: minutesInt(20)},
		VerifyURL: minutesVerifyBase + r.head,
	}, r})

	// An approve round for the secretary: closed, not yet certified, so a
	// draft; the committee's paper count differs from the ballots keyed.
	c, b = minutesExample(t, "ex05-branch-secretary")
	r = countBallots(t, c, b)
	cases = append(cases, minutesCase{"secretary-closed-draft", MinutesInput{
		Congress: minutesCongress(t, `{"id":"dh-cb-kp3","organization":"Chi bộ Khu phố 3","superior":"Đảng bộ Phường 4",
			"name":"Đại hội Chi bộ Khu phố 3","ordinal":9,"term":"2025–2030","place":"Phường 4","date":"2025-05-20",
			"counting_committee":[{"name":"Hồ Văn Sáu","role":"head"},{"name":"Võ Thị Thu","role":"deputy_head"}],
			"votes":[{"subject":"seats","contest":"bithu-cb-kp3-2025","present":21,"approve":21,"disapprove":0,"other":0}]}`),
		Record: r.record(tally.StateClosed, 21),
		Result: r.result,
		Notes: tally.RoundNotes{Present: minutesInt(21), Collected: minutesInt(len(b) + 1),
			Complaints: "Đồng chí Lý Văn Tư đề nghị kiểm lại phiếu số 7.\nBan Kiểm phiếu đã kiểm lại trước đại hội; kết quả không thay đổi."},
		VerifyURL: minutesVerifyBase + r.head,
	}, r})

	// A delegates round with a tie at the last seat, held on its own (no
	// congress record).
	c, b = minutesExample(t, "ex03-tie-at-cutoff")
	r = countBallots(t, c, b)
	cases = append(cases, minutesCase{"delegates-tie", MinutesInput{
		Record:    r.record(tally.StateCertified, len(b)),
		Result:    r.result,
		VerifyURL: minutesVerifyBase + r.head,
	}, r})

	// A delegates' congress electing delegates to the higher congress: one
	// seat left vacant; the number to elect was voted on under round 1's id.
	c, b = minutesExample(t, "ex09-delegates-r1")
	r = countBallots(t, c, b)
	cases = append(cases, minutesCase{"delegates-vacant", MinutesInput{
		Congress: minutesCongress(t, `{"id":"dh-quynhluu","organization":"Đảng bộ huyện Quỳnh Lưu","superior":"Đảng bộ tỉnh Nghệ An",
			"name":"Đại hội đại biểu Đảng bộ huyện Quỳnh Lưu","ordinal":30,"term":"2025–2030","place":"Quỳnh Lưu","date":"2025-06-12",
			"counting_committee":[{"name":"Cao Thị Lài","role":"head"},{"name":"Mạc Văn Quyết","role":"member"},{"name":"Tạ Thị Oanh","role":"member"},{"name":"Ninh Văn Phước","role":"member"}],
			"votes":[{"subject":"seats","contest":"dbdh-quynhluu-2025","present":150,"approve":148,"disapprove":2,"other":0},
			         {"subject":"other","title":"Đại hội biểu quyết bầu đại biểu dự khuyết sau khi bầu đủ đại biểu chính thức","present":150,"approve":74,"disapprove":70,"other":6}]}`),
		Record:    r.record(tally.StateCertified, 152),
		Result:    r.result,
		Notes:     tally.RoundNotes{Present: minutesInt(152)},
		VerifyURL: minutesVerifyBase + r.head,
	}, r})

	// A certified round keyed in triple entry: two stacks, three desks,
	// two positions disputed and decided by the committee, one slip a desk
	// corrected before agreement; the entry journal is the annex.
	c, b = minutesExample(t, "ex01-branch-committee")
	c.Entry = tally.EntryTriple
	in, vb := verifiedJournal(t, c, b)
	r = countBallots(t, c, vb)
	in.Record, in.Result, in.VerifyURL = r.record(tally.StateCertified, len(vb)), r.result, minutesVerifyBase+r.head
	in.Notes = tally.RoundNotes{Present: minutesInt(21), Collected: minutesInt(len(vb))}
	cases = append(cases, minutesCase{"committee-verified", in, r})

	// A certified round with corrections on the record: two ballots
	// voided by the committee head (one keyed by a desk whose name another
	// desk shares), a re-keyed paper, and notes on ballots ruled invalid,
	// on a valid one and on a voided one; then the same round as anyone
	// reads it without signing in, the notes' text left out.
	in, r = correctedRound(t)
	cases = append(cases, minutesCase{"committee-corrections", in, r})
	in.Public = true
	cases = append(cases, minutesCase{"committee-corrections-public", in, r})

	// Round 2 of the branch secretary (audit B4): a candidate withdrew
	// before round 1 and the congress added a nominee from the floor to
	// round 2, each on a show of hands (approve of D = 21).
	c, b = minutesExample(t, "b4-secretary-r2-added-nominee")
	r = countBallots(t, c, b)
	rec := r.record(tally.StateCertified, len(b))
	rec.Previous = "bithu-cb-kp3-2025"
	rec.Changes = []tally.ListChange{{Action: tally.ChangeAdd, Candidate: "B", Name: "Trần Thị Hoa", Source: tally.NominatedFloor,
		Reason: "Đồng chí Bình không đạt quá một nửa ở lần 1", Vote: "v2", By: "Thư ký đại hội", Time: "2025-05-20T03:40:00Z"}}
	cases = append(cases, minutesCase{"secretary-r2-list-changes", MinutesInput{
		Congress: minutesCongress(t, `{"id":"dh-cb-kp3","organization":"Chi bộ Khu phố 3","superior":"Đảng bộ Phường 4",
			"name":"Đại hội Chi bộ Khu phố 3","ordinal":9,"term":"2025–2030","place":"Phường 4","date":"2025-05-20",
			"counting_committee":[{"name":"Hồ Văn Sáu","role":"head"}],
			"votes":[{"id":"v1","subject":"other","title":"Cho đồng chí Lê Văn Cường rút khỏi danh sách","contest":"bithu-cb-kp3-2025","present":21,"approve":18,"disapprove":3,"other":0},
			         {"id":"v2","subject":"other","title":"Bổ sung đồng chí Trần Thị Hoa vào danh sách bầu lần 2","present":21,"approve":15,"disapprove":6,"other":0}]}`),
		Record: rec, Result: r.result, Rounds: []string{"bithu-cb-kp3-2025"},
		EarlierChanges: []MinutesRoundChanges{{Round: 1, Changes: []tally.ListChange{{Action: tally.ChangeWithdraw, Candidate: "C",
			Name: "Lê Văn Cường", Reason: "Vì lý do sức khỏe", Vote: "v1", By: "Thư ký đại hội", Time: "2025-05-20T02:10:00Z"}}}},
		VerifyURL: minutesVerifyBase + r.head,
	}, r})

	// A round still open: half the ballots keyed, no head, no QR code.
	c, b = minutesExample(t, "ex02-more-passers-than-seats")
	r = countBallots(t, c, b[:len(b)/2])
	cases = append(cases, minutesCase{"committee-open", MinutesInput{
		Congress: minutesCongress(t, `{"id":"dh-th","organization":"Chi bộ Trường Tiểu học Hòa Bình","name":"Đại hội Chi bộ Trường Tiểu học Hòa Bình"}`),
		Record:   r.record(tally.StateOpen, 0),
		Result:   r.result,
		Notes:    tally.RoundNotes{Collected: minutesInt(len(b))},
	}, r})

	// Alternates, two of them tied inside the seats (audit B2): they share
	// a rank, and the congress decides their order. A member of the
	// counting committee is on the list (190 Điều 8.1): a warning.
	c, b = minutesExample(t, "ex15-alternates-rank-tie")
	r = countBallots(t, c, b)
	cases = append(cases, minutesCase{"alternates-rank-tie", MinutesInput{
		Congress: minutesCongress(t, `{"id":"dh-q3","organization":"Đảng bộ Quận 3","superior":"Đảng bộ Thành phố",
			"name":"Đại hội đại biểu Đảng bộ Quận 3","ordinal":12,"term":"2025–2030","place":"Quận 3","date":"2025-06-20",
			"counting_committee":[{"name":"Phạm Thị Mai","role":"head"},{"name":"Kha Văn Tín","role":"member"}]}`),
		Record:    minutesSigned(r.record(tally.StateCertified, len(b))),
		Result:    r.result,
		VerifyURL: minutesVerifyBase + r.head,
	}, r})

	// A committee meeting whose D was entered too small (audit B10): 15
	// ballots for D = 16 − 3 = 13; the minutes say what to check.
	c, b = minutesExample(t, "ex14-committee-meeting-detained")
	c.Electorate.Exclusions.SuspendedOrDetained = 3
	r = countBallots(t, c, b)
	cases = append(cases, minutesCase{"committee-meeting-over-d", MinutesInput{
		Record: r.record(tally.StateClosed, len(b)),
		Result: r.result,
	}, r})
	// An opinion ballot (Ex 10): the base is those present; 36 of 120 is
	// not more than 30%, 37 is.
	c, b = minutesExample(t, "ex10-opinion-30-percent")
	r = countBallots(t, c, b)
	cases = append(cases, minutesCase{"opinion-certified", MinutesInput{
		Record:    r.record(tally.StateCertified, len(b)),
		Result:    r.result,
		Notes:     tally.RoundNotes{Present: minutesInt(120)},
		VerifyURL: minutesVerifyBase + r.head,
	}, r})

	// An introduction ballot with a tie at the cut-off, and one without.
	for name, dir := range map[string]string{"introduction-tie": "ex12b-introduction-tie-at-cutoff", "introduction-secretary": "ex12a-introduction-secretary"} {
		c, b = minutesExample(t, dir)
		r = countBallots(t, c, b)
		cases = append(cases, minutesCase{name, MinutesInput{
			Record:    r.record(tally.StateClosed, len(b)),
			Result:    r.result,
			VerifyURL: minutesVerifyBase + r.head,
		}, r})
	}
	return cases
}

// correctedRound is ex07 (ballots ruled invalid with notes, a valid
// ballot with the committee's note) keyed by three desks, two of them
// named "Bàn 1", with an "other" ballot added, and two voids by the
// committee head: a mistyped ballot (re-keyed under a new id) and a paper
// of another election.
func correctedRound(t testing.TB) (MinutesInput, countedRound) {
	t.Helper()
	c, ballots := minutesExample(t, "ex07-ballot-classification")
	ballots = append(ballots, tally.Ballot{ID: "b-0010", Invalid: tally.ReasonOther, Note: "phiếu bầu Chi ủy để lẫn vào tệp"})
	desks := []struct{ id, name string }{{"token:0a0a0a0a0a0a", "Bàn 1"}, {"token:0b0b0b0b0b0b", "Bàn 1"}, {"token:0c0c0c0c0c0c", "Bàn 2"}}
	at := time.Date(2025, 5, 20, 2, 35, 0, 0, time.UTC)
	var log []tally.Entry
	add := func(e tally.Entry) {
		seq, prev := int64(0), tally.GenesisHash
		if n := len(log); n > 0 {
			seq, prev = log[n-1].Seq, log[n-1].Hash
		}
		e.Time, at = at.Format(time.RFC3339), at.Add(17*time.Second)
		e.Link(seq, prev)
		log = append(log, e)
	}
	for i := range ballots {
		d := desks[i%3]
		add(tally.Entry{Ballot: &ballots[i], Desk: d.name, DeskID: d.id})
	}
	head := "Hồ Văn Sáu"
	add(tally.Entry{Void: &tally.Void{Seq: 3, Ballot: "b-0003", Reason: "Bàn nhập thiếu một tên bị gạch; Ban Kiểm phiếu đối chiếu tờ phiếu"}, Desk: head, DeskID: "user:hvsau"})
	add(tally.Entry{Ballot: &tally.Ballot{ID: "b-0003-2", Struck: []string{"c1", "c5"}}, Desk: "Bàn 1", DeskID: desks[0].id})
	add(tally.Entry{Void: &tally.Void{Seq: 10, Ballot: "b-0010", Reason: "Phiếu của cuộc bầu khác, không thuộc hòm phiếu này"}, Desk: head, DeskID: "user:hvsau"})

	r := countedRound{contest: c, entries: log}
	var err error
	if r.head, err = tally.VerifyChain(log); err != nil {
		t.Fatal(err)
	}
	cnt, err := tally.Replay(c, log)
	if err != nil {
		t.Fatal(err)
	}
	r.result = cnt.Result()
	v := int64(len(log))
	r.result.Version = &v
	in := MinutesInput{
		Congress: minutesCongress(t, `{"id":"dh-cb-thon-dong","organization":"Chi bộ thôn Đông","superior":"Đảng bộ xã Đông Hòa",
			"name":"Đại hội Chi bộ thôn Đông","ordinal":5,"term":"2025–2030","place":"Đông Hòa","date":"2025-05-20",
			"counting_committee":[{"name":"Hồ Văn Sáu","role":"head"},{"name":"Võ Thị Thu","role":"member"}]}`),
		Record: r.record(tally.StateCertified, 10), Result: r.result, VerifyURL: minutesVerifyBase + r.head,
		Notes: tally.RoundNotes{Present: minutesInt(9), Collected: minutesInt(9)},
	}
	keyedBy := map[int64]string{}
	for _, e := range log {
		switch {
		case e.Void != nil:
			in.Voids = append(in.Voids, MinutesVoid{Entry: e, KeyedBy: keyedBy[e.Void.Seq]})
		case e.Ballot.Note != "":
			in.BallotNotes = append(in.BallotNotes, e)
		}
		keyedBy[e.Seq] = e.Desk
	}
	return in, r
}

func TestMinutesHTMLGolden(t *testing.T) {
	for _, tc := range minutesCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderMinutesHTML(&buf, BuildMinutes(tc.in)); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "minutes", tc.name+".html")
			if updateGolden() {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./web -run TestMinutesHTMLGolden -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("HTML differs from %s (check, then rerun with -update):\n%s", golden, minutesFirstDiff(buf.String(), string(want)))
			}
		})
	}
}

// minutesFirstDiff shows the first line where got and want differ.
func minutesFirstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return "(same lines)"
}

// What every set of minutes must say, checked on the model so that the
// goldens are not the only guard.
func TestBuildMinutesContent(t *testing.T) {
	for _, tc := range minutesCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			m := BuildMinutes(tc.in)
			res, rec := tc.r.result, tc.in.Record
			if got, want := m.Draft, rec.State != tally.StateCertified; got != want {
				t.Errorf("Draft = %v in state %s", got, rec.State)
			}
			if m.Draft != (m.Watermark == "DỰ THẢO") {
				t.Errorf("watermark %q for draft=%v", m.Watermark, m.Draft)
			}
			if got, want := m.Verify.Hash, rec.Head; got != want {
				t.Errorf("hash = %q, want the record's head %q", got, want)
			}
			if (len(m.Verify.QR) > 0) != (rec.Head != "" && tc.in.VerifyURL != "") {
				t.Errorf("QR code present = %v with head %q and URL %q", len(m.Verify.QR) > 0, rec.Head, tc.in.VerifyURL)
			}
			// The candidates in ballot order, the elected exactly as the
			// result orders them.
			if len(m.Results.Rows) != len(res.Candidates) {
				t.Fatalf("%d result rows for %d candidates", len(m.Results.Rows), len(res.Candidates))
			}
			for i, cr := range res.Candidates {
				if row := m.Results.Rows[i]; row.Cells[1] != cr.Name || row.Cells[2] != tally.FormatCount(cr.Votes) || row.Cells[3] != cr.Text {
					t.Errorf("row %d = %q, want %s %d %s", i, row.Cells, cr.Name, cr.Votes, cr.Text)
				}
			}
			names := map[string]string{}
			for _, cr := range res.Candidates {
				names[cr.ID] = cr.Name
			}
			var elected []string
			if m.Elected.Table != nil {
				for _, row := range m.Elected.Table.Rows {
					elected = append(elected, row.Cells[1])
				}
			}
			var want []string
			for _, id := range res.Elected {
				want = append(want, names[id])
			}
			if strings.Join(elected, "|") != strings.Join(want, "|") {
				t.Errorf("elected = %q, want %q (Result.elected)", elected, want)
			}
			text := minutesText(m)
			c := tc.r.contest
			// The base and the mark as the kind words them: D and over half
			// for an election; those present and more than 30% for an
			// opinion ballot; D and the list's length for an introduction.
			base := minutesBaseLines(c, res, "")
			mark := "từ " + tally.FormatCount(res.Threshold) + " phiếu"
			if c.Kind == tally.KindIntroduction {
				mark = tally.FormatCount(res.Seats) + " người có số phiếu giới thiệu cao nhất"
			}
			for _, s := range []string{
				base[0].Label + ": " + tally.FormatCount(res.Denominator),
				base[1].Label + ": ",
				mark,
				"Số phiếu hợp lệ: " + tally.FormatCount(res.Ballots.Valid),
				"Số phiếu không hợp lệ: " + tally.FormatCount(res.Ballots.Invalid),
			} {
				if !strings.Contains(text, s) {
					t.Errorf("minutes do not say %q", s)
				}
			}
			for reason, n := range res.Ballots.InvalidByReason {
				r := minutesReason(t, reason)
				if s := c.Kind.ReasonVietnamese(r) + ": " + tally.FormatCount(n); !strings.Contains(text, s) {
					t.Errorf("minutes do not give the invalid reason %q", s)
				}
			}
			for _, x := range c.Electorate.ExclusionLines() {
				if s := x.Vietnamese + ": " + tally.FormatCount(x.Count); !strings.Contains(text, s) {
					t.Errorf("minutes do not state the exclusion %q", s)
				}
			}
		})
	}
}

// minutesText flattens the model's parts into lines, as the PDF prints them.
func minutesText(m *Minutes) string {
	var b strings.Builder
	for _, p := range []MinutesPart{m.Setup, m.Count, m.Complaints} {
		for _, l := range p.Lines {
			b.WriteString(l.Text() + "\n")
		}
	}
	return b.String()
}

func minutesReason(t testing.TB, name string) tally.Reason {
	for _, r := range tally.Reasons() {
		if r.String() == name {
			return r
		}
	}
	t.Fatalf("unknown reason %q", name)
	return 0
}

func TestMinutesSpecifics(t *testing.T) {
	cases := map[string]*Minutes{}
	for _, tc := range minutesCases(t) {
		cases[tc.name] = BuildMinutes(tc.in)
	}
	m := cases["committee-certified"]
	if got, want := m.Header.PlaceDate, "Phường 4, ngày 20 tháng 5 năm 2025"; got != want {
		t.Errorf("place and date = %q, want %q", got, want)
	}
	if got, want := m.Congress, "Đại hội Chi bộ Khu phố 3 lần thứ IX, nhiệm kỳ 2025–2030"; got != want {
		t.Errorf("congress = %q, want %q", got, want)
	}
	if got, want := m.Closing[0], "Biên bản lập xong vào lúc 14 giờ 05 phút, ngày 20 tháng 5 năm 2025."; got != want {
		t.Errorf("closing = %q, want %q", got, want)
	}
	if m.Signatures.Head != "Hồ Văn Sáu" || strings.Join(m.Signatures.Members, ",") != "Võ Thị Thu,Đinh Thị Mỹ" {
		t.Errorf("signatures = %+v", m.Signatures)
	}
	// The votes of this contest first, then the congress's; not another
	// contest's, nor one recorded after the certification. Each is decided
	// on D (the congress's for its own: 10 of 21 with 17 present is not
	// passed, rules audit B1), unanimity among those present said apart.
	var marks []string
	for _, l := range m.Setup.Lines {
		if l.Mark != "" {
			marks = append(marks, l.Label+"="+l.Mark)
		}
	}
	if got, want := strings.Join(marks, "; "), "Số lượng cần bầu=thông qua; 100% đại biểu có mặt tán thành; Danh sách bầu cử=thông qua; Ban Kiểm phiếu=thông qua; 100% đại biểu có mặt tán thành; Đoàn Chủ tịch=không thông qua"; got != want {
		t.Errorf("show-of-hands marks = %q, want %q", got, want)
	}
	if m.Notice != "" || m.Watermark != "" {
		t.Errorf("certified minutes carry notice %q, watermark %q", m.Notice, m.Watermark)
	}
	// The key that signed the certification, beside the hash; none on a
	// round without a signature.
	fp := tally.Fingerprint(minutesKey.Public().(ed25519.PublicKey))
	if got := strings.Join(m.Verify.Lines, "\n"); !strings.Contains(got, "Khóa ký của máy kiểm phiếu (dấu vân tay): "+fp+".") {
		t.Errorf("certified, signed minutes do not print the key's fingerprint %s:\n%s", fp, got)
	}
	if got := strings.Join(cases["delegates-tie"].Verify.Lines, "\n"); strings.Contains(got, "Khóa ký") {
		t.Errorf("unsigned minutes print a key: %s", got)
	}

	d := cases["secretary-closed-draft"]
	warned := false
	for _, l := range d.Count.Lines {
		warned = warned || l.Warning && strings.Contains(l.Value, "khác số phiếu đã kiểm")
	}
	if !warned {
		t.Error("a paper count that differs from the ballots keyed must be flagged")
	}
	if len(d.Results.Columns) != 7 || d.Results.Columns[4].Title != "Không đồng ý" {
		t.Errorf("approve ballot columns = %+v", d.Results.Columns)
	}

	tie := cases["delegates-tie"]
	if len(tie.Elected.Notes) != 1 || !strings.Contains(tie.Elected.Notes[0], "bầu lại") {
		t.Errorf("tie notes = %q", tie.Elected.Notes)
	}
	if tie.Header.PlaceDate != "ngày 20 tháng 5 năm 2025" || len(tie.Header.Left) != 1 {
		t.Errorf("header without a congress = %+v", tie.Header)
	}

	v := cases["delegates-vacant"]
	if len(v.Elected.Notes) != 1 || !strings.Contains(v.Elected.Notes[0], "Còn thiếu 1 đồng chí") {
		t.Errorf("vacancy notes = %q", v.Elected.Notes)
	}

	// Alternates: the elected's order is the order of substitution.
	c, b := minutesExample(t, "ex09-alternates")
	r := countBallots(t, c, b)
	alt := BuildMinutes(MinutesInput{Record: r.record(tally.StateCertified, len(b)), Result: r.result})
	if len(alt.Elected.Notes) != 1 || !strings.Contains(alt.Elected.Notes[0], "thứ tự thay thế") {
		t.Errorf("alternates notes = %q", alt.Elected.Notes)
	}

	o := cases["committee-open"]
	if o.Finished || !o.Draft || !strings.Contains(o.Notice, "chưa kết thúc") || o.Verify.Hash != "" {
		t.Errorf("open round: finished=%v draft=%v notice=%q hash=%q", o.Finished, o.Draft, o.Notice, o.Verify.Hash)
	}
	if !strings.Contains(o.Closing[0], "Kiểm phiếu chưa kết thúc") {
		t.Errorf("open round closing = %q", o.Closing)
	}
}

// Times are written in Vietnam time (+07:00), hours without a leading
// zero, days below 10 and the months 1 and 2 with one.
func TestVietnamTime(t *testing.T) {
	for stamp, want := range map[string]string{
		"2025-05-20T07:05:00Z":      "14 giờ 05 phút, ngày 20 tháng 5 năm 2025",
		"2025-01-31T18:30:00Z":      "1 giờ 30 phút, ngày 01 tháng 02 năm 2025", // past midnight in Vietnam
		"2025-12-09T09:00:00+07:00": "9 giờ 00 phút, ngày 09 tháng 12 năm 2025",
	} {
		if got, ok := minutesStamp(stamp); !ok || got != want {
			t.Errorf("minutesStamp(%s) = %q, %v; want %q", stamp, got, ok, want)
		}
	}
	if _, ok := minutesStamp(""); ok {
		t.Error("an empty stamp must not be a time")
	}
}

// Names reach the page escaped: candidate names are user input.
func TestMinutesHTMLEscapes(t *testing.T) {
	m := BuildMinutes(minutesCases(t)[0].in)
	m.Results.Rows[0].Cells[1] = `<script>alert("x")</script>`
	var buf bytes.Buffer
	if err := RenderMinutesHTML(&buf, m); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script>") {
		t.Error("a name was written unescaped")
	}
	if !strings.Contains(buf.String(), `src="data:image/png;base64,`) {
		t.Error("the QR code is not inlined as a data: URL")
	}
}

// minutesPDFText extracts a PDF's text with pdftotext (poppler-utils),
// laid out as on the page (mode "-layout") or in drawing order ("-raw", in
// which the rotated watermark comes out letter by letter). Without the
// tool the test is skipped, loudly, except in CI.
func minutesPDFText(t *testing.T, pdf []byte, mode string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "minutes.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(minutesPoppler(t, "pdftotext"), mode, "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func minutesPoppler(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI (apt-get install poppler-utils): %v", name, err)
	}
	t.Skipf("!!! SKIPPED: %s not found (apt-get install poppler-utils); the PDF's text is NOT checked !!!", name)
	return ""
}

func minutesPDFPages(t *testing.T, pdf []byte) int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "minutes.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(minutesPoppler(t, "pdfinfo"), path).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	match := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out)
	if match == nil {
		t.Fatalf("pdfinfo gives no page count:\n%s", out)
	}
	n, _ := strconv.Atoi(string(match[1]))
	return n
}

func TestMinutesPDF(t *testing.T) {
	for _, tc := range minutesCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			m := BuildMinutes(tc.in)
			pdf, err := MinutesPDF(m)
			if err != nil {
				t.Fatal(err)
			}
			again, err := MinutesPDF(BuildMinutes(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pdf, again) {
				t.Error("two renderings of the same minutes differ")
			}
			text := minutesPDFText(t, pdf, "-layout")
			if !norm.NFC.IsNormalString(text) {
				t.Error("the PDF's text is not NFC")
			}
			musts := []string{"BIÊN BẢN KIỂM PHIẾU", "ĐẢNG CỘNG SẢN VIỆT NAM", tc.r.contest.Title,
				// The base of the percentages, as the kind names it.
				minutesBaseLines(tc.r.contest, tc.r.result, "")[0].Label + ": " + tally.FormatCount(tc.r.result.Denominator),
				"TRƯỞNG BAN KIỂM PHIẾU", "CÁC ỦY VIÊN"}
			if h := tc.in.Record.Head; h != "" {
				musts = append(musts, h)
			}
			if tc.in.Record.Signature != nil {
				musts = append(musts, "Khóa ký của máy kiểm phiếu (dấu vân tay): "+tally.Fingerprint(minutesKey.Public().(ed25519.PublicKey)))
			}
			for _, cr := range tc.r.result.Candidates {
				musts = append(musts, cr.Name)
			}
			if tc.in.Congress != nil {
				for _, mb := range tc.in.Congress.CountingCommittee {
					musts = append(musts, mb.Name)
				}
			}
			flat := strings.Join(strings.Fields(text), " ")
			for _, s := range musts {
				if !strings.Contains(flat, strings.Join(strings.Fields(s), " ")) {
					t.Errorf("the PDF's text lacks %q", s)
				}
			}
			if got := strings.Contains(text, "DỰ THẢO"); got != m.Draft {
				t.Errorf("DỰ THẢO in the PDF = %v, draft = %v", got, m.Draft)
			}
			if t.Failed() {
				t.Logf("PDF text:\n%s", text)
			}
		})
	}
}

// A list of 250 names runs over several pages; every page holding rows of
// a table repeats its header row, and every page of a draft carries the
// watermark.
func TestMinutesPDFLongList(t *testing.T) {
	r := minutesLongRound(t, 250, 120, 300)
	m := BuildMinutes(MinutesInput{Record: r.record(tally.StateClosed, 300), Result: r.result, VerifyURL: minutesVerifyBase + r.head})
	pdf, err := MinutesPDF(m)
	if err != nil {
		t.Fatal(err)
	}
	pages := minutesPDFPages(t, pdf)
	if pages < 6 {
		t.Fatalf("%d pages for 250 candidates and 120 elected; want 6 or more", pages)
	}
	text := minutesPDFText(t, pdf, "-layout")
	sheets := strings.Split(strings.TrimRight(text, "\f"), "\f")
	if len(sheets) != pages {
		t.Fatalf("pdftotext gives %d pages, pdfinfo %d", len(sheets), pages)
	}
	names := map[string]bool{}
	for _, cr := range r.result.Candidates {
		names[cr.Name] = true
	}
	raw := strings.Split(strings.TrimRight(minutesPDFText(t, pdf, "-raw"), "\f"), "\f")
	for i, sheet := range sheets {
		if i >= len(raw) || !strings.Contains(strings.Join(strings.Fields(raw[i]), ""), "DỰTHẢO") {
			t.Errorf("page %d has no DỰ THẢO watermark", i+1)
		}
		if !strings.Contains(sheet, fmt.Sprintf("Trang %d/%d", i+1, pages)) {
			t.Errorf("page %d is not numbered %d/%d", i+1, i+1, pages)
		}
		hasRow := false
		for _, line := range strings.Split(sheet, "\n") {
			f := strings.Fields(line)
			if len(f) >= 4 && names[strings.Join(f[1:4], " ")] {
				hasRow = true
				break
			}
		}
		if hasRow && !strings.Contains(sheet, "Họ và tên") {
			t.Errorf("page %d has table rows but no header row", i+1)
		}
	}
	for _, cr := range r.result.Candidates {
		if !strings.Contains(text, cr.Name) {
			t.Errorf("the PDF lacks %q", cr.Name)
		}
	}
}

// minutesLongRound counts a strike contest of n candidates for seats, voted by a
// body of voters, with ballots drawn from a fixed seed.
func minutesLongRound(t testing.TB, n, seats, voters int) countedRound {
	t.Helper()
	families := []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	middles := []string{"Văn", "Thị", "Minh", "Quốc", "Thu", "Đức", "Hữu", "Ngọc", "Thanh", "Xuân"}
	givens := []string{"An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Khánh", "Lan", "Linh",
		"Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trung", "Tuấn", "Uyên", "Vinh", "Yến"}
	var js strings.Builder
	fmt.Fprintf(&js, `{"id":"dbdh-dai-2025","title":"Bầu đại biểu dự Đại hội đại biểu Đảng bộ tỉnh lần thứ XX","kind":"delegates",
		"seats":%d,"ballot":"strike","electorate":{"congress":"body","convened":%d},"candidates":[`, seats, voters)
	seen := map[string]bool{}
	for i, k := 0, 0; i < n; k++ {
		// j runs over every (family, middle, given) triple once, in a
		// scattered order: 37 is prime to their number.
		j := k * 37 % (len(families) * len(middles) * len(givens))
		name := families[j%len(families)] + " " + middles[j/len(families)%len(middles)] + " " + givens[j/(len(families)*len(middles))]
		if seen[name] {
			continue
		}
		seen[name] = true
		if i > 0 {
			js.WriteString(",")
		}
		fmt.Fprintf(&js, `{"id":"c%03d","name":%q}`, i, name)
		i++
	}
	js.WriteString("]}")
	c, err := tally.ParseContest([]byte(js.String()))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2025, 5))
	ballots := make([]tally.Ballot, voters)
	for v := range ballots {
		// Each ballot keeps `seats` names; the first candidates are kept
		// more often, so some pass and some do not.
		kept := map[int]bool{}
		for len(kept) < seats {
			i := int(float64(n) * rng.Float64() * rng.Float64() * 1.6)
			if i < n {
				kept[i] = true
			}
		}
		b := tally.Ballot{ID: fmt.Sprintf("p%04d", v), Struck: []string{}}
		for i, cd := range c.Candidates {
			if !kept[i] {
				b.Struck = append(b.Struck, cd.ID)
			}
		}
		ballots[v] = b
	}
	return countBallots(t, c, ballots)
}

// BenchmarkMinutes renders the minutes of a national-congress-sized round
// (250 candidates, 120 elected): the view model, the HTML and the PDF.
func BenchmarkMinutes(b *testing.B) {
	r := minutesLongRound(b, 250, 120, 300)
	in := MinutesInput{Record: r.record(tally.StateClosed, 300), Result: r.result, VerifyURL: minutesVerifyBase + r.head}
	b.Run("HTML", func(b *testing.B) {
		for b.Loop() {
			if err := RenderMinutesHTML(io.Discard, BuildMinutes(in)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PDF", func(b *testing.B) {
		for b.Loop() {
			if _, err := MinutesPDF(BuildMinutes(in)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// verifiedJournal splits ballots into two stacks keyed by three desks, a
// minute apart, and returns the input with the journal and the ballots
// under their position ids. Desk 2 mistypes position 3 of stack 1 and
// desk 3 position 2 of stack 2 (both decided by the committee); desk 1
// slips on position 1 of stack 1 and corrects it.
func verifiedJournal(t testing.TB, c *tally.Contest, ballots []tally.Ballot) (MinutesInput, []tally.Ballot) {
	t.Helper()
	idx := c.Index()
	half := (len(ballots) + 1) / 2
	j := &EntryJournal{Stacks: []JournalStack{{1, half}, {2, len(ballots) - half}}}
	at := time.Date(2025, 5, 20, 2, 40, 0, 0, time.UTC)
	var out []tally.Ballot
	for i, b := range ballots {
		s, k := 1, i+1
		if i >= half {
			s, k = 2, i-half+1
		}
		body, err := c.Body(b, s, k, idx)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, body)
		keyed := map[int]tally.Ballot{}
		for d := 1; d <= 3; d++ {
			kb := body
			if d == 2 && s == 1 && k == 3 || d == 3 && s == 2 && k == 2 {
				kb, err = c.Body(tally.Ballot{Struck: []string{c.Candidates[0].ID}}, s, k, idx)
				if err != nil {
					t.Fatal(err)
				}
			}
			n := 1
			if d == 1 && s == 1 && k == 1 {
				slip, _ := c.Body(tally.Ballot{Invalid: tally.ReasonWriteIn}, s, k, idx)
				j.Keyings = append(j.Keyings, tally.Keying{ID: fmt.Sprintf("b%d-%d-%d-slip", d, s, k), Stack: s, Position: k,
					DeskID: fmt.Sprintf("token:%d", d), Desk: fmt.Sprintf("Bàn %d", d), Time: at.Format(time.RFC3339), N: 1,
					Ballot: slip, Digest: tally.BallotDigest(&slip)})
				n = 2
			}
			keyed[d] = kb
			j.Keyings = append(j.Keyings, tally.Keying{ID: fmt.Sprintf("b%d-%d-%d", d, s, k), Stack: s, Position: k,
				DeskID: fmt.Sprintf("token:%d", d), Desk: fmt.Sprintf("Bàn %d", d), Time: at.Add(time.Duration(d) * time.Second).Format(time.RFC3339),
				N: n, Ballot: kb, Digest: tally.BallotDigest(&kb)})
		}
		k1, k2, k3 := keyed[1], keyed[2], keyed[3]
		if tally.BallotDigest(&k1) != tally.BallotDigest(&k2) || tally.BallotDigest(&k1) != tally.BallotDigest(&k3) {
			entries := slices.Clone(j.Keyings[len(j.Keyings)-3:])
			j.Decisions = append(j.Decisions, tally.CommitteeDecision{Stack: s, Position: k, By: "Hồ Văn Sáu",
				Time: at.Add(10 * time.Minute).Format(time.RFC3339), Entries: entries, Ballot: body, Digest: tally.BallotDigest(&body),
				Reason: "Ban Kiểm phiếu xem lại phiếu gốc: một bàn nhập sai", Seq: int64(i + 1)})
		}
		at = at.Add(time.Minute)
	}
	cg := minutesCongress(t, `{"id":"dh-cb-kp3","organization":"Chi bộ Khu phố 3","superior":"Đảng bộ Phường 4",
		"name":"Đại hội Chi bộ Khu phố 3","ordinal":9,"term":"2025–2030","place":"Phường 4","date":"2025-05-20",
		"counting_committee":[{"name":"Hồ Văn Sáu","role":"head"},{"name":"Võ Thị Thu","role":"member"}]}`)
	return MinutesInput{Congress: cg, Journal: j}, out
}

// The minutes of a verified round state the mode and the discrepancies
// resolved, and print the journal: every keying, each decision with its
// reason; a single-entry round's minutes say nothing of it.
func TestMinutesVerified(t *testing.T) {
	var tc minutesCase
	for _, c := range minutesCases(t) {
		if c.name == "committee-verified" {
			tc = c
		}
	}
	m := BuildMinutes(tc.in)
	var count []string
	for _, l := range m.Count.Lines {
		count = append(count, l.Text())
	}
	all := strings.Join(count, "\n")
	for _, want := range []string{"Phương thức nhập phiếu: nhập ba — mỗi phiếu do 3 bàn nhập độc lập",
		"Số lần nhập lệch giữa các bàn đã được Ban Kiểm phiếu giải quyết: 2", "Số tệp phiếu: 2 tệp"} {
		if !strings.Contains(all, want) {
			t.Errorf("part II lacks %q:\n%s", want, all)
		}
	}
	if m.Journal == nil || len(m.Journal.Keyings.Rows) != len(tc.in.Journal.Keyings) || m.Journal.Decisions == nil || len(m.Journal.Decisions.Rows) != 2 {
		t.Fatalf("journal annex: %+v", m.Journal)
	}
	outcomes := map[string]int{}
	for _, r := range m.Journal.Keyings.Rows {
		outcomes[r.Cells[5]]++
	}
	if outcomes["đã thay bằng lần nhập sau của bàn"] != 1 || outcomes["lệch; không được chọn"] != 2 || outcomes["lệch; Ban Kiểm phiếu chọn nội dung này"] != 4 {
		t.Errorf("outcomes %v", outcomes)
	}
	pdf, err := MinutesPDF(m)
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(minutesPDFText(t, pdf, "-layout")), " ")
	for _, want := range []string{"PHỤ LỤC: NHẬT KÝ NHẬP PHIẾU", "Quyết định của Ban Kiểm phiếu về các phiếu nhập lệch", "Phương thức nhập phiếu", "khớp — đã tính"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	single := BuildMinutes(minutesCases(t)[0].in)
	if single.Journal != nil {
		t.Error("a single-entry round has a journal annex")
	}
	for _, l := range single.Count.Lines {
		if strings.Contains(l.Label, "nhập phiếu") {
			t.Errorf("a single-entry round's minutes state %q", l.Text())
		}
	}
}

// Every void and every ballot note of the log is on the minutes, HTML and
// PDF: the void's entry, the ballot and its entry, the desk that keyed it,
// who voided it and when, and why; each note with the ruling. The copy
// for readers who did not sign in has every row but no note's text. A
// round without corrections says so.
func TestMinutesCorrections(t *testing.T) {
	in, _ := correctedRound(t)
	voidRows := [][]string{
		{"1", "11", "b-0003 (mục 3)", "Bàn 2", "Hồ Văn Sáu", "09:37:50 20/05/2025", "Bàn nhập thiếu một tên bị gạch; Ban Kiểm phiếu đối chiếu tờ phiếu"},
		{"2", "13", "b-0010 (mục 10)", "Bàn 1", "Hồ Văn Sáu", "09:38:24 20/05/2025", "Phiếu của cuộc bầu khác, không thuộc hòm phiếu này"},
	}
	notes := map[string]string{ // ballot → ruling
		"b-0006": "Không hợp lệ: Ghi thêm tên ngoài danh sách hoặc viết thêm chữ",
		"b-0007": "Không hợp lệ: Không phải phiếu do Ban kiểm phiếu phát ra",
		"b-0008": "Hợp lệ",
		"b-0009": "Không hợp lệ: Có chữ ký hoặc ký hiệu riêng",
		"b-0010": "Không hợp lệ: Lý do khác — đã hủy (mục 13), không tính",
	}
	for _, public := range []bool{false, true} {
		in.Public = public
		m := BuildMinutes(in)
		mc := m.Corrections
		if mc.Heading != "VII. HỦY PHIẾU ĐÃ NHẬP VÀ GHI CHÚ VỀ PHIẾU" || mc.Voids.Table == nil || mc.Notes.Table == nil {
			t.Fatalf("public=%v: corrections %+v", public, mc)
		}
		if len(mc.Voids.Table.Rows) != len(voidRows) {
			t.Fatalf("public=%v: %d void rows, want %d", public, len(mc.Voids.Table.Rows), len(voidRows))
		}
		for i, want := range voidRows {
			if got := mc.Voids.Table.Rows[i].Cells; !slices.Equal(got, want) {
				t.Errorf("public=%v: void row %d = %q, want %q", public, i, got, want)
			}
		}
		if len(mc.Notes.Table.Rows) != len(in.BallotNotes) {
			t.Fatalf("public=%v: %d note rows for %d notes", public, len(mc.Notes.Table.Rows), len(in.BallotNotes))
		}
		for i, e := range in.BallotNotes {
			row := mc.Notes.Table.Rows[i].Cells
			want := e.Ballot.Note
			if public {
				want = noteWithheld
			}
			if row[1] != fmt.Sprint(e.Seq) || row[2] != e.Ballot.ID || row[3] != notes[e.Ballot.ID] || row[4] != want {
				t.Errorf("public=%v: note row %d = %q, want entry %d, %s, %q, %q", public, i, row, e.Seq, e.Ballot.ID, notes[e.Ballot.ID], want)
			}
		}

		html, flat := minutesRendered(t, m, "-raw")
		for _, row := range voidRows {
			for _, cell := range row[2:] {
				if !strings.Contains(html, cell) {
					t.Errorf("public=%v: the HTML lacks %q", public, cell)
				}
			}
			// pdftotext breaks a table cell over its lines: each reason is
			// read word by word in order.
			if !strings.Contains(flat, row[2]) || !containsWords(flat, row[6]) {
				t.Errorf("public=%v: the PDF lacks the void of %s with its reason %q", public, row[2], row[6])
			}
		}
		for _, e := range in.BallotNotes {
			inHTML, inPDF := strings.Contains(html, e.Ballot.Note), containsWords(flat, e.Ballot.Note)
			if public {
				// Absent: not even the note's first words together (its
				// words one by one occur in any long minutes).
				words := strings.Fields(e.Ballot.Note)
				inPDF = strings.Contains(strings.Join(strings.Fields(flat), " "), strings.Join(words[:min(3, len(words))], " "))
			}
			if inHTML == public || inPDF == public {
				t.Errorf("public=%v: the note of %s in the HTML %v, in the PDF %v", public, e.Ballot.ID, inHTML, inPDF)
			}
		}
	}

	none := BuildMinutes(minutesCases(t)[0].in).Corrections
	if none.Voids.Table != nil || none.Voids.Empty != "Không có phiếu nào đã nhập bị hủy." || none.Notes.Table != nil || none.Notes.Empty != "Không có phiếu nào có ghi chú." {
		t.Errorf("a round without corrections: %+v", none)
	}
}

// minutesRendered renders the minutes as HTML and as a PDF, and returns
// the HTML and the PDF's text (pdftotext in mode) on one line.
func minutesRendered(t *testing.T, m *Minutes, mode string) (string, string) {
	t.Helper()
	var html bytes.Buffer
	if err := RenderMinutesHTML(&html, m); err != nil {
		t.Fatal(err)
	}
	pdf, err := MinutesPDF(m)
	if err != nil {
		t.Fatal(err)
	}
	return html.String(), strings.Join(strings.Fields(minutesPDFText(t, pdf, mode)), " ")
}

// containsWords says whether the words of s appear in text in order, each
// after the one before (a PDF table cell comes out over several lines).
func containsWords(text, s string) bool {
	for _, w := range strings.Fields(s) {
		i := strings.Index(text, w)
		if i < 0 {
			return false
		}
		text = text[i+len(w):]
	}
	return true
}

// The entry journal of a round still being keyed is sealed for everyone
// but the committee (finding 8 of the security review: a desk read another
// desk's reading of a paper it had yet to key); the public copy of a
// closed round prints no keying either. Both keep the stacks and counts.
func TestMinutesJournalWithheld(t *testing.T) {
	var tc minutesCase
	for _, c := range minutesCases(t) {
		if c.name == "committee-verified" {
			tc = c
		}
	}
	sealed := *tc.in.Journal
	sealed.Sealed = true
	for name, in := range map[string]MinutesInput{
		"sealed": func() MinutesInput { in := tc.in; in.Journal = &sealed; return in }(),
		"public": func() MinutesInput { in := tc.in; in.Public = true; return in }(),
	} {
		m := BuildMinutes(in)
		if m.Journal == nil || m.Journal.Keyings != nil || m.Journal.Decisions != nil {
			t.Fatalf("%s: annex %+v, want the intro only", name, m.Journal)
		}
		html, flat := minutesRendered(t, m, "-layout")
		for _, k := range tc.in.Journal.Keyings {
			if text := KeyedText(tc.r.contest, k.Ballot); strings.Contains(html, text) || strings.Contains(flat, text) {
				t.Errorf("%s: a keying is printed: %q", name, text)
			}
		}
		for _, want := range []string{"PHỤ LỤC: NHẬT KÝ NHẬP PHIẾU", "Các tệp phiếu: tệp 1", "Số lần nhập lệch giữa các bàn đã được Ban Kiểm phiếu giải quyết: 2"} {
			if !strings.Contains(html, want) {
				t.Errorf("%s: the HTML lacks %q", name, want)
			}
		}
		why := map[string]string{"sealed": "chỉ in sau khi kết thúc kiểm phiếu", "public": "Bản công bố"}[name]
		if !strings.Contains(flat, why) || !strings.Contains(html, why) {
			t.Errorf("%s: the annex does not say why the keyings are left out (%q)", name, why)
		}
	}
}
