package web

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/kiemphieu/kiemphieu/tally"
)

// RollupReport is the higher committee's roll-up as people read it: the
// one view model of the /rollup page and of its PDF. The tables are in
// Vietnamese (the PDF's language, the document sent for chuẩn y); the page
// translates its headings and shows Rollup's values under them.
type RollupReport struct {
	Rollup *tally.Rollup
	// Date is the latest certification among the rounds counted: the
	// figures are as of then, and the PDF carries it, never the clock.
	Date time.Time
	// Header is the Party document's header, as the minutes have it: the
	// organisation on the left, ĐẢNG CỘNG SẢN VIỆT NAM with the place and
	// date on the right (the report is sent for chuẩn y).
	Header    MinutesHeader
	Title     string // BÁO CÁO TỔNG HỢP KẾT QUẢ BẦU CỬ
	Subtitle  string // "Đảng bộ Quận 3 và các tổ chức đảng trực thuộc, nhiệm kỳ …"
	Summary   []string
	Totals    MinutesTable
	Elections MinutesTable
	Makeup    []MinutesTable
	Sources   MinutesTable
	Footer    string
}

// rollupHash is how much of a log head hash a table cell shows; the sources
// table prints each in full.
const rollupHash = 12

// BuildRollupReport writes the roll-up's figures as the report's tables.
func BuildRollupReport(r *tally.Rollup) *RollupReport {
	rep := &RollupReport{Rollup: r, Title: "BÁO CÁO TỔNG HỢP KẾT QUẢ BẦU CỬ"}
	rep.Subtitle = r.Organization + " và các tổ chức đảng trực thuộc"
	if r.Term != "" {
		rep.Subtitle += ", nhiệm kỳ " + r.Term
	}
	rep.Summary = []string{
		fmt.Sprintf("Số đại hội: %s. Số lần bỏ phiếu đã xác nhận (được tổng hợp): %s; chưa xác nhận (không tính): %s.",
			tally.FormatCount(len(r.Congresses)), tally.FormatCount(r.Counted), tally.FormatCount(r.NotCertified)),
	}
	for _, t := range r.Totals {
		rep.Summary = append(rep.Summary, fmt.Sprintf("%s: %s cuộc bầu; %s bầu đủ (%s ngay lần 1, %s sau khi bầu lại), %s bầu không đủ, %s chưa xác nhận xong.",
			t.Kind.Vietnamese(), tally.FormatCount(t.Elections), tally.FormatCount(t.FilledFirstRound+t.FilledLaterRound),
			tally.FormatCount(t.FilledFirstRound), tally.FormatCount(t.FilledLaterRound), tally.FormatCount(t.FellShort), tally.FormatCount(t.Pending)))
		if t.Appointed > 0 {
			rep.Summary[len(rep.Summary)-1] += fmt.Sprintf(" Chỉ định (không bầu): %s, %s người.", tally.FormatCount(t.Appointed), tally.FormatCount(t.AppointedPeople))
		}
	}

	rep.Totals = MinutesTable{Heading: "I. TỔNG HỢP THEO CUỘC BẦU", Columns: []MinutesColumn{
		// 180 mm, each head's words whole at 9.5 pt (pdf_layout_test.go).
		{Title: "Cuộc bầu", Align: "L", Width: 29}, {Title: "Số cuộc", Align: "R", Width: 13},
		{Title: "Đủ lần 1", Align: "R", Width: 15}, {Title: "Đủ sau bầu lại", Align: "R", Width: 17},
		{Title: "Không đủ", Align: "R", Width: 16}, {Title: "Chưa xác nhận", Align: "R", Width: 17},
		{Title: "Chỉ định", Align: "R", Width: 15}, {Title: "Cần bầu", Align: "R", Width: 14}, {Title: "Trúng cử", Align: "R", Width: 16},
		{Title: "Thiếu", Align: "R", Width: 14}, {Title: "Chưa rõ", Align: "R", Width: 14},
	}}
	for _, t := range r.Totals {
		rep.Totals.Rows = append(rep.Totals.Rows, MinutesRow{Cells: []string{t.Kind.Vietnamese(),
			tally.FormatCount(t.Elections), tally.FormatCount(t.FilledFirstRound), tally.FormatCount(t.FilledLaterRound),
			tally.FormatCount(t.FellShort), tally.FormatCount(t.Pending), tally.FormatCount(t.Appointed), tally.FormatCount(t.Seats),
			tally.FormatCount(t.Elected), tally.FormatCount(t.Vacant), tally.FormatCount(t.Undecided)}})
	}

	rep.Elections = MinutesTable{Heading: "II. KẾT QUẢ TỪNG ĐẠI HỘI",
		Note: "Mỗi dòng là một lần bỏ phiếu; số liệu chỉ tính các lần đã xác nhận. Mã băm: 12 ký tự đầu của mã băm sổ phiếu in trên biên bản (đầy đủ ở mục IV).",
		Columns: []MinutesColumn{
			{Title: "Đại hội / cuộc bầu", Align: "L", Width: 43}, {Title: "Lần", Align: "C", Width: 11},
			{Title: "Trạng thái", Align: "L", Width: 24}, {Title: "Cần bầu", Align: "R", Width: 14},
			{Title: "Trúng cử", Align: "R", Width: 16}, {Title: "Thiếu", Align: "R", Width: 14},
			{Title: "Kết quả", Align: "L", Width: 26}, {Title: "Mã băm", Align: "L", Width: 32}, // 180 mm; the hash's 12 digits whole
		}}
	for _, cg := range r.Congresses {
		indent := strings.Repeat("  ", cg.Depth)
		rep.Elections.Rows = append(rep.Elections.Rows, MinutesRow{Strong: true,
			Cells: []string{indent + cg.Name, "", "", "", "", "", "", ""}})
		for _, e := range cg.Elections {
			if a := e.Appointment; e.Appointed && a != nil {
				rep.Elections.Rows = append(rep.Elections.Rows, MinutesRow{Cells: []string{indent + "  " + e.Title + " (" + a.ID + ")", "—",
					AppointedText(a), tally.FormatCount(e.Seats), "—", "—", e.Outcome.Vietnamese(), ""}})
			}
			for i, l := range e.Rounds {
				state := l.State.Vietnamese()
				if l.Imported {
					state += " (nhập từ nơi kiểm)"
				}
				cells := []string{indent + "  " + e.Title + " (" + l.Contest + ")", strconv.Itoa(l.Round), state,
					tally.FormatCount(l.Seats), "", "", "", shortHash(l.Head)}
				if l.Counted {
					cells[4], cells[5] = tally.FormatCount(l.Elected), tally.FormatCount(l.Vacant+l.RevoteSeats)
				} else {
					cells[4], cells[5] = "—", "—"
				}
				if i == len(e.Rounds)-1 {
					cells[6] = e.Outcome.Vietnamese()
					if e.AppointedBy != "" {
						cells[6] += "; sau đó chỉ định (" + e.AppointedBy + ")"
					}
				}
				rep.Elections.Rows = append(rep.Elections.Rows, MinutesRow{Cells: cells})
			}
		}
	}

	roman := []string{"a", "b", "c", "d", "đ", "e", "g", "h", "i"}
	for i, kc := range r.Composition {
		heading := fmt.Sprintf("%s) %s", roman[i%len(roman)], kc.Kind.Vietnamese())
		note := fmt.Sprintf("Tổng số trúng cử: %s. Tỷ lệ tính trên số trúng cử, %d chữ số thập phân, %s.",
			tally.FormatCount(kc.Report.Elected), kc.Policy.Percent.Places, roundingText(kc.Policy.Percent.Rounding))
		if kc.Policy.Mixed {
			note += " Các cuộc bầu có cách tính khác nhau: dùng cách tính mặc định."
		}
		rep.Makeup = append(rep.Makeup, rollupMakeup(heading, note, kc))
	}

	rep.Sources = MinutesTable{Heading: "IV. NGUỒN SỐ LIỆU (BIÊN BẢN ĐÃ XÁC NHẬN)",
		Note:    "Mỗi số liệu trên lấy từ các biên bản kiểm phiếu dưới đây; kiểm tra tại /verify/<mã băm>.",
		Columns: []MinutesColumn{{Title: "Lần bỏ phiếu", Align: "L", Width: 40}, {Title: "Mã băm sổ phiếu (SHA-256)", Align: "L", Width: 140}}}
	for _, cg := range r.Congresses {
		for _, e := range cg.Elections {
			for _, l := range e.Rounds {
				if !l.Counted {
					continue
				}
				rep.Sources.Rows = append(rep.Sources.Rows, MinutesRow{Cells: []string{l.Contest, l.Head}})
				if t, err := time.Parse(time.RFC3339, l.Certified); err == nil && t.After(rep.Date) {
					rep.Date = t
				}
			}
		}
	}
	// The day in the hall's time zone (Vietnam's), as the minutes date
	// theirs: a round certified at 03:22 on the 2nd is not of the 1st
	// because the server's clock is UTC.
	if !rep.Date.IsZero() {
		rep.Date = rep.Date.In(minutesZone())
	}
	rep.Header = MinutesHeader{Party: minutesParty,
		Left: []MinutesHeaderLine{{Text: strings.ToUpper(r.Organization), Bold: true}}}
	place := minutesLocality(&tally.CongressRecord{Organization: r.Organization})
	rep.Footer = "Tổng hợp: " + r.Organization
	if !rep.Date.IsZero() {
		rep.Footer += " — số liệu đến " + minutesDate(rep.Date)
		rep.Header.PlaceDate = strings.TrimPrefix(place+", "+minutesDate(rep.Date), ", ")
	} else {
		rep.Header.PlaceDate = place
	}
	return rep
}

// AppointedText is an appointment's state cell (PDF, XLSX): who appointed, by which
// decision, when.
func AppointedText(a *tally.Appointment) string {
	s := "Chỉ định: " + a.Authority
	if a.Decision != "" {
		s += ", " + a.Decision
	}
	if a.Date != "" {
		s += " (" + a.Date + ")"
	}
	return s
}

func shortHash(h string) string {
	if len(h) > rollupHash {
		return h[:rollupHash]
	}
	return h
}

func roundingText(r tally.Rounding) string {
	if r == tally.RoundTruncate {
		return "cắt bỏ phần dư"
	}
	return "làm tròn"
}

// rollupMakeup is one kind's composition as a table: count, share, unknown.
func rollupMakeup(heading, note string, kc tally.KindComposition) MinutesTable {
	t := MinutesTable{Heading: heading, Note: note, Columns: []MinutesColumn{
		{Title: "Cơ cấu", Align: "L", Width: 70}, {Title: "Số người", Align: "R", Width: 30},
		{Title: "Tỷ lệ", Align: "R", Width: 30}, {Title: "Không rõ", Align: "R", Width: 35},
	}}
	rep := kc.Report
	add := func(label string, s tally.Share) {
		unknown := ""
		if s.Unknown > 0 {
			unknown = tally.FormatCount(s.Unknown)
		}
		t.Rows = append(t.Rows, MinutesRow{Cells: []string{label, tally.FormatCount(s.Count), s.Text, unknown}})
	}
	add("Nữ", rep.Women)
	if rep.Young != nil {
		add(fmt.Sprintf("Cán bộ trẻ (dưới %d tuổi)", kc.Policy.YoungUnder), *rep.Young)
	}
	add("Người dân tộc thiểu số", rep.EthnicMinority)
	add("Tái cử", rep.Incumbent)
	for _, b := range rep.AgeBands {
		add("Độ tuổi "+bandText(b.Label), b.Share)
	}
	return t
}

// bandText words an age band's label: "<40" → "dưới 40".
func bandText(label string) string {
	switch {
	case label == tally.UnknownBand:
		return "không rõ"
	case strings.HasPrefix(label, "<"):
		return "dưới " + label[1:]
	case strings.HasPrefix(label, ">"):
		return "trên " + label[1:]
	}
	return "từ " + strings.Replace(label, "-", " đến ", 1)
}

// RollupPDF renders the roll-up as an A4 portrait PDF with
// the minutes' font and tables. It depends only on rep (dates from the
// data, sorted catalog), so the same figures print to the same bytes.
func RollupPDF(rep *RollupReport) ([]byte, error) {
	// Narrower margins than the minutes: the tables are wide.
	const margin = 15.0
	p := newPDF(rep.Date, rep.Title+" — "+rep.Rollup.Organization, "", margin, margin)
	r := &pdfWriter{pdf: p, m: &Minutes{Footer: rep.Footer}}
	p.SetFooterFunc(r.footer)
	p.AddPage()
	r.left = margin
	r.width = pdfPageW - 2*margin
	r.m.Header = rep.Header
	r.header()

	r.font("B", 15)
	p.MultiCell(r.width, 8, rep.Title, "", "C", false)
	r.font("B", pdfBodySize)
	p.MultiCell(r.width, pdfBodyLine+0.5, rep.Subtitle, "", "C", false)
	p.Ln(4)
	for _, s := range rep.Summary {
		r.paragraph(s, "")
	}
	r.heading(rep.Totals.Heading)
	r.table(rep.Totals)
	r.heading(rep.Elections.Heading)
	r.table(rep.Elections)
	r.heading("III. CƠ CẤU NGƯỜI TRÚNG CỬ (CHỈ TÍNH LẦN BỎ PHIẾU ĐÃ XÁC NHẬN)")
	for _, t := range rep.Makeup {
		r.heading(t.Heading)
		r.table(t)
	}
	r.heading(rep.Sources.Heading)
	r.table(rep.Sources)

	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("roll-up PDF of %s: %w", rep.Rollup.Organization, err)
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, fmt.Errorf("roll-up PDF of %s: %w", rep.Rollup.Organization, err)
	}
	return buf.Bytes(), nil
}

// SortVietnamese sorts names in Vietnamese order, numbers by value
// ("Phường 2" before "Phường 10"), as the roll-up orders organizations.
func SortVietnamese(names []string) {
	col := collate.New(language.Vietnamese, collate.Numeric) // not safe to share: one per sort
	slices.SortFunc(names, func(a, b string) int {
		if c := col.CompareString(a, b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}
