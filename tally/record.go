package tally

import (
	"crypto/sha256"
	"encoding/hex"
)

// Record is a contest round as the service keeps it: the definition, where
// it is in its life, and what closing and certifying recorded.
type Record struct {
	Contest *Contest `json:"contest"`
	State   State    `json:"state"`
	// Congress is the id of the congress the round belongs to (its minutes'
	// header and counting committee); empty for a contest on its own.
	Congress string `json:"congress,omitempty"`
	// Issued is the number of ballots handed out (số phiếu phát ra),
	// recorded at close.
	Issued *int `json:"issued,omitempty"`
	// Head is the hash of the log's last entry, recorded at close and
	// printed on the certified minutes.
	Head string `json:"head,omitempty"`
	// Version is the log length when the round was closed.
	Version int64 `json:"version,omitempty"`
	// Previous and Next link the rounds of one election (re-votes and
	// further rounds, DESIGN §4).
	Previous  string `json:"previous,omitempty"`
	Next      string `json:"next,omitempty"`
	Created   string `json:"created,omitempty"` // RFC 3339 times of each step
	Opened    string `json:"opened,omitempty"`
	Closed    string `json:"closed,omitempty"`
	Certified string `json:"certified,omitempty"`
	// Signature is the certifying instance's seal over the certified round
	// (CertificationMessage), set at certification; for an imported round,
	// the one of the instance that certified it. Absent for rounds
	// certified before instances had keys.
	Signature *Signature `json:"signature,omitempty"`
	// Imported is the RFC 3339 time a round counted and certified by
	// another instance was imported here (POST /imports); empty for a round
	// counted here. A record with Imported set that is not certified is an
	// import still running or one this instance could not finish (its
	// store failed: ImportFailed): it takes no ballots and no transitions,
	// its result is never shown as final, and the next import of the same
	// export finishes it.
	Imported string `json:"imported,omitempty"`
	// ImportAnchor is what tied an imported round to its certified minutes:
	// "head" (the head printed on them, given with the import) or
	// "key:<fingerprint>" (a signature under a key registered here).
	ImportAnchor string `json:"import_anchor,omitempty"`
	// ImportFailed says why an import stopped part-way: the store failed
	// (every check of the export passed before anything was stored).
	ImportFailed string `json:"import_failed,omitempty"`
	// Changes are the list's changes after it was first set: withdrawals,
	// nominations, names added to a later round (ListChange).
	Changes []ListChange `json:"changes,omitempty"`
}

// Receipt is what a desk gets back for an entry appended to the log; a
// retry of the same ballot gets the very same receipt.
type Receipt struct {
	Seq    int64  `json:"seq"`
	Hash   string `json:"hash"`
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"` // the invalid reason; absent when valid
}

// Append is what a store is asked to add to a round's log: a ballot already
// judged by the engine (its verdict and the counter keys it adds to), or
// the void of an earlier ballot. The store assigns Seq, Prev and Hash, and
// compares a ballot id it has seen by BallotDigest: same digest, a retry;
// another, a conflict.
type Append struct {
	Ballot *Ballot
	Reason Reason   // the ballot's verdict
	Keys   []string // counter keys the ballot adds one to (Contest.Effect)
	// Void names a ballot to withdraw; the store subtracts the counter keys
	// recorded with it.
	Void *Void
	Desk string
	// DeskID is the credential of the desk (Entry.DeskID); empty for a
	// ballot the service appends on its own account.
	DeskID string
	Time   string
}

// BallotDigest is SHA-256 of the ballot's canonical JSON: two submissions
// with one id are the same ballot exactly when their digests match.
func BallotDigest(b *Ballot) string {
	data, _ := b.MarshalJSON()
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Change tells watchers that a round's log or state moved on.
type Change struct {
	Contest string
	Version int64
}
