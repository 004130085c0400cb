package web

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kiemphieu/kiemphieu/tally"
)

// EntryJournal is the entry journal (nhật ký nhập phiếu) of a verified
// round: the stacks declared, every keying and every committee decision.
// It names desks, never voters.
type EntryJournal struct {
	Stacks    []JournalStack
	Keyings   []tally.Keying // in journal order (stack, position, desk, n)
	Decisions []tally.CommitteeDecision
	// Sealed: the round is still being keyed and the copy is not the
	// committee's. Every desk keys each paper without seeing another's
	// reading, so the annex prints the stacks and counts, no keying and
	// no decision (they name what desks keyed).
	Sealed bool
}

// JournalStack is a stack (tệp phiếu) and its paper count.
type JournalStack struct {
	Stack   int
	Ballots int
}

// MinutesJournal is the annex of a verified round's minutes: the entry
// journal, printed with them (issue 6: the journal is archived with the
// minutes).
type MinutesJournal struct {
	Heading   string
	Intro     []string
	Keyings   *MinutesTable // nil when the copy withholds them
	Decisions *MinutesTable // nil when no position was disputed, or withheld
}

// minutesEntryLines are the lines of part II that state how the ballots
// were keyed; none for a single-entry round, whose minutes stay as they
// were.
func minutesEntryLines(c *tally.Contest, j *EntryJournal) []MinutesLine {
	if !c.Entry.Verified() || j == nil {
		return nil
	}
	papers := 0
	for _, s := range j.Stacks {
		papers += s.Ballots
	}
	return []MinutesLine{
		{Label: "Phương thức nhập phiếu", Value: c.Entry.Vietnamese()},
		{Label: "Số tệp phiếu", Value: fmt.Sprintf("%s tệp, gồm %s phiếu", minutesCount(len(j.Stacks)), minutesCount(papers))},
		{Label: "Số lần nhập lệch giữa các bàn đã được Ban Kiểm phiếu giải quyết", Value: minutesCount(len(j.Decisions))},
	}
}

// minutesJournal lays out the annex. A sealed journal (keying still
// under way) and the public copy print its intro only: the keyings say
// what each paper holds, desk by desk.
func minutesJournal(c *tally.Contest, j *EntryJournal, finished, public bool) *MinutesJournal {
	if !c.Entry.Verified() || j == nil {
		return nil
	}
	mj := &MinutesJournal{Heading: "PHỤ LỤC: NHẬT KÝ NHẬP PHIẾU"}
	stacks := make([]string, len(j.Stacks))
	for i, s := range j.Stacks {
		stacks[i] = fmt.Sprintf("tệp %d: %s phiếu", s.Stack, minutesCount(s.Ballots))
	}
	mj.Intro = []string{
		"Phương thức nhập phiếu: " + c.Entry.Vietnamese() + ".",
		"Các tệp phiếu: " + strings.Join(stacks, "; ") + ".",
		fmt.Sprintf("Nhật ký ghi mỗi lần nhập: tệp, thứ tự phiếu trong tệp, bàn nhập, giờ nhập, nội dung đã nhập và kết quả đối chiếu. "+
			"Nhật ký không ghi bất cứ điều gì về người bỏ phiếu. Tổng số lần nhập: %s.", minutesCount(len(j.Keyings))),
	}
	switch {
	case j.Sealed:
		mj.Intro = append(mj.Intro, "Kiểm phiếu chưa kết thúc: nội dung từng lần nhập chỉ in sau khi kết thúc kiểm phiếu, "+
			"để mỗi bàn nhập phiếu độc lập, không biết các bàn khác đã nhập gì.")
		return mj
	case public:
		mj.Intro = append(mj.Intro, "Bản công bố (xem không cần đăng nhập) không in nội dung từng lần nhập, vì nhật ký cho biết nội dung "+
			"từng lá phiếu; nhật ký đầy đủ được lưu cùng bản của Ban Kiểm phiếu.")
		return mj
	}
	type pos struct{ s, k int }
	byPos := map[pos][]tally.Keying{}
	decided := map[pos]*tally.CommitteeDecision{}
	for _, k := range j.Keyings {
		byPos[pos{k.Stack, k.Position}] = append(byPos[pos{k.Stack, k.Position}], k)
	}
	for i := range j.Decisions {
		d := &j.Decisions[i]
		decided[pos{d.Stack, d.Position}] = d
	}
	states := map[pos]tally.PositionState{}
	for p, ks := range byPos {
		states[p] = tally.DecidePosition(p.s, p.k, c.Entry.Desks(), ks, decided[p])
	}
	// A count within one day (the common case) prints the day once and
	// each time of day alone, so that a row takes one line (a 120-ballot
	// double entry is 240 rows); a count past midnight prints each day.
	when := journalTime
	if day := journalDay(j); day != "" {
		mj.Intro = append(mj.Intro, "Giờ nhập ghi theo giờ Việt Nam; mọi lần nhập và quyết định đều trong ngày "+day+".")
		when = journalClock
	}
	// Fixed widths (165 mm, the text block) that hold a time of day, a
	// date and every column title on one line (pdf_layout_test.go).
	mj.Keyings = &MinutesTable{
		Columns: []MinutesColumn{{"Tệp", "C", 11}, {"Phiếu", "C", 15}, {"Bàn", "L", 21}, {"Giờ", "C", journalTimeW},
			{"Nội dung đã nhập", "L", 60}, {"Kết quả", "L", 34}},
	}
	for _, k := range j.Keyings {
		st := states[pos{k.Stack, k.Position}]
		mj.Keyings.Rows = append(mj.Keyings.Rows, MinutesRow{Cells: []string{
			fmt.Sprint(k.Stack), fmt.Sprint(k.Position), k.Desk, when(k.Time), KeyedText(c, k.Ballot), keyingOutcome(k, st, finished),
		}})
	}
	if len(j.Decisions) > 0 {
		t := &MinutesTable{
			Heading: "Quyết định của Ban Kiểm phiếu về các phiếu nhập lệch",
			Columns: []MinutesColumn{{"Tệp", "C", 11}, {"Phiếu", "C", 15}, {"Các bàn đã nhập", "L", 50},
				{"Ban Kiểm phiếu quyết định", "L", 42}, {"Lý do", "L", 47}},
		}
		for _, d := range j.Decisions {
			var entries []string
			for _, e := range d.Entries {
				entries = append(entries, e.Desk+": "+KeyedText(c, e.Ballot))
			}
			t.Rows = append(t.Rows, MinutesRow{Cells: []string{
				fmt.Sprint(d.Stack), fmt.Sprint(d.Position), strings.Join(entries, "; "),
				KeyedText(c, d.Ballot) + " (" + d.By + ", " + when(d.Time) + ")", d.Reason,
			}})
		}
		mj.Decisions = t
	}
	return mj
}

// keyingOutcome says what became of a keying.
func keyingOutcome(k tally.Keying, st tally.PositionState, finished bool) string {
	latest := false
	for _, l := range st.Latest {
		if l.DeskID == k.DeskID && l.ID == k.ID {
			latest = true
		}
	}
	switch {
	case !latest:
		return "đã thay bằng lần nhập sau của bàn"
	case st.Decision != nil && st.Decision.Digest == k.Digest:
		return "lệch; Ban Kiểm phiếu chọn nội dung này"
	case st.Decision != nil:
		return "lệch; không được chọn"
	case st.Status == tally.PositionAccepted:
		return "khớp — đã tính"
	case st.Status == tally.PositionDisputed:
		return "lệch — chờ Ban Kiểm phiếu quyết định"
	case finished:
		return "chưa đủ bàn"
	}
	return "chờ bàn khác"
}

// journalTimeW is the width of the annex's time column: "09:30:15" on one
// line, and "20/05/2025" on the next when the count ran past midnight.
const journalTimeW = 24

// journalDay is the one day (in Vietnam time, "20/05/2025") on which every
// keying and decision of j was made, or "" when there are several.
func journalDay(j *EntryJournal) string {
	day := ""
	stamps := make([]string, 0, len(j.Keyings)+len(j.Decisions))
	for _, k := range j.Keyings {
		stamps = append(stamps, k.Time)
	}
	for _, d := range j.Decisions {
		stamps = append(stamps, d.Time)
	}
	for _, stamp := range stamps {
		t, err := time.Parse(time.RFC3339, stamp)
		if err != nil {
			return ""
		}
		d := t.In(minutesZone()).Format("02/01/2006")
		if day != "" && d != day {
			return ""
		}
		day = d
	}
	return day
}

// journalClock writes a time of day in Vietnam time to the second:
// "09:30:15".
func journalClock(stamp string) string {
	t, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return stamp
	}
	return t.In(minutesZone()).Format("15:04:05")
}

// journalTime writes a keying's time in Vietnam time to the second:
// "09:30:15 20/05/2025".
func journalTime(stamp string) string {
	t, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return stamp
	}
	return t.In(minutesZone()).Format("15:04:05 02/01/2006")
}

// KeyedText says in Vietnamese what a keyed ballot holds, naming the
// candidates with their ballot-order numbers: "gạch: 2. Trần Thị Bình;
// 4. Phạm Thị Dung".
func KeyedText(c *tally.Contest, b tally.Ballot) string {
	if b.Invalid != tally.Valid {
		s := "không hợp lệ: " + b.Invalid.Vietnamese()
		if b.Note != "" {
			s += " (" + b.Note + ")"
		}
		return s
	}
	name := func(i int) string { return fmt.Sprintf("%d. %s", i+1, c.Candidates[i].Name) }
	index := c.Index()
	if b.Struck != nil {
		if len(b.Struck) == 0 {
			return "không gạch tên nào"
		}
		idx := make([]int, 0, len(b.Struck))
		for _, id := range b.Struck {
			if i, ok := index[id]; ok {
				idx = append(idx, i)
			}
		}
		slices.Sort(idx) // ballot order
		names := make([]string, len(idx))
		for j, i := range idx {
			names[j] = name(i)
		}
		return "gạch: " + strings.Join(names, "; ")
	}
	var parts []string
	for _, m := range []struct {
		mark  tally.Mark
		label string
	}{{tally.MarkAgree, "đồng ý"}, {tally.MarkDisagree, "không đồng ý"}, {tally.MarkBoth, "cả hai ô"}} {
		var names []string
		for i, cand := range c.Candidates {
			if b.Marks[cand.ID] == m.mark {
				names = append(names, name(i))
			}
		}
		if len(names) > 0 {
			parts = append(parts, m.label+": "+strings.Join(names, ", "))
		}
	}
	if len(parts) == 0 {
		return "không đánh dấu ô nào"
	}
	return strings.Join(parts, "; ")
}
