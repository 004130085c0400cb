package tally

import "fmt"

// State is where a contest round is in its life (DESIGN §4).
type State string

const (
	StateDraft     State = "draft"     // setup; the checks run
	StateOpen      State = "open"      // counting: desks append ballots
	StateClosed    State = "closed"    // counted; the recount matched; minutes drafted
	StateCertified State = "certified" // frozen; the log head hash is on the minutes
)

// next is the only move out of each state: the lifecycle is a line.
var next = map[State]State{StateDraft: StateOpen, StateOpen: StateClosed, StateClosed: StateCertified}

var verbs = map[State]string{StateDraft: "return to draft", StateOpen: "open", StateClosed: "close", StateCertified: "certify"}

// CheckTransition refuses (kind Conflict) any move but draft → open →
// closed → certified.
func CheckTransition(from, to State) error {
	if next[from] == to {
		return nil
	}
	msg := fmt.Sprintf("cannot %s a contest that is %s", verbs[to], from)
	if want, ok := next[from]; ok {
		msg += fmt.Sprintf("; it can only be %s next", want)
	} else {
		msg += "; a certified round is frozen"
	}
	return &Error{Kind: Conflict, Field: "state", Message: msg}
}

// CheckIssued checks the ballot accounting at close: the ballots collected
// (in the log, not voided) cannot outnumber those handed out (số phiếu phát
// ra); the counting committee must find out why first (domain-rules §6.5).
func CheckIssued(issued, collected int) error {
	if issued < 0 {
		return Errorf("issued", "must not be negative; got %d", issued)
	}
	if collected > issued {
		return &Error{Kind: Conflict, Field: "issued", Message: fmt.Sprintf(
			"%d ballots were collected but only %d issued: the counting committee must resolve the difference before closing", collected, issued)}
	}
	return nil
}
