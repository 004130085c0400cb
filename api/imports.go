package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kiemphieu/kiemphieu/tally"
)

const (
	// importTimeout bounds the re-appending of an imported log: one store
	// write per entry, far more than a request's storeTimeout for a large
	// round.
	importTimeout = 5 * time.Minute
	// importLease is how long an import holds its round id against another
	// import of the same id (itemImportClaim): longer than importTimeout,
	// after which the holder can no longer write, so a claim left by a
	// crashed instance is taken over, never one still in use.
	importLease = importTimeout + time.Minute
	// itemImportClaim: round id → importClaim, while an import runs.
	itemImportClaim = "import_claim"
)

func (s *Server) importRoutes(v1 fiber.Router) {
	v1.Post("/imports", bodyUpTo(maxBody), s.require(roleAdmin), s.importRound)
	v1.Get("/keys", s.require(roleAdmin), s.listKeys)
	v1.Post("/keys", s.require(roleAdmin), s.postKey)
	v1.Get("/keys/self", s.require(roleAdmin), s.getSelfKey)
	v1.Delete("/keys/:fingerprint", s.require(roleAdmin), s.deleteKey)
	s.importPageRoutes()
}

// importRound imports a round counted and certified by another instance —
// a ward that ran its own service offline — from its export (the body of
// GET /contests/{id}/export.jsonl): POST /imports?congress=ID&head=HEX.
func (s *Server) importRound(c *fiber.Ctx) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), importTimeout)
	defer cancel()
	rec, err := s.importExport(ctx, body, c.Query("congress"), c.Query("head"))
	if err != nil {
		return err
	}
	v, err := s.view(ctx, rec)
	if err != nil {
		return err
	}
	c.Location("/api/v1/contests/" + rec.Contest.ID)
	return c.Status(fiber.StatusCreated).JSON(v)
}

// importExport imports an export, filed under congress (empty: none). head
// is the log head printed on the round's certified minutes, as typed; it
// may be empty only when the export is signed under a key registered here.
//
// Every check comes before anything is stored: the export verifies as
// `kiemphieu verify` checks it, the round is certified, its signature (if
// any) verifies, it is anchored to the paper (the head, or a registered
// key), and its log keeps every rule a store keeps (CheckStoreRules). A
// refused import leaves nothing behind, so the round id stays free for the
// genuine export. Only then is the log rebuilt through the store (rebuild).
func (s *Server) importExport(ctx context.Context, body []byte, congress, head string) (*tally.Record, error) {
	// The body is bounded by the route's limit (maxBody): no line can be
	// longer than the body.
	x, err := tally.ReadExport(bytes.NewReader(body), maxBody+1)
	if err != nil {
		var xe *tally.ExportError
		if errors.As(err, &xe) {
			return nil, errorf(tally.Invalid, xe.Field, "line %d: %s", xe.Line, xe.Message)
		}
		return nil, errorf(tally.Invalid, "", "not a kiemphieu export: %v", err)
	}
	logHead, _, err := x.Verify()
	if err != nil {
		p := tally.Problems(err)[0]
		return nil, errorf(tally.Invalid, p.Field, "the export does not verify (line %d): %v", x.Line(p.Field), err)
	}
	orig := x.Record
	if orig.State != tally.StateCertified {
		return nil, refused(errorf(tally.Invalid, "record.state", "the round is %s: only a certified round's results can be imported; certify it where it was counted, then export it again", orig.State), "imports.refused.not_certified")
	}
	if orig.Issued == nil || orig.Closed == "" || orig.Certified == "" {
		return nil, errorf(tally.Invalid, "record", "a certified round records the ballots issued and the times it closed and was certified; this record lacks them")
	}
	anchor, err := s.importAnchor(ctx, orig, logHead, head)
	if err != nil {
		return nil, err
	}
	if err := tally.CheckStoreRules(orig.Contest, x.Entries); err != nil {
		p := tally.Problems(err)[0]
		return nil, errorf(tally.Invalid, p.Field, "no kiemphieu store wrote this log (line %d): %s", x.Line(p.Field), p.Message)
	}
	if congress != "" {
		if _, err := s.congress(ctx, congress); err != nil {
			return nil, err
		}
	}
	id := orig.Contest.ID
	release, err := s.claimImport(ctx, id)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.rebuild(ctx, x, logHead, congress, anchor)
}

// importAnchor decides what ties the export to its certified minutes, and
// refuses it when nothing does. A signature that does not verify is
// refused outright, head or not: the file was changed after it was signed.
// A head given must be the log's. With no head, the signature must verify
// under a key registered here.
func (s *Server) importAnchor(ctx context.Context, rec *tally.Record, logHead, head string) (string, error) {
	pub, err := tally.CheckSignature(rec)
	if err != nil {
		p := tally.Problems(err)[0]
		return "", refused(errorf(tally.Invalid, p.Field, "the export's signature is refused: %s; nothing was stored", p.Message), "imports.refused.signature")
	}
	if head != "" {
		typed := normalizeHash(head)
		if !hashPattern.MatchString(typed) {
			return "", refused(errorf(tally.Invalid, "head", "%.80q is not a log head hash: one is 64 characters 0–9 and a–f, as printed on the certified minutes", head), "imports.refused.head_malformed", fmt.Sprintf("%.80s", head))
		}
		if typed != logHead {
			return "", refused(errorf(tally.Invalid, "head", "the export's log ends with %s, not with the head given (%s): this is not the log the certified minutes were printed from; nothing was stored", logHead, typed), "imports.refused.head_differs", logHead)
		}
		return "head", nil
	}
	if pub == nil {
		return "", refused(errorf(tally.Invalid, "head", "required: the log head hash printed (and in the QR code) on the round's certified minutes; this export is not signed, so only the head ties it to them"), "imports.refused.head_missing")
	}
	k, err := s.registeredKey(ctx, pub)
	if err != nil {
		return "", err
	}
	if k == nil {
		fp := tally.Fingerprint(pub)
		return "", refused(errorf(tally.Invalid, "head", "required: the export is signed by the key %s, which is not registered here; give the head printed on the round's certified minutes, or register the key (POST /api/v1/keys) once its fingerprint is checked against the minutes", fp), "imports.refused.head_unregistered", fp)
	}
	return "key:" + tally.FingerprintKey(k.Fingerprint), nil
}

// rebuild appends the export's log through the store, entry by entry with
// the original desk and time, so that the store's own hash chain must
// reproduce every hash of the export: the imported round is then one like
// any counted here (its result, minutes, /verify/{hash} and export). Until
// the last step the record is open, marked Imported, and never shown as a
// result.
//
// If this instance fails part-way (the store, a crash), the record stays
// so, with ImportFailed when the failure could be recorded; importing the
// same export again finds the entries already stored (resumable) and goes
// on from there.
func (s *Server) rebuild(ctx context.Context, x *tally.Export, head, congress, anchor string) (*tally.Record, error) {
	orig := x.Record
	id := orig.Contest.ID
	now := s.stamp()
	// The record starts as a draft marked Imported: the store takes
	// entries only while a round is open, and the mark keeps desks,
	// transitions and anonymous viewers away until the import is done.
	// Congress is local filing (the minutes' header and committee of this
	// instance); the links to other rounds are the election's own.
	pending := &tally.Record{Contest: orig.Contest, State: tally.StateDraft, Congress: congress,
		Previous: orig.Previous, Next: orig.Next, Created: orig.Created, Imported: now, ImportAnchor: anchor}
	var from int64 // entries already in the store
	switch err := s.store.CreateContest(ctx, pending); {
	case tally.ErrorKind(err) == tally.Conflict:
		if from, err = s.resumable(ctx, x, head); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	if _, err := s.store.Update(ctx, id, func(rec *tally.Record, _ int64) error {
		if rec.Imported == "" || rec.State == tally.StateCertified {
			return errorf(tally.Conflict, "record.contest.id", "the round %q changed while it was imported", id)
		}
		rec.State, rec.Opened, rec.Congress, rec.Next = tally.StateOpen, orig.Opened, congress, orig.Next
		rec.Imported, rec.ImportAnchor, rec.ImportFailed = now, anchor, ""
		return nil
	}); err != nil {
		return nil, s.importFailed(id, err)
	}

	index := orig.Contest.Index()
	for _, e := range x.Entries[from:] {
		a := tally.Append{Desk: e.Desk, DeskID: e.DeskID, Time: e.Time}
		if e.Ballot != nil {
			m, err := orig.Contest.Mark(*e.Ballot, index) // CheckStoreRules marked it already
			if err != nil {
				return nil, s.importFailed(id, err)
			}
			a.Ballot = e.Ballot
			a.Reason, a.Keys = orig.Contest.Effect(m)
		} else {
			a.Void = &tally.Void{Ballot: e.Void.Ballot, Reason: e.Void.Reason}
		}
		rcpt, created, err := s.store.Append(ctx, id, a)
		if err == nil && (!created || rcpt.Seq != e.Seq || rcpt.Hash != e.Hash) {
			// The export passed every rule a store keeps: a store that
			// writes it otherwise is at fault, not the file.
			err = fmt.Errorf("import of %s: entry %d rebuilt as seq %d with hash %s (created %t), not with hash %s", id, e.Seq, rcpt.Seq, rcpt.Hash, created, e.Hash)
		}
		if err != nil {
			return nil, s.importFailed(id, err)
		}
	}

	// The whole log again, as it is stored: its head must be the head
	// recorded when the round closed, and its counters its recount.
	got, version, _, err := s.recount(ctx, id)
	if err == nil && (got != head || version != orig.Version) {
		err = fmt.Errorf("import of %s: the log rebuilt here ends at entry %d with %s, not at entry %d with %s", id, version, got, orig.Version, head)
	}
	if err != nil {
		return nil, s.importFailed(id, err)
	}
	rec, err := s.store.Update(ctx, id, func(rec *tally.Record, v int64) error {
		if v != orig.Version {
			return fmt.Errorf("import of %s: the log moved to %d during the import", id, v)
		}
		issued := *orig.Issued
		rec.State, rec.Issued, rec.Head, rec.Version = tally.StateCertified, &issued, orig.Head, orig.Version
		rec.Closed, rec.Certified, rec.Signature, rec.Imported = orig.Closed, orig.Certified, orig.Signature, s.stamp()
		return nil
	})
	if err != nil {
		return nil, s.importFailed(id, err)
	}
	s.broker.Notify(id)
	s.log.Info("round imported", "contest", id, "entries", version, "head", head, "congress", congress, "anchor", anchor, "resumed_at", from)
	return rec, nil
}

// resumable decides what to do with a round id that exists here: an
// import of this same export that did not finish goes on after the entries
// already stored (their number is returned); anything else holds the id,
// and the answer says what holds it.
func (s *Server) resumable(ctx context.Context, x *tally.Export, head string) (int64, error) {
	id := x.Record.Contest.ID
	rec, err := s.store.Contest(ctx, id)
	if err != nil {
		return 0, err
	}
	taken := func(key string, keyArgs []any, format string, args ...any) error {
		return refused(errorf(tally.Conflict, "record.contest.id", "a round %q already exists here: "+format+"; it cannot be imported again", append([]any{id}, args...)...), key, keyArgs...)
	}
	switch {
	case rec.Imported == "":
		return 0, taken("imports.refused.taken_local", []any{id}, "it was created here (state %s%s)", rec.State, headNote(rec))
	case rec.State == tally.StateCertified && rec.Head == head:
		return 0, taken("imports.refused.taken_same", []any{id, rec.Imported}, "this very round (head %s) was imported at %s", head, rec.Imported)
	case rec.State == tally.StateCertified:
		return 0, taken("imports.refused.taken_other", []any{id, rec.Head, rec.Imported}, "another round, with the log head %s, was imported at %s (tied to its minutes by %s): ward ids must be distinct across the district", rec.Head, rec.Imported, rec.ImportAnchor)
	}
	// An import that did not finish: the same export if the definition is
	// the same and the stored log is a prefix of this one (one entry's hash
	// covers every entry before it).
	_, version, err := s.store.Counters(ctx, id)
	if err != nil {
		return 0, err
	}
	same := tally.ContestDigest(rec.Contest) == tally.ContestDigest(x.Record.Contest) && version <= int64(len(x.Entries))
	if same && version > 0 {
		last, err := s.store.Entries(ctx, id, version-1, 1)
		if err != nil {
			return 0, err
		}
		same = len(last) == 1 && last[0].Hash == x.Entries[version-1].Hash
	}
	if !same {
		return 0, taken("imports.refused.taken_unfinished", []any{id}, "an unfinished import of another export (%d entries stored, started at %s) holds it", version, rec.Imported)
	}
	s.log.Warn("resuming an unfinished import", "contest", id, "stored", version, "of", len(x.Entries), "failed", rec.ImportFailed)
	return version, nil
}

func headNote(rec *tally.Record) string {
	if rec.Head == "" {
		return ""
	}
	return ", log head " + rec.Head
}

// importClaim holds a round id for one import at a time, so that two
// imports of one id (two clicks, two instances) never append together.
type importClaim struct {
	Until string `json:"until"` // RFC 3339: after it, the claim is stale
}

// claimImport takes the round id for this import, by compare-and-set in
// the store; a claim older than importLease (left by a crashed instance)
// is taken over. release gives it back.
func (s *Server) claimImport(ctx context.Context, id string) (release func(), err error) {
	mine, _ := json.Marshal(importClaim{Until: s.now().Add(importLease).UTC().Format(time.RFC3339Nano)})
	release = func() {
		ctx, cancel := storeCtx()
		defer cancel()
		if err := s.store.DeleteItem(ctx, itemImportClaim, id); err != nil {
			s.log.Error("import claim not released; it lapses by itself", "contest", id, "err", err)
		}
	}
	for range 3 {
		ok, err := s.store.SwapItem(ctx, itemImportClaim, id, nil, mine)
		if err != nil || ok {
			return release, err
		}
		cur, err := s.store.Item(ctx, itemImportClaim, id)
		if tally.ErrorKind(err) == tally.NotFound {
			continue // released meanwhile
		}
		if err != nil {
			return nil, err
		}
		var held importClaim
		var until time.Time
		perr := json.Unmarshal(cur, &held)
		if perr == nil {
			until, perr = time.Parse(time.RFC3339Nano, held.Until)
		}
		if perr == nil && s.now().Before(until) {
			return nil, refused(errorf(tally.Conflict, "record.contest.id", "an import of the round %q is running; try again once it has finished (at the latest %s)", id, until.Format(time.RFC3339)), "imports.refused.running", id)
		}
		if ok, err = s.store.SwapItem(ctx, itemImportClaim, id, cur, mine); err != nil || ok {
			return release, err
		}
	}
	return nil, refused(errorf(tally.Conflict, "record.contest.id", "another import of the round %q has just started", id), "imports.refused.running", id)
}

// importFailed records on the unfinished round why this instance could not
// finish its import (the store failed; nothing about the export is wrong:
// it passed every check first), and returns the error as it is. The next
// import of the same export goes on from where this one stopped.
func (s *Server) importFailed(id string, err error) error {
	ctx, cancel := storeCtx()
	defer cancel()
	s.log.Error("import failed", "contest", id, "err", err)
	if _, uerr := s.store.Update(ctx, id, func(rec *tally.Record, _ int64) error {
		if rec.Imported == "" || rec.State == tally.StateCertified {
			return nil
		}
		rec.ImportFailed = err.Error() + "; import the same export again to finish"
		return nil
	}); uerr != nil {
		s.log.Error("import failed and could not be marked", "contest", id, "err", uerr)
	}
	return err
}
