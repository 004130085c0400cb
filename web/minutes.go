package web

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/kiemphieu/kiemphieu/tally"
)

// MinutesInput is what the counting minutes (biên bản kiểm phiếu) of one
// contest round are drawn from.
type MinutesInput struct {
	// Congress names the organization, the congress, its counting committee
	// and its show-of-hands votes; nil for a contest held on its own.
	Congress *tally.CongressRecord
	// Record is the round (required, with its Contest).
	Record *tally.Record
	// Result is the round's result; nil means no ballot was counted yet.
	Result *tally.Result
	// Notes are the counting committee's additions: those present,
	// the paper count of ballots collected, complaints.
	Notes tally.RoundNotes
	// Rounds are the ids of earlier rounds of this election, whose
	// show-of-hands votes (the number to elect, the list) still apply.
	Rounds []string
	// EarlierChanges are the list's changes kept on those earlier rounds,
	// the first round first (minutes_changes.go).
	EarlierChanges []MinutesRoundChanges
	// VerifyURL is where the printed hash can be checked; it becomes the
	// QR code. Left out when empty or when the round has no head yet.
	VerifyURL string
	// Journal is the entry journal of a verified round (double or triple
	// entry); nil for single entry.
	Journal *EntryJournal
	// Voids are the voids of the round's log in log order, and
	// BallotNotes the ballots of the log that carry a note (voided or not).
	Voids       []MinutesVoid
	BallotNotes []tally.Entry
	// Public: the copy is for a reader who did not sign in. It leaves out
	// the free text of ballot notes and every keying of the entry journal:
	// the per-ballot record is the committees' (docs/architecture.md).
	Public bool
}

// Minutes is the counting minutes of one round (domain-rules §6.3) with
// every field already written in Vietnamese, in the order printed. The
// HTML print view and the PDF render this one model, so they say the same
// things in the same order.
type Minutes struct {
	ContestID string
	Round     int
	State     tally.State
	// Finished is true once the round is closed: the log has a head and
	// the ballot accounting is final.
	Finished bool
	// Draft is true until the round is certified: every page carries
	// Watermark (DỰ THẢO) and Notice says why.
	Draft     bool
	Watermark string
	Notice    string

	Header     MinutesHeader
	Title      string // BIÊN BẢN KIỂM PHIẾU
	Contest    string // the contest's title: "Bầu Ban Chấp hành …"
	RoundText  string // "Lần 1"
	Congress   string // "Đại hội … lần thứ XII, nhiệm kỳ 2025–2030"; empty without a congress record
	LegalBasis []string
	Opening    string

	Setup      MinutesPart  // I: seats, list, show-of-hands votes, counting committee
	Changes    MinutesPart  // II: the list's changes (withdrawals, nominations, additions)
	Count      MinutesPart  // III: convened, exclusions, D, threshold, attendance, ballots
	Results    MinutesTable // IV: candidates in ballot order
	Elected    MinutesElected
	Makeup     *MinutesPart // composition of those elected; nil when nobody is elected
	Complaints MinutesPart
	// Corrections lists every void and every ballot note of the log.
	Corrections MinutesCorrections

	Closing    []string
	Signatures MinutesSignatures
	Verify     MinutesVerification
	// Journal is the annex of a verified round: the entry journal; nil
	// for single entry.
	Journal *MinutesJournal
	// Footer is the running line at the foot of each PDF page.
	Footer string
	// Date is the latest time the record holds (certified, else closed,
	// opened, created): the PDF's creation date, so that printing the same
	// round twice gives the same file. Zero when the record holds none.
	Date time.Time
}

// MinutesHeader is the top of the first page in the Party's layout: the issuing
// bodies on the left, the Party's name, place and date on the right.
type MinutesHeader struct {
	Left      []MinutesHeaderLine
	Party     string // ĐẢNG CỘNG SẢN VIỆT NAM
	PlaceDate string // "Phường 4, ngày 20 tháng 5 năm 2025"
}

// MinutesHeaderLine is one line of the left header block.
type MinutesHeaderLine struct {
	Text string
	Bold bool
}

// MinutesPart is a numbered section of label–value lines.
type MinutesPart struct {
	Heading string
	Lines   []MinutesLine
}

// MinutesLine is one line of a part: "Label: Value", or Value alone when Label
// is empty. Indent 1 nests it under the line before. Mark is a short
// verdict printed after it ("100% tán thành"); Warning flags a
// consistency check the committee must resolve.
type MinutesLine struct {
	Label   string
	Value   string
	Indent  int
	Mark    string
	Warning bool
}

// Text is the line as one string: what a reader of either rendering reads
// (the PDF sets the mark in bold within it).
func (l MinutesLine) Text() string {
	s := l.Value
	if l.Label != "" {
		s = l.Label + ": " + l.Value
	}
	if l.Mark != "" {
		s += " — " + l.Mark
	}
	return s
}

// MinutesTable is a table of the minutes. Widths are in millimetres of the PDF's
// text width; the HTML uses them as proportions.
type MinutesTable struct {
	Heading string
	Note    string
	Columns []MinutesColumn
	Rows    []MinutesRow
}

// MinutesColumn is a table column.
type MinutesColumn struct {
	Title string
	Align string // "L", "C" or "R", as fpdf spells it
	Width float64
}

// CSSAlign is the column's alignment for the HTML view.
func (c MinutesColumn) CSSAlign() string {
	switch c.Align {
	case "R":
		return "right"
	case "C":
		return "center"
	}
	return "left"
}

// MinutesRow is a table row; Strong rows (the elected) print in bold.
type MinutesRow struct {
	Cells  []string
	Strong bool
}

// MinutesElected is the outcome: who is elected in order of votes, then ties
// needing a re-vote and vacant seats.
type MinutesElected struct {
	Heading string
	Intro   string
	Table   *MinutesTable // nil when nobody is elected
	Notes   []string
}

// MinutesSignatures are the signature blocks of the counting committee.
type MinutesSignatures struct {
	MembersTitle string // CÁC ỦY VIÊN
	Members      []string
	HeadTitle    string // TRƯỞNG BAN KIỂM PHIẾU
	Head         string
	Hint         string // (Ký, ghi rõ họ tên)
}

// MinutesVerification is the block that ties the paper to the stored log: the
// head hash in full and a QR code of the page that checks it.
type MinutesVerification struct {
	Heading string
	Hash    string // empty until the round is closed
	Lines   []string
	URL     string
	QR      []byte       // PNG; nil without a URL or a hash
	QRData  template.URL // QR as a data: URL for the HTML view
}

// Fixed wording of the minutes.
const (
	minutesParty  = "ĐẢNG CỘNG SẢN VIỆT NAM"
	minutesIssuer = "BAN KIỂM PHIẾU"
	minutesDraft  = "DỰ THẢO"
)

// minutesBasis is the legal basis of every counting: the Party Charter and
// the election regulation of 190-QĐ/TW (domain-rules §0).
var minutesBasis = []string{
	"Căn cứ Điều lệ Đảng Cộng sản Việt Nam;",
	"Căn cứ Quy chế bầu cử trong Đảng ban hành kèm theo Quyết định số 190-QĐ/TW, ngày 10-10-2024;",
}

// minutesZone is the zone the minutes' times are written in. The fixed +07:00
// fallback is exact for every date since 1975, and keeps the minutes right
// on a system without tzdata.
var minutesZone = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*60*60)
})

// minutesDate writes a day as Party documents do (36-HD/VPTW): "ngày 20 tháng 5
// năm 2025", a day below 10 and the months 1 and 2 with a leading zero, so
// that nothing can be written in front of them later.
func minutesDate(t time.Time) string {
	day := fmt.Sprint(t.Day())
	if t.Day() < 10 {
		day = "0" + day
	}
	month := fmt.Sprint(int(t.Month()))
	if t.Month() < 3 {
		month = "0" + month
	}
	return fmt.Sprintf("ngày %s tháng %s năm %d", day, month, t.Year())
}

// minutesClock writes a time of day as a biên bản does: "14 giờ 05 phút".
func minutesClock(t time.Time) string {
	return fmt.Sprintf("%d giờ %02d phút", t.Hour(), t.Minute())
}

// minutesStamp writes an RFC 3339 stamp of the record in Vietnam time: "14 giờ 05 phút,
// ngày 20 tháng 5 năm 2025"; ok is false for an empty or malformed stamp.
func minutesStamp(stamp string) (string, bool) {
	t, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return "", false
	}
	t = t.In(minutesZone())
	return minutesClock(t) + ", " + minutesDate(t), true
}

var minutesCount = tally.FormatCount

// people writes a number of people: "25 đồng chí".
func minutesPeople(n int) string { return minutesCount(n) + " đồng chí" }

// BuildMinutes lays out the minutes of a round. It reads no clock: every
// time printed is one the record holds, so the same input gives the same
// minutes.
func BuildMinutes(in MinutesInput) *Minutes {
	rec := in.Record
	c := rec.Contest
	res := in.Result
	if res == nil {
		res = tally.NewCount(c).Result() // no ballot yet: the empty count
	}
	m := &Minutes{
		ContestID:  c.ID,
		Round:      c.Round,
		State:      rec.State,
		Finished:   rec.Head != "" && (rec.State == tally.StateClosed || rec.State == tally.StateCertified),
		Draft:      rec.State != tally.StateCertified,
		Title:      c.Kind.CountTitle(),
		Contest:    c.Title,
		RoundText:  fmt.Sprintf("Lần %d", c.Round),
		LegalBasis: minutesBasis,
	}
	switch {
	case !m.Finished:
		m.Notice = "Kiểm phiếu chưa kết thúc: các số liệu dưới đây là tạm thời."
	case m.Draft:
		m.Notice = "Kiểm phiếu đã kết thúc; biên bản chưa được chứng nhận."
	}
	if m.Draft {
		m.Watermark = minutesDraft
	}
	m.Header = minutesHeader(in.Congress, rec)
	if cg := in.Congress; cg != nil {
		m.Congress = cg.Name
		if r := tally.RomanOrdinal(cg.Ordinal); r != "" {
			m.Congress += " lần thứ " + r
		}
		if cg.Term != "" {
			m.Congress += ", nhiệm kỳ " + cg.Term
		}
	}
	m.Opening = minutesOpening(in.Congress, rec)

	part := 0
	next := func(title string) string {
		part++
		return tally.RomanOrdinal(part) + ". " + title
	}
	m.Setup = minutesSetup(next("SỐ LƯỢNG BẦU, DANH SÁCH BẦU CỬ VÀ BAN KIỂM PHIẾU"), in, res)
	m.Setup.Lines = append(m.Setup.Lines, minutesListWarnings(in)...)
	m.Changes = minutesListChanges(next("THAY ĐỔI DANH SÁCH BẦU CỬ"), in)
	m.Count = minutesCounting(next("SỐ NGƯỜI BẦU VÀ SỐ PHIẾU"), in, res, m.Finished)
	m.Count.Lines = append(m.Count.Lines, minutesWarningLines(tally.ResultWarnings(res))...)
	m.Results = minutesResults(next("KẾT QUẢ KIỂM PHIẾU"), c, res)
	if c.Kind.Elects() {
		m.Elected = minutesElected(next(c.Kind.OutcomeHeading()), c, res, m.Finished)
	} else {
		m.Elected = minutesListFormed(next(c.Kind.OutcomeHeading()), c, res, m.Finished)
	}
	if res.Composition != nil {
		p := minutesMakeup(next("CƠ CẤU NGƯỜI TRÚNG CỬ"), c, res.Composition)
		m.Makeup = &p
	}
	m.Complaints = minutesComplaints(next("KHIẾU NẠI VÀ VIỆC GIẢI QUYẾT"), in.Notes)
	m.Corrections = minutesCorrections(next("HỦY PHIẾU ĐÃ NHẬP VÀ GHI CHÚ VỀ PHIẾU"), c, in.Voids, in.BallotNotes, in.Public)
	m.Closing = minutesClosing(rec, res, m.Finished)
	m.Signatures = minutesSignatures(in.Congress)
	m.Verify = minutesVerification(rec, in.VerifyURL)
	m.Journal = minutesJournal(c, in.Journal, m.Finished, in.Public)
	for _, stamp := range []string{rec.Certified, rec.Closed, rec.Opened, rec.Created} {
		if t, err := time.Parse(time.RFC3339, stamp); err == nil {
			m.Date = t.UTC()
			break
		}
	}
	m.Footer = fmt.Sprintf("Biên bản kiểm phiếu %s, lần %d", c.ID, c.Round)
	if rec.Head != "" {
		m.Footer += " · mã sổ phiếu " + rec.Head[:min(len(rec.Head), 16)] + "…"
	}
	return m
}

// header: the superior committee, the organization and the counting
// committee on the left; the place and date on the right, the date being
// the day the minutes were drawn up (the round's close), else the
// congress's day. The place is the locality (địa danh, 36-HD/VPTW), not
// the hall: minutesLocality.
func minutesHeader(cg *tally.CongressRecord, rec *tally.Record) MinutesHeader {
	h := MinutesHeader{Party: minutesParty}
	place := ""
	var day time.Time
	if cg != nil {
		if cg.Superior != "" {
			h.Left = append(h.Left, MinutesHeaderLine{Text: strings.ToUpper(cg.Superior)})
		}
		h.Left = append(h.Left, MinutesHeaderLine{Text: strings.ToUpper(cg.Organization), Bold: true})
		place = minutesLocality(cg)
		if d, err := time.Parse(time.DateOnly, cg.Date); err == nil {
			day = d
		}
	}
	h.Left = append(h.Left, MinutesHeaderLine{Text: minutesIssuer, Bold: true})
	if t, err := time.Parse(time.RFC3339, rec.Closed); err == nil {
		day = t.In(minutesZone())
	}
	var parts []string
	if place != "" {
		parts = append(parts, place)
	}
	if !day.IsZero() {
		parts = append(parts, minutesDate(day))
	}
	h.PlaceDate = strings.Join(parts, ", ")
	return h
}

// minutesUnits are the administrative units a party organisation is named
// after ("Đảng bộ phường Hoàn Kiếm"), longest first.
var minutesUnits = []string{"thành phố", "thị trấn", "thị xã", "đặc khu", "phường", "huyện", "quận", "tỉnh", "xã"}

// minutesLocality is the địa danh of the place and date line: the
// administrative unit the organisation is named after, without the unit's
// word unless the unit is a number ("Đảng bộ phường Hoàn Kiếm" → "Hoàn
// Kiếm", "Đảng bộ Phường 4" → "Phường 4", "Đảng bộ tỉnh Nghệ An" → "Nghệ
// An"), as 36-HD/VPTW writes it. An organisation not named after a unit
// (a party committee of an agency) has no locality in its name: then the
// congress's place, as typed.
func minutesLocality(cg *tally.CongressRecord) string {
	name := strings.Join(strings.Fields(cg.Organization), " ")
	for _, prefix := range []string{"Đảng bộ ", "Chi bộ ", "Đảng ủy "} {
		if len(name) > len(prefix) && strings.EqualFold(name[:len(prefix)], prefix) {
			name = name[len(prefix):]
			break
		}
	}
	lower := strings.ToLower(name)
	for _, unit := range minutesUnits {
		if !strings.HasPrefix(lower, unit+" ") {
			continue
		}
		rest := strings.TrimSpace(name[len(unit):])
		if _, err := strconv.Atoi(rest); err == nil {
			return strings.ToUpper(name[:1]) + name[1:] // "Phường 4": a number needs its unit
		}
		return rest
	}
	return strings.TrimSpace(cg.Place)
}

// minutesOpening is the place and time line of the form: "Vào lúc 9 giờ
// 30 phút, ngày …, tại <the hall>, Ban Kiểm phiếu đã tiến hành kiểm
// phiếu. Kết quả như sau:".
func minutesOpening(cg *tally.CongressRecord, rec *tally.Record) string {
	var s string
	if when, ok := minutesStamp(rec.Opened); ok {
		s = "Vào lúc " + when
	}
	if cg != nil && cg.Place != "" {
		if s == "" {
			s = "Tại " + cg.Place
		} else {
			s += ", tại " + cg.Place
		}
	}
	if s == "" {
		return "Ban Kiểm phiếu đã tiến hành kiểm phiếu. Kết quả như sau:"
	}
	return s + ", Ban Kiểm phiếu đã tiến hành kiểm phiếu. Kết quả như sau:"
}

func minutesSetup(heading string, in MinutesInput, res *tally.Result) MinutesPart {
	c := in.Record.Contest
	seats, list := "Số lượng cần bầu", "Số người trong danh sách bầu cử"
	switch c.Kind {
	case tally.KindOpinion: // each nominee is asked about on their own
		seats, list = "Số người được xin ý kiến", "Số người trong phiếu xin ý kiến"
	case tally.KindIntroduction: // the list to form, from the eligible body
		seats, list = "Số người cần giới thiệu", "Số người có thể được giới thiệu"
	}
	p := MinutesPart{Heading: heading, Lines: []MinutesLine{
		{Label: seats, Value: minutesPeople(c.Seats)},
		{Label: list, Value: minutesPeople(len(c.Candidates))},
	}}
	cg := in.Congress
	if cg == nil {
		return p
	}
	// A certified round prints the votes recorded up to its certification:
	// a vote taken later (another round, the next list) does not alter
	// minutes already signed (VotesFor).
	until := ""
	if in.Record.State == tally.StateCertified {
		until = in.Record.Certified
	}
	votes := cg.VotesFor(until, append([]string{c.ID}, in.Rounds...)...)
	who := "Đại hội"
	if c.Electorate.Congress == tally.CongressBody {
		// A committee meeting (the first meeting) is another body than the
		// congress: its minutes print the votes on its own rounds, not the
		// congress's presidium or counting committee, decided on another D.
		who = "Hội nghị"
		votes = slices.DeleteFunc(votes, func(v tally.ShowOfHands) bool { return v.Contest == "" })
	}
	if len(votes) > 0 {
		p.Lines = append(p.Lines, MinutesLine{Value: who + " đã biểu quyết (giơ tay):"})
	}
	// The votes naming this round or an earlier round of its election are
	// decided on this round's D: the rounds of one election keep one D
	// (DESIGN §4). The others are the congress's, on its own D.
	d := c.Denominator()
	roundD := func(string) (int, bool) { return d, true }
	for _, v := range votes {
		p.Lines = append(p.Lines, minutesVote(cg.Decide(v, roundD, c.Percent), in.Record))
	}
	if members := minutesCommittee(cg); len(members) > 0 {
		p.Lines = append(p.Lines, MinutesLine{Value: "Ban Kiểm phiếu gồm các đồng chí:"})
		for i, mb := range members {
			p.Lines = append(p.Lines, MinutesLine{Indent: 1, Value: fmt.Sprintf("%d. %s — %s", i+1, mb.Name, mb.Role.Vietnamese())})
		}
	}
	return p
}

// minutesVote is one show-of-hands vote as the minutes print it: the
// figures, their shares of D and D itself, then the outcome on D
// (2·approve > D; Charter Điều 9.5, Quy định 294-QĐ/TW §9.3) and, when
// every one present approved, that too — it is not 100% of D. Without D
// the minutes print the figures only, shares of those present, and say so.
func minutesVote(r tally.HandsResult, rec *tally.Record) MinutesLine {
	base := "của D"
	if r.Denominator == nil {
		base = "của số có mặt"
	}
	value := fmt.Sprintf("có mặt %s; tán thành %s (%s %s), không tán thành %s (%s), ý kiến khác %s (%s)",
		minutesCount(r.Present), minutesCount(r.Approve), r.ApproveShare.Text, base, minutesCount(r.Disapprove), r.DisapproveShare.Text,
		minutesCount(r.Other), r.OtherShare.Text)
	var marks []string
	switch r.Outcome() {
	case "passed":
		value += "; D = " + minutesCount(*r.Denominator)
		marks = append(marks, "thông qua")
	case "not_passed":
		value += "; D = " + minutesCount(*r.Denominator)
		marks = append(marks, "không thông qua")
	default:
		value += "; chưa có số để tính tỷ lệ (D), chỉ ghi số liệu"
	}
	if r.Unanimous {
		who := "đại biểu"
		if rec != nil && rec.Contest.Electorate.Congress == tally.CongressBody {
			who = "thành viên" // a committee meeting's members, not delegates
		}
		marks = append(marks, "100% "+who+" có mặt tán thành")
	}
	return MinutesLine{Label: minutesVoteLabel(r.ShowOfHands, rec), Indent: 1, Value: value, Mark: strings.Join(marks, "; ")}
}

// minutesVoteLabel names what a vote decided; a withdrawal names the
// candidate, from the round's list or its list changes.
func minutesVoteLabel(v tally.ShowOfHands, rec *tally.Record) string {
	label := v.Vietnamese()
	if v.Subject != tally.SubjectWithdrawal || v.Title != "" {
		return label
	}
	name := v.Candidate
	for _, c := range rec.Contest.Candidates {
		if c.ID == v.Candidate {
			name = c.Name
		}
	}
	for _, ch := range rec.Changes {
		if ch.Candidate == v.Candidate && ch.Name != "" {
			name = ch.Name
		}
	}
	return label + ": đồng chí " + name
}

// committee lists the counting committee head first, then deputies, then
// members, each group in the order recorded.
func minutesCommittee(cg *tally.CongressRecord) []tally.CommitteeMember {
	var out []tally.CommitteeMember
	for _, role := range []tally.CommitteeRole{tally.RoleHead, tally.RoleDeputyHead, tally.RoleMember} {
		for _, mb := range cg.CountingCommittee {
			if mb.Role == role {
				out = append(out, mb)
			}
		}
	}
	return out
}

func minutesCounting(heading string, in MinutesInput, res *tally.Result, finished bool) MinutesPart {
	rec, c, notes := in.Record, in.Record.Contest, in.Notes
	e := c.Electorate
	p := MinutesPart{Heading: heading}
	add := func(l MinutesLine) { p.Lines = append(p.Lines, l) }

	add(MinutesLine{Label: e.Congress.ConvenedVietnamese(), Value: minutesPeople(e.Convened)})
	formula := minutesCount(e.Convened)
	for _, x := range e.ExclusionLines() {
		add(MinutesLine{Indent: 1, Label: "Trừ số " + x.Vietnamese, Value: minutesCount(x.Count)})
		formula += " - " + minutesCount(x.Count) // U+2212 is not in Noto Serif
	}
	d := minutesCount(res.Denominator)
	if len(e.ExclusionLines()) > 0 {
		d += " (" + formula + ")"
	}
	p.Lines = append(p.Lines, minutesBaseLines(c, res, d)...)
	p.Lines = append(p.Lines, minutesEntryLines(c, in.Journal)...)

	var warnings []MinutesLine
	warn := func(format string, args ...any) {
		warnings = append(warnings, MinutesLine{Label: "Lưu ý", Value: fmt.Sprintf(format, args...), Warning: true})
	}
	if notes.Present != nil {
		present := *notes.Present
		add(MinutesLine{Label: "Số có mặt khi bỏ phiếu", Value: minutesPeople(present)})
		if present <= e.Convened {
			add(MinutesLine{Label: "Số vắng mặt khi bỏ phiếu", Value: minutesPeople(e.Convened-present) + " (so với số được triệu tập)"})
		} else {
			warn("số có mặt (%s) nhiều hơn số được triệu tập (%s).", minutesCount(present), minutesCount(e.Convened))
		}
	}

	b := res.Ballots
	if rec.Issued != nil {
		add(MinutesLine{Label: "Số phiếu phát ra", Value: minutesCount(*rec.Issued)})
	} else {
		add(MinutesLine{Label: "Số phiếu phát ra", Value: "chưa ghi (ghi khi kết thúc kiểm phiếu)"})
	}
	collected := b.Total
	if notes.Collected != nil {
		collected = *notes.Collected
	}
	add(MinutesLine{Label: "Số phiếu thu vào", Value: minutesCount(collected)})
	if collected != b.Total {
		label := "Số phiếu đã kiểm"
		if !finished {
			label = "Số phiếu đã kiểm đến nay"
		}
		add(MinutesLine{Label: label, Value: minutesCount(b.Total)})
	}
	add(MinutesLine{Label: "Số phiếu hợp lệ", Value: minutesCount(b.Valid)})
	inv := minutesCount(b.Invalid)
	if b.Invalid > 0 {
		inv += ", trong đó:"
	}
	add(MinutesLine{Label: "Số phiếu không hợp lệ", Value: inv})
	for _, r := range tally.Reasons() {
		if n := b.InvalidByReason[r.String()]; n > 0 {
			add(MinutesLine{Indent: 1, Label: c.Kind.ReasonVietnamese(r), Value: minutesCount(n)})
		}
	}

	// The consistency checks of domain-rules §6.5 that the service does not
	// already enforce at close: the committee signs nothing that does not
	// add up without seeing it.
	if finished && notes.Collected != nil && *notes.Collected != b.Total {
		warn("số phiếu thu vào do Ban Kiểm phiếu đếm (%s) khác số phiếu đã kiểm (%s); phải làm rõ trước khi ký biên bản.",
			minutesCount(*notes.Collected), minutesCount(b.Total))
	}
	if rec.Issued != nil && collected > *rec.Issued {
		warn("số phiếu thu vào (%s) nhiều hơn số phiếu phát ra (%s).", minutesCount(collected), minutesCount(*rec.Issued))
	}
	if rec.Issued != nil && notes.Present != nil && *rec.Issued > *notes.Present {
		warn("số phiếu phát ra (%s) nhiều hơn số có mặt khi bỏ phiếu (%s).", minutesCount(*rec.Issued), minutesCount(*notes.Present))
	}
	p.Lines = append(p.Lines, warnings...)
	return p
}

func minutesResults(heading string, c *tally.Contest, res *tally.Result) MinutesTable {
	t := MinutesTable{
		Heading: heading,
		Note:    fmt.Sprintf("Theo thứ tự trong danh sách bầu cử; tỷ lệ tính so với D = %s.", minutesCount(res.Denominator)),
	}
	if c.Kind == tally.KindOpinion {
		t.Note = fmt.Sprintf("Theo thứ tự trong danh sách xin ý kiến; tỷ lệ tính so với số đại biểu có mặt = %s.", minutesCount(res.Denominator))
	}
	approve := c.Ballot == tally.StyleApprove
	if approve {
		t.Note += " Cột “Không rõ”: dòng đánh dấu cả hai ô hoặc không ô nào."
		t.Columns = []MinutesColumn{{"TT", "C", 10}, {"Họ và tên", "L", 47}, {"Đồng ý (số phiếu)", "R", 20},
			{"Tỷ lệ so với D", "R", 22}, {"Không đồng ý", "R", 20}, {"Không rõ", "R", 18}, {"Kết quả", "L", 28}}
	} else {
		t.Columns = []MinutesColumn{{"TT", "C", 10}, {"Họ và tên", "L", 73}, {"Số phiếu", "R", 22},
			{"Tỷ lệ so với D", "R", 28}, {"Kết quả", "L", 32}}
	}
	t.Columns[3].Title = c.Kind.PercentColumn()
	for i, cr := range res.Candidates {
		cells := []string{fmt.Sprint(i + 1), cr.Name, minutesCount(cr.Votes), cr.Text}
		if approve {
			cells = append(cells, minutesCount(minutesDeref(cr.Disagree)), minutesCount(minutesDeref(cr.Unmarked)))
		}
		cells = append(cells, c.Kind.StatusVietnamese(cr.Status))
		t.Rows = append(t.Rows, MinutesRow{Cells: cells, Strong: minutesChosen(cr.Status)})
	}
	return t
}

func minutesDeref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// minutesByID indexes a result's rows by candidate id.
func minutesByID(res *tally.Result) map[string]tally.CandidateResult {
	byID := make(map[string]tally.CandidateResult, len(res.Candidates))
	for _, cr := range res.Candidates {
		byID[cr.ID] = cr
	}
	return byID
}

// minutesProvisional marks the elected of a round not yet closed.
func minutesProvisional(finished bool) string {
	if finished {
		return ""
	}
	return " (kết quả tạm thời)"
}

func minutesElected(heading string, c *tally.Contest, res *tally.Result, finished bool) MinutesElected {
	p := MinutesElected{Heading: heading}
	byID, provisional := minutesByID(res), minutesProvisional(finished)
	if len(res.Elected) == 0 {
		p.Intro = "Không có đồng chí nào trúng cử" + provisional + "."
	} else {
		p.Intro = fmt.Sprintf("Căn cứ kết quả kiểm phiếu, các đồng chí có số phiếu bầu quá một nửa so với D, "+
			"xếp theo thứ tự số phiếu từ cao đến thấp, trúng cử%s: %s/%s.", provisional, minutesCount(len(res.Elected)), minutesCount(res.Seats))
		t := &MinutesTable{Columns: []MinutesColumn{{"TT", "C", 10}, {"Họ và tên", "L", 95}, {"Số phiếu", "R", 25}, {"Tỷ lệ so với D", "R", 35}}}
		for i, id := range res.Elected {
			cr := byID[id]
			t.Rows = append(t.Rows, MinutesRow{Cells: []string{fmt.Sprint(i + 1), cr.Name, minutesCount(cr.Votes), cr.Text}})
		}
		p.Table = t
	}
	if c.Kind == tally.KindAlternates && len(res.Elected) > 1 {
		note := "Thứ tự trên là thứ tự thay thế đại biểu chính thức khi vắng mặt."
		if len(res.RankTies) > 0 {
			note = "Thứ tự trên, trừ các đồng chí bằng phiếu nêu dưới đây, là thứ tự thay thế đại biểu chính thức khi vắng mặt."
		}
		p.Notes = append(p.Notes, note)
	}
	// Equal votes share a rank: the table lists them in ballot order, which
	// is no order of theirs (audit B2).
	for _, g := range res.RankTies {
		names := make([]string, len(g))
		for i, id := range g {
			names[i] = byID[id].Name
		}
		p.Notes = append(p.Notes, tally.RankTieVietnamese(c.Kind, minutesCount(byID[g[0]].Votes), names))
	}
	if len(res.Tied) > 0 {
		names := make([]string, len(res.Tied))
		for i, id := range res.Tied {
			names[i] = byID[id].Name
		}
		first := byID[res.Tied[0]]
		p.Notes = append(p.Notes, fmt.Sprintf("Các đồng chí %s cùng được %s phiếu (%s) ở vị trí cuối; "+
			"số người bằng phiếu nhiều hơn số chỗ còn lại nên chưa đồng chí nào trong số này trúng cử. "+
			"Đại hội bầu lại trong số các đồng chí này cho %s chỗ còn lại.",
			strings.Join(names, ", "), minutesCount(first.Votes), first.Text, minutesCount(res.RevoteSeats)))
	}
	if res.Vacant > 0 {
		p.Notes = append(p.Notes, tally.VacancyVietnamese(c.Kind, c.Round, minutesPeople(res.Vacant)))
	}
	return p
}

func minutesMakeup(heading string, c *tally.Contest, comp *tally.CompositionReport) MinutesPart {
	p := MinutesPart{Heading: heading, Lines: []MinutesLine{{Value: fmt.Sprintf("Tỷ lệ tính so với %s trúng cử.", minutesPeople(comp.Elected))}}}
	for _, l := range comp.Lines(c.Composition) {
		v := fmt.Sprintf("%s (%s)", minutesCount(l.Count), l.Text)
		if l.Unknown > 0 {
			v += fmt.Sprintf("; không rõ: %s", minutesCount(l.Unknown))
		}
		p.Lines = append(p.Lines, MinutesLine{Label: l.Label, Value: v})
	}
	if !comp.BandsSumTo100() {
		p.Lines = append(p.Lines, MinutesLine{Label: "Ghi chú", Value: minutesBandsNote})
	}
	return p
}

func minutesComplaints(heading string, notes tally.RoundNotes) MinutesPart {
	p := MinutesPart{Heading: heading}
	text := strings.TrimSpace(notes.Complaints)
	if text == "" {
		p.Lines = []MinutesLine{{Value: "Không có."}}
		return p
	}
	for _, para := range strings.Split(text, "\n") {
		if para = strings.TrimSpace(para); para != "" {
			p.Lines = append(p.Lines, MinutesLine{Value: para})
		}
	}
	return p
}

func minutesClosing(rec *tally.Record, res *tally.Result, finished bool) []string {
	if !finished {
		s := "Kiểm phiếu chưa kết thúc: các số liệu trên là tạm thời"
		if res.Version != nil {
			s += fmt.Sprintf(", tính đến mục thứ %s của sổ phiếu", minutesCount(int(*res.Version)))
		}
		return []string{s + ". Biên bản chỉ được ký sau khi kết thúc kiểm phiếu."}
	}
	out := []string{}
	if when, ok := minutesStamp(rec.Closed); ok {
		out = append(out, "Biên bản lập xong vào lúc "+when+".")
	}
	return append(out, "Ban Kiểm phiếu đã kiểm tra các số liệu trên và cùng ký tên dưới đây.")
}

func minutesSignatures(cg *tally.CongressRecord) MinutesSignatures {
	s := MinutesSignatures{MembersTitle: "CÁC ỦY VIÊN", HeadTitle: "TRƯỞNG BAN KIỂM PHIẾU", Hint: "(Ký, ghi rõ họ tên)"}
	if cg == nil {
		return s
	}
	for _, mb := range minutesCommittee(cg) {
		if mb.Role == tally.RoleHead {
			s.Head = mb.Name
		} else {
			s.Members = append(s.Members, mb.Name)
		}
	}
	return s
}

func minutesVerification(rec *tally.Record, url string) MinutesVerification {
	v := MinutesVerification{Heading: "MÃ KIỂM CHỨNG SỔ PHIẾU"}
	if rec.Head == "" {
		v.Lines = []string{"Sổ phiếu chưa khóa: mã kiểm chứng có khi kết thúc kiểm phiếu."}
		return v
	}
	v.Hash = rec.Head
	v.Lines = []string{fmt.Sprintf("Mã SHA-256 của mục cuối cùng (mục thứ %s) trong sổ phiếu.", minutesCount(int(rec.Version)))}
	if when, ok := minutesStamp(rec.Closed); ok {
		v.Lines = append(v.Lines, "Khóa sổ phiếu lúc "+when+".")
	}
	if when, ok := minutesStamp(rec.Certified); ok && rec.State == tally.StateCertified {
		v.Lines = append(v.Lines, "Chứng nhận lúc "+when+".")
	}
	if pub, err := tally.CheckSignature(rec); err == nil && pub != nil {
		// The key that signed the certification: a district that has
		// registered it imports the export without typing the hash.
		v.Lines = append(v.Lines, "Khóa ký của máy kiểm phiếu (dấu vân tay): "+tally.Fingerprint(pub)+".")
	}
	if strings.HasPrefix(url, "/") {
		// No address other machines reach is known (api printedBase): a
		// QR code of a path, or of 127.0.0.1, would send a delegate's phone
		// nowhere, and the paper is signed and kept.
		v.URL = url
		v.Lines = append(v.Lines, "Kiểm tra tại trang "+url+" của máy kiểm phiếu (chưa đặt địa chỉ mạng của máy: KIEMPHIEU_PUBLIC_URL hoặc kiemphieu serve --lan).")
		return v
	}
	if url != "" {
		v.URL = url
		v.Lines = append(v.Lines, "Kiểm tra tại: "+url)
		// Medium recovery survives a creased or photocopied page. Only a
		// URL too long for any QR code (over 2 kB) fails; the URL is then
		// printed without one.
		if png, err := qrcode.Encode(url, qrcode.Medium, 256); err == nil {
			v.QR = png
			v.QRData = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		}
	}
	return v
}
