package web

import (
	"github.com/kiemphieu/kiemphieu/tally"
)

// The warnings of a round (tally.Warning) on its minutes, where the figure
// they concern is printed: those of the list under the list, those of the
// figures under the ballot accounting. A warning blocks nothing; the
// committee reads what to check before it signs.

func minutesWarningLines(ws []tally.Warning) []MinutesLine {
	var out []MinutesLine
	for _, w := range ws {
		out = append(out, MinutesLine{Label: "Lưu ý", Value: Vietnamese.Warning(w), Warning: true})
	}
	return out
}

// minutesListWarnings: candidates of one full name, a counting-committee
// member on the list.
func minutesListWarnings(in MinutesInput) []MinutesLine {
	var committee []tally.CommitteeMember
	if in.Congress != nil {
		committee = in.Congress.CountingCommittee
	}
	return minutesWarningLines(in.Record.Contest.ListWarnings(committee))
}

// minutesBandsNote is printed under the age bands when their shares, each
// rounded on its own so that it can be checked against its count, do not
// add up to 100% (audit B11).
const minutesBandsNote = "Tỷ lệ từng độ tuổi được làm tròn riêng theo quy tắc làm tròn đã chọn nên tổng các tỷ lệ có thể không đúng 100%; số người ở từng độ tuổi là chính xác."
