package web

import (
	"fmt"
	"strings"

	"github.com/kiemphieu/kiemphieu/tally"
)

// The minutes of opinion and introduction ballots (issue 12): the same
// parts as an election's, worded for what they decide. An opinion ballot
// (phiếu xin ý kiến, 190-QĐ/TW Điều 14.3) admits a nominee to the list with
// more than 30% of those present; an introduction ballot (phiếu giới
// thiệu, 04-HD/TW 2024 item 8) forms a list from the top.

// minutesBaseLines are the lines of part II that give the base of the
// percentages and the mark to reach, after those convened and exclusions.
func minutesBaseLines(c *tally.Contest, res *tally.Result, d string) []MinutesLine {
	switch c.Kind {
	case tally.KindOpinion:
		return []MinutesLine{
			{Label: "Số đại biểu có mặt (cơ sở tính tỷ lệ)", Value: minutesPeople(res.Denominator)},
			{Label: "Được đưa vào danh sách phải được trên 30% số có mặt", Value: "từ " + minutesCount(res.Threshold) + " phiếu đồng ý trở lên"},
		}
	case tally.KindIntroduction:
		return []MinutesLine{
			{Label: "Số để tính tỷ lệ (D)", Value: d},
			{Label: "Danh sách giới thiệu", Value: fmt.Sprintf("%s người có số phiếu giới thiệu cao nhất (tỷ lệ so với D để tham khảo)", minutesCount(res.Seats))},
		}
	}
	return []MinutesLine{
		{Label: "Số để tính tỷ lệ bầu cử (D)", Value: d},
		{Label: "Trúng cử phải được quá một nửa so với D", Value: "từ " + minutesCount(res.Threshold) + " phiếu trở lên"},
	}
}

// minutesChosen reports whether a status is the one the round gives (bold
// in the results table).
func minutesChosen(s tally.Status) bool {
	return s == tally.StatusElected || s == tally.StatusAdmitted || s == tally.StatusIntroduced
}

// minutesListFormed is part IV of an opinion or introduction ballot.
func minutesListFormed(heading string, c *tally.Contest, res *tally.Result, finished bool) MinutesElected {
	p := MinutesElected{Heading: heading}
	byID, provisional := minutesByID(res), minutesProvisional(finished)
	base := c.Kind.PercentColumn()
	switch {
	case c.Kind == tally.KindOpinion && len(res.Elected) == 0:
		p.Intro = "Không có đồng chí nào được trên 30% số đại biểu có mặt đồng ý" + provisional + "."
	case c.Kind == tally.KindOpinion:
		p.Intro = fmt.Sprintf("Căn cứ kết quả kiểm phiếu, các đồng chí được trên 30%% số đại biểu có mặt (%s) đồng ý, "+
			"xếp theo số phiếu đồng ý từ cao đến thấp, được đưa vào danh sách để đại hội xem xét, quyết định%s: %s/%s.",
			minutesCount(res.Denominator), provisional, minutesCount(len(res.Elected)), minutesCount(len(res.Candidates)))
	case len(res.Elected) == 0:
		p.Intro = "Chưa có đồng chí nào được giới thiệu" + provisional + "."
	default:
		p.Intro = fmt.Sprintf("Căn cứ kết quả kiểm phiếu, các đồng chí có số phiếu giới thiệu cao nhất, "+
			"xếp theo số phiếu từ cao đến thấp, được giới thiệu%s: %s/%s.", provisional, minutesCount(len(res.Elected)), minutesCount(res.Seats))
	}
	if len(res.Elected) > 0 {
		t := &MinutesTable{Columns: []MinutesColumn{{"TT", "C", 10}, {"Họ và tên", "L", 95}, {"Số phiếu", "R", 25}, {base, "R", 35}}}
		for i, id := range res.Elected {
			cr := byID[id]
			t.Rows = append(t.Rows, MinutesRow{Cells: []string{fmt.Sprint(i + 1), cr.Name, minutesCount(cr.Votes), cr.Text}})
		}
		p.Table = t
	}
	if c.Kind == tally.KindOpinion {
		p.Notes = append(p.Notes, "Mỗi người được xin ý kiến riêng; phiếu không đồng ý với tất cả vẫn là phiếu hợp lệ.")
		return p
	}
	if len(res.Tied) > 0 {
		names := make([]string, len(res.Tied))
		for i, id := range res.Tied {
			names[i] = byID[id].Name
		}
		first := byID[res.Tied[0]]
		p.Notes = append(p.Notes, fmt.Sprintf("Các đồng chí %s cùng được %s phiếu giới thiệu ở vị trí cuối, nhiều hơn %s chỗ còn lại "+
			"của danh sách; đại hội (người chủ trì) quyết định, phần mềm không chọn thay.",
			strings.Join(names, ", "), minutesCount(first.Votes), minutesCount(res.RevoteSeats)))
	}
	if res.Vacant > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("Số người được ghi tên ít hơn số cần giới thiệu: còn thiếu %s.", minutesPeople(res.Vacant)))
	}
	return p
}
