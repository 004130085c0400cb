package tally

// The procedure around the count (issue 12, DESIGN §7.2): the names the
// engine, the API and the pages share for show-of-hands records, the list
// as it changes, opinion and introduction ballots, the first meeting and
// appointments. Behaviour lives beside each concept (hands.go, round.go,
// contest.go, count.go, rollup.go); this file only fixes the vocabulary.

// Kinds added with issue 12.
const (
	// KindInspectionViceChair: phó chủ nhiệm ủy ban kiểm tra, elected by the
	// inspection committee's meeting from among its members.
	KindInspectionViceChair ContestKind = "inspection_vice_chair"
	// KindOpinion: phiếu xin ý kiến (190-QĐ/TW Điều 14.3). Each candidate is
	// a nominee from the floor or a self-nominee; one is admitted to the
	// election list when more than 30% of those present (Electorate.Present)
	// agree. Approve ballot; statuses admitted / not_admitted.
	KindOpinion ContestKind = "opinion"
	// KindIntroduction: phiếu giới thiệu (04-HD/TW 2024 item 8). Candidates
	// are the eligible body (e.g. the committee just elected); each voter
	// names up to Seats of them (ballot style "name"); the tally ranks them
	// and the top Seats form the list. Statuses introduced / tie /
	// not_introduced.
	KindIntroduction ContestKind = "introduction"
)

// StyleName is the introduction ballot: the voter names (ticks or writes)
// people of the eligible body; a ballot's "named" lists their ids.
const StyleName BallotStyle = "name"

// Statuses of opinion and introduction contests (Result.Candidates[].status).
// Their Result.Elected lists the admitted or introduced, by votes.
const (
	StatusAdmitted      Status = "admitted"       // opinion: more than 30% of those present agreed
	StatusNotAdmitted   Status = "not_admitted"   // opinion
	StatusIntroduced    Status = "introduced"     // introduction: on the list formed
	StatusNotIntroduced Status = "not_introduced" // introduction
)

// Nomination is where a candidate on a list came from (190 Điều 14.3).
type Nomination string

const (
	NominatedCommittee Nomination = "committee" // the convening committee's list (the default; omitted)
	NominatedFloor     Nomination = "floor"     // đề cử tại đại hội
	NominatedSelf      Nomination = "self"      // tự ứng cử
)

// Show-of-hands subjects added with issue 12 (hands.go has the first four).
const (
	SubjectPresidium            Subject = "presidium"             // đoàn chủ tịch / chủ tịch đại hội
	SubjectSecretariat          Subject = "secretariat"           // đoàn thư ký
	SubjectCredentialsCommittee Subject = "credentials_committee" // ban thẩm tra tư cách đại biểu
	SubjectWithdrawal           Subject = "withdrawal"            // cho rút khỏi danh sách: names Contest and Candidate
	SubjectAnotherRound         Subject = "another_round"         // bầu tiếp / bầu lần sau: names the closed Contest
)

// ListChangeAction is what happened to a list after it was first set.
type ListChangeAction string

const (
	ChangeWithdraw ListChangeAction = "withdraw" // rút khỏi danh sách
	ChangeNominate ListChangeAction = "nominate" // added: a nomination from the floor or a self-nomination
	ChangeAdd      ListChangeAction = "add"      // added to a later round by the congress's decision
)

// ListChange is one change of a round's list, kept on the round's Record
// (Record.Changes) and printed on its minutes: who, what, on whose decision.
type ListChange struct {
	Action    ListChangeAction `json:"action"`
	Candidate string           `json:"candidate"` // the candidate's id
	Name      string           `json:"name"`
	Source    Nomination       `json:"source,omitempty"` // for nominate/add
	Reason    string           `json:"reason,omitempty"`
	// Vote is the id of the show-of-hands record (CongressRecord.Votes) that
	// decided it; Opinion the opinion contest that admitted a nominee.
	Vote    string `json:"vote,omitempty"`
	Opinion string `json:"opinion,omitempty"`
	By      string `json:"by"`   // who recorded it (user or token name)
	Time    string `json:"time"` // RFC 3339
}

// Appointment is a body or office filled by the higher committee's decision
// (chỉ định) instead of a ballot: a branch secretary after three failed
// rounds, the committees of a new or merged organization. It is kept on the
// congress record and counted as appointed in the roll-up.
type Appointment struct {
	ID    string      `json:"id"`
	Kind  ContestKind `json:"kind"`
	Title string      `json:"title"`
	// People are those appointed, with the attributes the composition
	// report reads.
	People []Candidate `json:"people"`
	// Authority is who appointed ("Ban Thường vụ Quận ủy Quận 3"); Decision
	// the document ("Quyết định số 125-QĐ/QU"); Date its date (YYYY-MM-DD).
	Authority string `json:"authority"`
	Decision  string `json:"decision,omitempty"`
	Date      string `json:"date,omitempty"`
	// After names the contest whose failed rounds led to the appointment.
	After string `json:"after,omitempty"`
	Note  string `json:"note,omitempty"`
}
