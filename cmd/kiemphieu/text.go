package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kiemphieu/kiemphieu/tally"
	"github.com/kiemphieu/kiemphieu/web"
)

// writeText prints a result as a plain-text table laid out like the
// counting minutes (biên bản kiểm phiếu, domain-rules §6.3): denominator,
// ballot accounting, the candidates in ballot order, the elected in order
// of votes, then ties, vacancies and the composition.
func writeText(w io.Writer, c *tally.Contest, r *tally.Result) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("%s", c.Kind.CountTitle())
	p("%s", c.Title)
	p("Lần bỏ phiếu: %d    Số lượng cần bầu: %s    Số người trong danh sách: %s",
		r.Round, num(r.Seats), num(len(r.Candidates)))
	p("")
	e := c.Electorate
	p("%s: %s", e.Congress.ConvenedVietnamese(), num(e.Convened))
	for _, x := range e.ExclusionLines() {
		if x.Count > 0 {
			p("  trừ %s: %s", x.Vietnamese, num(x.Count))
		}
	}
	if c.Kind.Elects() {
		p("Số để tính tỷ lệ (D): %s    Trúng cử khi được quá một nửa: từ %s phiếu trở lên", num(r.Denominator), num(r.Threshold))
	} else {
		base := c.Kind.BaseVietnamese(r)
		p("%s: %s    %s: %s", base[0].Label, num(base[0].Count), base[1].Label, num(base[1].Count))
	}
	p("")
	b := r.Ballots
	p("Số phiếu thu vào: %s", num(b.Total))
	p("Số phiếu hợp lệ: %s", num(b.Valid))
	p("Số phiếu không hợp lệ: %s", num(b.Invalid))
	for _, reason := range tally.Reasons() {
		if n := b.InvalidByReason[reason.String()]; n > 0 {
			p("  - %s: %s", c.Kind.ReasonVietnamese(reason), num(n))
		}
	}
	p("")
	if c.Kind.Elects() {
		p("KẾT QUẢ BẦU CỬ (theo thứ tự trong danh sách bầu cử)")
	} else {
		p("KẾT QUẢ KIỂM PHIẾU (theo thứ tự trong danh sách)")
	}
	approve := c.Ballot == tally.StyleApprove
	header := []string{"TT", "Họ và tên", "Số phiếu", c.Kind.PercentColumn()}
	if approve {
		header = append(header, "Đồng ý", "Không đồng ý", "Không rõ")
	}
	rows := [][]string{append(header, "Kết quả")}
	for i, cr := range r.Candidates {
		row := []string{strconv.Itoa(i + 1), cr.Name, num(cr.Votes), cr.Text}
		if approve {
			row = append(row, num(*cr.Agree), num(*cr.Disagree), num(*cr.Unmarked))
		}
		rows = append(rows, append(row, c.Kind.StatusVietnamese(cr.Status)))
	}
	// Names and statuses read left to right; numbers line up on the right.
	left := map[int]bool{1: true, len(rows[0]) - 1: true}
	table(w, rows, left)
	p("")
	byID := make(map[string]tally.CandidateResult, len(r.Candidates))
	for _, cr := range r.Candidates {
		byID[cr.ID] = cr
	}
	chosen := c.Kind.ChosenVietnamese()
	switch {
	case len(r.Elected) == 0:
		p("Không có người %s.", strings.ToLower(chosen))
	case c.Kind == tally.KindOpinion:
		// Each nominee is decided on its own: out of the nominees.
		p("%s (theo số phiếu từ cao đến thấp): %s/%s", c.Kind.OutcomeHeading(), num(len(r.Elected)), num(len(r.Candidates)))
	default:
		p("%s (theo số phiếu từ cao đến thấp): %s/%s", c.Kind.OutcomeHeading(), num(len(r.Elected)), num(r.Seats))
	}
	if len(r.Elected) > 0 {
		for i, id := range r.Elected {
			cr := byID[id]
			p("%d. %s — %s phiếu (%s)", i+1, cr.Name, num(cr.Votes), cr.Text)
		}
	}
	if len(r.Tied) > 0 {
		names := make([]string, len(r.Tied))
		for i, id := range r.Tied {
			names[i] = byID[id].Name
		}
		p("")
		then := "bầu lại trong số những người này"
		if c.Kind == tally.KindIntroduction {
			then = "đại hội (người chủ trì) quyết định trong số những người này"
		}
		p("Bằng phiếu ở vị trí cuối (%s phiếu): %s — %s cho %s chỗ còn lại.",
			num(byID[r.Tied[0]].Votes), strings.Join(names, ", "), then, num(r.RevoteSeats))
	}
	for _, g := range r.RankTies {
		names := make([]string, len(g))
		for i, id := range g {
			names[i] = byID[id].Name
		}
		p("")
		p("%s", tally.RankTieVietnamese(c.Kind, num(byID[g[0]].Votes), names))
	}
	if r.Vacant > 0 {
		p("")
		if c.Kind.Elects() {
			p("%s", tally.VacancyVietnamese(c.Kind, c.Round, num(r.Vacant)+" người"))
		} else {
			p("Còn thiếu %s người so với số cần giới thiệu.", num(r.Vacant))
		}
	}
	if comp := r.Composition; comp != nil {
		p("")
		p("CƠ CẤU NGƯỜI TRÚNG CỬ (%s người)", num(comp.Elected))
		for _, line := range comp.Lines(c.Composition) {
			share(w, line.Label, line.Share)
		}
		if !comp.BandsSumTo100() {
			p("  Ghi chú: tỷ lệ từng độ tuổi được làm tròn riêng nên tổng có thể không đúng 100%%.")
		}
	}
	// Offline there is no congress, hence no counting committee to check.
	if ws := tally.RoundWarnings(c, nil, r); len(ws) > 0 {
		p("")
		p("CẦN KIỂM TRA")
		for _, wn := range ws {
			p("  - %s", web.Vietnamese.Warning(wn))
		}
	}
}

func share(w io.Writer, label string, s tally.Share) {
	unknown := ""
	if s.Unknown > 0 {
		unknown = fmt.Sprintf(" (không rõ: %s)", num(s.Unknown))
	}
	fmt.Fprintf(w, "  %s: %s (%s)%s\n", label, num(s.Count), s.Text, unknown)
}

// num writes a whole number the Vietnamese way: 1.234.567.
func num(n int) string { return tally.FormatCount(n) }

// table prints rows in columns two spaces apart. Widths count runes: names
// are NFC, so each letter with its marks is one rune and one cell.
func table(w io.Writer, rows [][]string, left map[int]bool) {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if i > 0 {
				b.WriteString("  ")
			}
			if left[i] {
				b.WriteString(cell + pad)
			} else {
				b.WriteString(pad + cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
