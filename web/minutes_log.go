package web

import (
	"fmt"

	"github.com/kiemphieu/kiemphieu/tally"
)

// MinutesVoid is a void of the round's log (hủy phiếu đã nhập) as the
// minutes list it: the void entry (its seq, the desk that voided, the time
// and the reason) and the desk that had keyed the ballot it withdrew.
type MinutesVoid struct {
	Entry   tally.Entry // Entry.Void is set
	KeyedBy string
}

// MinutesCorrections is the part of the minutes that puts on the record
// what the count alone does not show: every ballot withdrawn after it was
// keyed, and every note written on a ballot (the committee's reason for a
// ruling). Both are always printed, "Không có." included, so that a
// certified paper says outright that nothing was corrected.
type MinutesCorrections struct {
	Heading string
	Voids   MinutesListing
	Notes   MinutesListing
}

// Lists are the two lists in the order printed.
func (mc MinutesCorrections) Lists() []MinutesListing { return []MinutesListing{mc.Voids, mc.Notes} }

// MinutesListing is a list of the minutes: an intro line, then the table,
// or Empty when there is nothing to list.
type MinutesListing struct {
	Intro []string
	Table *MinutesTable // nil when empty
	Empty string
}

// noteWithheld stands for a note's text in the copy anyone may read
// without signing in.
const noteWithheld = "(không in trong bản công bố)"

// minutesCorrections lays out the voids and the notes of the log. public:
// the copy is for readers who did not sign in, and the notes' free text —
// which may copy writing or marks from a paper — is left out.
func minutesCorrections(heading string, c *tally.Contest, voids []MinutesVoid, notes []tally.Entry, public bool) MinutesCorrections {
	mc := MinutesCorrections{Heading: heading}
	mc.Voids = MinutesListing{
		Intro: []string{"Phiếu đã nhập bị hủy (mỗi lần hủy là một mục mới của sổ phiếu, ghi lý do; phiếu bị hủy không được tính, " +
			"tờ phiếu được nhập lại dưới mã mới):"},
		Empty: "Không có phiếu nào đã nhập bị hủy.",
	}
	voidedBy := map[int64]int64{} // the seq of a voided ballot → the seq of its void
	if len(voids) > 0 {
		t := &MinutesTable{Columns: []MinutesColumn{{"TT", "C", 9}, {"Mục sổ", "C", 13}, {"Mã phiếu (mục đã nhập)", "L", 30},
			{"Bàn đã nhập", "L", 25}, {"Người hủy", "L", 23}, {"Giờ hủy", "C", 24}, {"Lý do", "L", 41}}}
		for i, v := range voids {
			e := v.Entry
			voidedBy[e.Void.Seq] = e.Seq
			t.Rows = append(t.Rows, MinutesRow{Cells: []string{
				fmt.Sprint(i + 1), fmt.Sprint(e.Seq), fmt.Sprintf("%s (mục %d)", e.Void.Ballot, e.Void.Seq),
				v.KeyedBy, e.Desk, journalTime(e.Time), e.Void.Reason,
			}})
		}
		mc.Voids.Table = t
	}

	mc.Notes = MinutesListing{
		Intro: []string{"Ghi chú về từng phiếu (lý do Ban Kiểm phiếu kết luận phiếu không hợp lệ, hoặc kết luận về phiếu có dấu hiệu chưa rõ):"},
		Empty: "Không có phiếu nào có ghi chú.",
	}
	if public && len(notes) > 0 {
		mc.Notes.Intro = append(mc.Notes.Intro, "Bản công bố (xem không cần đăng nhập) không in nội dung ghi chú, vì ghi chú có thể chép lại chữ viết "+
			"hoặc dấu hiệu trên phiếu; bản của Ban Kiểm phiếu in đầy đủ.")
	}
	if len(notes) > 0 {
		t := &MinutesTable{Columns: []MinutesColumn{{"TT", "C", 9}, {"Mục sổ", "C", 13}, {"Mã phiếu", "L", 28},
			{"Kết luận", "L", 45}, {"Ghi chú", "L", 70}}}
		index := c.Index()
		for i, e := range notes {
			verdict := "phiếu không đọc được theo danh sách"
			if m, err := c.Mark(*e.Ballot, index); err == nil {
				if r := c.Classify(m); r == tally.Valid {
					verdict = "Hợp lệ"
				} else {
					verdict = "Không hợp lệ: " + r.Vietnamese()
				}
			}
			if seq, ok := voidedBy[e.Seq]; ok {
				verdict += fmt.Sprintf(" — đã hủy (mục %d), không tính", seq)
			}
			note := e.Ballot.Note
			if public {
				note = noteWithheld
			}
			t.Rows = append(t.Rows, MinutesRow{Cells: []string{fmt.Sprint(i + 1), fmt.Sprint(e.Seq), e.Ballot.ID, verdict, note}})
		}
		mc.Notes.Table = t
	}
	return mc
}
