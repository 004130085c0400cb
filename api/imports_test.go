package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/tally"
)

// certifiedExport counts and certifies a round on h and returns its export.
func (h *harness) certifiedExport(id string, mods ...any) (record, []byte) {
	h.t.Helper()
	h.countRound(id, mods...)
	rec := h.transition(id, "certify", nil)
	r := h.do("GET", "/contests/"+id+"/export.jsonl", nil, asAdmin)
	mustStatus(h.t, r, http.StatusOK)
	return rec, r.body
}

// importer is a second instance (another store) with the congress the
// rounds are filed under.
func importer(t *testing.T) *harness {
	h := newHarness(t)
	mustStatus(t, h.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	return h
}

// importPath is POST /imports's path with its query.
func importPath(congress, head string) string {
	q := url.Values{}
	if congress != "" {
		q.Set("congress", congress)
	}
	if head != "" {
		q.Set("head", head)
	}
	if len(q) == 0 {
		return "/api/v1/imports"
	}
	return "/api/v1/imports?" + q.Encode()
}

// noRounds checks that nothing of a refused import was left behind: no
// round, no claim on a round id.
func (h *harness) noRounds() {
	h.t.Helper()
	var list struct {
		Contests []json.RawMessage `json:"contests"`
	}
	decode(h.t, h.do("GET", "/api/v1/contests", nil, asAdmin), &list)
	if len(list.Contests) != 0 {
		h.t.Errorf("refused imports left %d rounds behind", len(list.Contests))
	}
	claims, err := h.store.ListItems(context.Background(), "import_claim")
	if err != nil || len(claims) != 0 {
		h.t.Errorf("refused imports left claims behind: %v %v", claims, err)
	}
}

func TestImportCertifiedRound(t *testing.T) {
	a := newHarness(t)
	// A round with a void in its log, so that voids are rebuilt too.
	mustStatus(t, a.do("POST", "/api/v1/congresses", congressRecord(), asAdmin), http.StatusCreated)
	mustStatus(t, a.do("POST", "/api/v1/contests?congress=dh-p4", contestDef("bch"), asAdmin), http.StatusCreated)
	a.transition("bch", "open", nil)
	a.castStrike("bch", strikes("b", 5, "c4")...)
	a.castStrike("bch", strikes("x", 2, "c1")...)
	a.clock.Advance(90 * time.Second) // a later time on the second desk's entries
	mustStatus(t, a.do("POST", "/api/v1/contests/bch/ballots/x-2/void", map[string]string{"reason": "gõ nhầm"}, asAdmin), http.StatusCreated)
	a.castStrike("bch", strikes("y", 1, "c2")...)
	a.transition("bch", "close", map[string]int{"issued": 8})
	certified := a.transition("bch", "certify", nil)
	r := a.do("GET", "/contests/bch/export.jsonl", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	export := r.body

	b := importer(t)
	b.clock.Advance(48 * time.Hour) // the district imports two days later
	// The head as people copy it from paper: in capitals, in groups.
	typed := strings.ToUpper(certified.Head[:32] + " " + certified.Head[32:])
	r = b.do("POST", importPath("dh-p4", typed), export, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	if loc := r.header.Get("Location"); loc != "/api/v1/contests/bch" {
		t.Errorf("Location %q", loc)
	}
	var got struct {
		record
		Imported     string           `json:"imported"`
		ImportAnchor string           `json:"import_anchor"`
		Signature    *tally.Signature `json:"signature"`
	}
	decode(t, r, &got)
	if got.State != "certified" || got.Head != certified.Head || got.Certified != certified.Certified || got.Closed != certified.Closed || got.Opened != certified.Opened {
		t.Errorf("imported record %+v, want the certified %+v", got.record, certified)
	}
	if want := b.clock.Now().UTC().Format("2006-01-02T15:04:05Z07:00"); got.Imported != want {
		t.Errorf("imported %q, want %q", got.Imported, want)
	}
	if got.ImportAnchor != "head" || got.Signature == nil {
		t.Errorf("anchor %q, signature %+v: want the head, and the ward's signature kept", got.ImportAnchor, got.Signature)
	}

	// The same result, log and export as where it was counted.
	for _, path := range []string{"/api/v1/contests/bch/result", "/api/v1/contests/bch/log"} {
		ra, rb := a.do("GET", path, nil, asAdmin), b.do("GET", path, nil, asAdmin)
		mustStatus(t, rb, http.StatusOK)
		if !bytes.Equal(ra.body, rb.body) {
			t.Errorf("%s differs:\nA %s\nB %s", path, ra.body, rb.body)
		}
	}
	r = b.do("GET", "/contests/bch/export.jsonl", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if !bytes.Equal(r.body, export) {
		t.Errorf("the export of the imported round is not the file imported:\n%s\nwant\n%s", r.body, export)
	}
	r = b.page("GET", "/verify/"+certified.Head, nil)
	mustStatus(t, r, http.StatusOK)
	if got := text(r.body); !strings.Contains(got, "Khớp: sổ phiếu lưu trữ liền mạch") || !strings.Contains(got, certified.Head) {
		t.Errorf("the verify page of the imported round: %s", got)
	}
	r = b.page("GET", "/contests/bch/minutes", nil)
	mustStatus(t, r, http.StatusOK)
	if got := text(r.body); !strings.Contains(got, certified.Head) {
		t.Errorf("the minutes of the imported round do not print its head: %s", got)
	}

	// Frozen as any certified round; no desk can add to it.
	mustError(t, b.postBallot("bch", tally.Ballot{ID: "z-1", Struck: []string{"c1"}}), http.StatusConflict, "state")
	mustError(t, b.do("POST", "/api/v1/contests/bch/close", map[string]int{"issued": 8}, asAdmin), http.StatusConflict, "state")

	// Once only.
	e := mustError(t, b.do("POST", importPath("", certified.Head), export, asAdmin), http.StatusConflict, "record.contest.id")
	if !strings.Contains(e.Message, "already exists") || !strings.Contains(e.Message, "this very round") {
		t.Errorf("duplicate: %q", e.Message)
	}
}

// exportLines splits an export into its lines (without the final newline).
func exportLines(data []byte) []string {
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestImportRefused(t *testing.T) {
	a := newHarness(t)
	certified, export := a.certifiedExport("bch")
	a.countRound("bch-open") // closed, not certified
	r := a.do("GET", "/contests/bch-open/export.jsonl", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	closed := r.body

	lines := exportLines(export)
	join := func(ls []string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }
	edit := func(i int, old, new string) []byte {
		t.Helper()
		ls := append([]string{}, lines...)
		if !strings.Contains(ls[i], old) {
			t.Fatalf("line %d lacks %q: %s", i+1, old, ls[i])
		}
		ls[i] = strings.Replace(ls[i], old, new, 1)
		return join(ls)
	}
	var tail tally.ExportTrailer
	decodeLine(t, lines[len(lines)-1], &tail)
	tail.Result.Threshold++
	changedResult, _ := json.Marshal(tail)
	withResult := append(append([]string{}, lines[:len(lines)-1]...), string(changedResult))
	head := certified.Head

	b := importer(t)
	for _, tc := range []struct {
		name, head, field, says string
		body                    []byte
	}{
		{"a ballot's marks changed", head, "log[0].hash", "altered", edit(1, `"struck":["c4"]`, `"struck":["c3"]`)},
		{"an entry removed", head, "log[1].seq", "missing", join(append(append([]string{}, lines[:2]...), lines[3:]...))},
		{"the result changed", head, "result", "differs from the exported result", join(withResult)},
		{"the head changed", head, "record.head", "ending with", edit(0, certified.Head, strings.Repeat("0", 64))},
		{"closed, not certified", head, "record.state", "only a certified round", closed},
		{"not an export", head, "record", "not an export header", []byte(`{"id":"b1","struck":["c1"]}` + "\n{}\n")},
		{"another kind", head, "kind", "not a kiemphieu log export", edit(0, `"kind":"kiemphieu-log-export"`, `"kind":"other"`)},
		{"an unknown field", head, "log[2]", "unknown field", edit(3, `"desk":`, `"extra":1,"desk":`)},
		{"empty", head, "", "needs a record line", nil},
		// The anchor to the paper (DESIGN §7.1).
		{"no head, signed by a key not registered", "", "head", "not registered here", export},
		{"no head, not signed", "", "head", "this export is not signed", unsigned(t, export)},
		{"a head that is not one", "d7d663e8", "head", "is not a log head hash", export},
		{"another head", strings.Repeat("ab", 32), "head", "not the log the certified minutes were printed from", export},
		// The record changed after it was signed: refused with the right
		// head too.
		{"the ballots issued changed", head, "record.signature", "does not verify", edit(0, `"issued":8`, `"issued":9`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustError(t, b.in(t).do("POST", importPath("", tc.head), tc.body, asAdmin), http.StatusBadRequest, tc.field)
			if !strings.Contains(e.Message, tc.says) {
				t.Errorf("message %q lacks %q", e.Message, tc.says)
			}
		})
	}
	b.noRounds()

	mustError(t, b.do("POST", importPath("nope", head), export, asAdmin), http.StatusNotFound, "congress")

	// Admin only.
	mustStatus(t, b.do("POST", importPath("", head), export), http.StatusUnauthorized)
	for _, role := range []string{"viewer", "counter"} {
		mustStatus(t, b.do("POST", importPath("", head), export, bearer(b.issueToken(role, role+"-1"))), http.StatusForbidden)
	}
	mustStatus(t, b.do("POST", importPath("", head), export, asAdmin), http.StatusCreated)
}

// parseExport reads an export with the project's reader.
func parseExport(t *testing.T, data []byte) *tally.Export {
	t.Helper()
	x, err := tally.ReadExport(bytes.NewReader(data), 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// writeExport writes an export as the service does, line by line.
func writeExport(t *testing.T, x *tally.Export) []byte {
	t.Helper()
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tally.ExportHeader{Kind: tally.ExportKind, Record: x.Record}); err != nil {
		t.Fatal(err)
	}
	for _, e := range x.Entries {
		line, _ := e.MarshalJSON()
		out.Write(append(line, '\n'))
	}
	if err := enc.Encode(tally.ExportTrailer{Result: x.Result}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// unsigned is an export with its signature taken out, as a round certified
// before instances had keys.
func unsigned(t *testing.T, export []byte) []byte {
	t.Helper()
	x := parseExport(t, export)
	x.Record.Signature = nil
	return writeExport(t, x)
}

// relink gives the entries fresh hashes, recounts them and records the new
// head, as anyone holding the file can (finding 2): the result is an export
// that `kiemphieu verify` accepts. The ward's signature stays unless
// dropSignature.
func relink(t *testing.T, x *tally.Export, dropSignature bool) string {
	t.Helper()
	prev := tally.GenesisHash
	for i := range x.Entries {
		x.Entries[i].Link(int64(i), prev)
		prev = x.Entries[i].Hash
	}
	count, err := tally.Replay(x.Record.Contest, x.Entries)
	if err != nil {
		t.Fatal(err)
	}
	x.Result = count.Result()
	version := int64(len(x.Entries))
	x.Result.Version = &version
	x.Record.Head, x.Record.Version = prev, version
	if dropSignature {
		x.Record.Signature = nil
	}
	head, _, err := x.Verify()
	if err != nil || head != prev {
		t.Fatalf("the relinked export must verify: %v", err)
	}
	return head
}

// forgeSwap is the attack of finding 2: every ballot's struck names swap
// from and to, then the chain is relinked.
func forgeSwap(t *testing.T, export []byte, from, to string, dropSignature bool) ([]byte, string) {
	t.Helper()
	x := parseExport(t, export)
	for _, e := range x.Entries {
		if e.Ballot == nil {
			continue
		}
		for i, id := range e.Ballot.Struck {
			switch id {
			case from:
				e.Ballot.Struck[i] = to
			case to:
				e.Ballot.Struck[i] = from
			}
		}
	}
	head := relink(t, x, dropSignature)
	return writeExport(t, x), head
}

// TestImportRelinkedForgery is finding 2: a certified ward export whose
// ballots were changed in transit (the struck names swapped, so another
// candidate is elected), relinked with fresh hashes, recounted, the record's
// head set to the new log. It verifies on its own; the district refuses it
// without the head printed on the ward's minutes and with it, signed or
// not, and stores nothing; the genuine file then imports.
func TestImportRelinkedForgery(t *testing.T) {
	ward := newHarness(t)
	certified, export := ward.certifiedExport("ward7-bithu")
	var self struct {
		PublicKey string `json:"public_key"`
	}
	decode(t, ward.do("GET", "/api/v1/keys/self", nil, asAdmin), &self)

	elected := func(x *tally.Export) string { return strings.Join(x.Result.Elected, ",") }
	genuine := parseExport(t, export)
	forgedSigned, forgedHead := forgeSwap(t, export, "c1", "c4", false)
	forgedBare, _ := forgeSwap(t, export, "c1", "c4", true)
	if g, f := elected(genuine), elected(parseExport(t, forgedBare)); !strings.Contains(g, "c1") || strings.Contains(g, "c4") || !strings.Contains(f, "c4") || strings.Contains(f, "c1") {
		t.Fatalf("the forgery must change who is elected: genuine %s, forged %s", g, f)
	}
	if forgedHead == certified.Head {
		t.Fatal("the forgery must have another head")
	}

	district := importer(t)
	for _, tc := range []struct {
		name, head, field, says string
		body                    []byte
	}{
		{"unsigned, no head", "", "head", "required", forgedBare},
		{"unsigned, the genuine head", certified.Head, "head", "not the log the certified minutes were printed from", forgedBare},
		{"the ward's signature kept, no head", "", "record.signature", "does not verify", forgedSigned},
		{"the ward's signature kept, the genuine head", certified.Head, "record.signature", "does not verify", forgedSigned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustError(t, district.in(t).do("POST", importPath("dh-p4", tc.head), tc.body, asAdmin), http.StatusBadRequest, tc.field)
			if !strings.Contains(e.Message, tc.says) {
				t.Errorf("message %q lacks %q", e.Message, tc.says)
			}
		})
	}
	// With the ward's key registered, the forgery is still refused.
	mustStatus(t, district.do("POST", "/api/v1/keys", map[string]string{"label": "Đảng bộ Phường 7", "public_key": self.PublicKey}, asAdmin), http.StatusCreated)
	mustError(t, district.do("POST", importPath("dh-p4", ""), forgedSigned, asAdmin), http.StatusBadRequest, "record.signature")
	mustError(t, district.do("POST", importPath("dh-p4", ""), forgedBare, asAdmin), http.StatusBadRequest, "head")
	mustStatus(t, district.do("GET", "/api/v1/contests/ward7-bithu", nil, asAdmin), http.StatusNotFound)
	mustStatus(t, district.page("GET", "/verify/"+forgedHead, nil), http.StatusNotFound)

	// The genuine file, signed under the registered key, needs no head.
	mustStatus(t, district.do("POST", importPath("dh-p4", ""), export, asAdmin), http.StatusCreated)
	var res tally.Result
	decode(t, district.do("GET", "/api/v1/contests/ward7-bithu/result", nil), &res)
	if got := strings.Join(res.Elected, ","); got != elected(genuine) {
		t.Errorf("elected %s at the district, %s at the ward", got, elected(genuine))
	}
}

// TestImportMalformedLeavesIDFree is finding 16: an export whose chain,
// head and recount verify but which no store wrote (one ballot id twice)
// is refused before anything is stored, so the genuine export of the same
// round imports afterwards.
func TestImportMalformedLeavesIDFree(t *testing.T) {
	a := newHarness(t)
	certified, export := a.certifiedExport("bch", "visibility", "live")
	x := parseExport(t, export)
	if x.Entries[0].Ballot.ID != "b-1" || x.Entries[1].Ballot.ID != "b-2" {
		t.Fatalf("entries %+v", x.Entries[:2])
	}
	x.Entries[1].Ballot.ID = "b-1" // the same marks: the same ballot to a store
	dupeHead := relink(t, x, true)
	dupe := writeExport(t, x)

	b := importer(t)
	e := mustError(t, b.do("POST", importPath("", dupeHead), dupe, asAdmin), http.StatusBadRequest, "log[1].ballot.id")
	if !strings.Contains(e.Message, "repeats the ballot id") || !strings.Contains(e.Message, "line 3") {
		t.Errorf("message %q", e.Message)
	}
	b.noRounds()
	mustStatus(t, b.do("GET", "/api/v1/contests/bch", nil, asAdmin), http.StatusNotFound)
	mustStatus(t, b.do("POST", importPath("", certified.Head), export, asAdmin), http.StatusCreated)
}

// Squatting (finding 16): one ward's round cannot take another's id
// unnoticed. Each import is anchored to its own minutes; a second round
// with an id already held is refused naming the holder.
func TestImportIDHeldByAnotherRound(t *testing.T) {
	ward5, ward7 := newHarness(t), newHarness(t)
	ward7.clock.Advance(time.Hour) // counted at another time: another log
	held, export5 := ward5.certifiedExport("bch")
	own, export7 := ward7.certifiedExport("bch", "title", "Bầu Ban Chấp hành Đảng bộ Phường 7")
	if own.Head == held.Head {
		t.Fatal("two wards' rounds must differ")
	}

	district := importer(t)
	mustStatus(t, district.do("POST", importPath("dh-p4", held.Head), export5, asAdmin), http.StatusCreated)
	// Ward 7's round under the same id, anchored by its own head: refused,
	// naming the round that holds the id and what anchored it.
	e := mustError(t, district.do("POST", importPath("dh-p4", own.Head), export7, asAdmin), http.StatusConflict, "record.contest.id")
	if !strings.Contains(e.Message, "another round, with the log head "+held.Head) || !strings.Contains(e.Message, "tied to its minutes by head") {
		t.Errorf("the holder is not named: %q", e.Message)
	}
	// A round counted here is never replaced by an import.
	e = mustError(t, ward7.do("POST", importPath("", own.Head), export7, asAdmin), http.StatusConflict, "record.contest.id")
	if !strings.Contains(e.Message, "created here") {
		t.Errorf("a local round's id: %q", e.Message)
	}
}

// failingStore is a real store whose appends fail, as a store that goes
// away does, after a number of them.
type failingStore struct {
	api.Store
	left atomic.Int64 // appends still allowed; below zero: all allowed
}

func (s *failingStore) Append(ctx context.Context, contest string, a tally.Append) (tally.Receipt, bool, error) {
	if s.left.Add(-1) == -1 {
		return tally.Receipt{}, false, &tally.Error{Kind: tally.Unavailable, Message: "the store went away; nothing was acknowledged"}
	}
	return s.Store.Append(ctx, contest, a)
}

// An import that this instance cannot finish (its store fails part-way)
// leaves an unfinished round that takes nothing and shows nothing; the
// same export imported again finishes it. Another export of the same id is
// refused while it is unfinished; a second import of the same round at the
// same time is refused while the first holds the id.
func TestImportResumesAfterStoreFailure(t *testing.T) {
	a := newHarness(t)
	certified, export := a.certifiedExport("bch", "visibility", "live")
	total := int64(len(parseExport(t, export).Entries))

	base := importer(t)
	st := &failingStore{Store: base.store}
	st.left.Store(3)
	b := &harness{t: t, server: &server{srv: api.New(st, api.Config{AdminToken: adminToken, Now: base.clock.Now}),
		store: base.store, path: base.path, clock: base.clock}}

	mustError(t, b.do("POST", importPath("dh-p4", certified.Head), export, asAdmin), http.StatusServiceUnavailable, "")
	var rec struct {
		State        string `json:"state"`
		Imported     string `json:"imported"`
		ImportFailed string `json:"import_failed"`
	}
	decode(t, b.do("GET", "/api/v1/contests/bch", nil, asAdmin), &rec)
	if rec.State != "open" || rec.Imported == "" || !strings.Contains(rec.ImportFailed, "import the same export again") {
		t.Errorf("the unfinished import's record %+v", rec)
	}
	if n := b.logLen("bch"); n != 3 || n >= total {
		t.Fatalf("%d of %d entries stored before the failure, want 3", n, total)
	}
	mustStatus(t, b.do("GET", "/api/v1/contests/bch/result", nil), http.StatusUnauthorized)
	mustError(t, b.postBallot("bch", tally.Ballot{ID: "z-1", Struck: []string{"c1"}}), http.StatusConflict, "state")

	// Another round with the same id does not take over what is stored.
	other := newHarness(t)
	otherRec, otherExport := other.certifiedExport("bch", "title", "Bầu Ban Chấp hành khác")
	e := mustError(t, b.do("POST", importPath("dh-p4", otherRec.Head), otherExport, asAdmin), http.StatusConflict, "record.contest.id")
	if !strings.Contains(e.Message, "unfinished import of another export") {
		t.Errorf("message %q", e.Message)
	}

	// A claim on the id held by an import still running: refused until it
	// lapses (a crashed instance's claim is taken over).
	claim, _ := json.Marshal(map[string]string{"until": b.clock.Now().Add(time.Minute).Format(time.RFC3339Nano)})
	if err := base.store.PutItem(context.Background(), "import_claim", "bch", claim); err != nil {
		t.Fatal(err)
	}
	e = mustError(t, b.do("POST", importPath("dh-p4", certified.Head), export, asAdmin), http.StatusConflict, "record.contest.id")
	if !strings.Contains(e.Message, "is running") {
		t.Errorf("message %q", e.Message)
	}
	b.clock.Advance(2 * time.Minute)

	st.left.Store(-1 << 40) // the store is back
	mustStatus(t, b.do("POST", importPath("dh-p4", certified.Head), export, asAdmin), http.StatusCreated)
	r := b.do("GET", "/contests/bch/export.jsonl", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if !bytes.Equal(r.body, export) {
		t.Errorf("the resumed import's export is not the file:\n%s\nwant\n%s", r.body, export)
	}
	rec.ImportFailed = "" // absent from a record that has it no more
	decode(t, b.do("GET", "/api/v1/contests/bch", nil, asAdmin), &rec)
	if rec.State != "certified" || rec.ImportFailed != "" {
		t.Errorf("after the resumed import: %+v", rec)
	}
	base.noRoundsClaimed()
}

// noRoundsClaimed checks that no import holds a claim.
func (h *harness) noRoundsClaimed() {
	h.t.Helper()
	claims, err := h.store.ListItems(context.Background(), "import_claim")
	if err != nil || len(claims) != 0 {
		h.t.Errorf("claims left behind: %v %v", claims, err)
	}
}
