package web

import (
	"strings"
	"testing"
)

// The part "Thay đổi danh sách bầu cử" prints every change of the
// election's list, the earlier rounds' first, with the deciding vote's
// approve of D, in the HTML and in the PDF; a round without changes says
// so.
func TestMinutesListChanges(t *testing.T) {
	var changed, plain minutesCase
	for _, c := range minutesCases(t) {
		switch c.name {
		case "secretary-r2-list-changes":
			changed = c
		case "committee-certified":
			plain = c
		}
	}
	m := BuildMinutes(changed.in)
	if got, want := m.Changes.Heading, "II. THAY ĐỔI DANH SÁCH BẦU CỬ"; got != want {
		t.Errorf("heading = %q, want %q", got, want)
	}
	var lines []string
	for _, l := range m.Changes.Lines {
		lines = append(lines, l.Text())
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{
		"Danh sách bầu cử lần 1:",
		"1. Rút khỏi danh sách: đồng chí Lê Văn Cường; lý do: Vì lý do sức khỏe; quyết định: biểu quyết “Cho đồng chí Lê Văn Cường rút khỏi danh sách” (v1), tán thành 18/21 đại biểu; ghi nhận: Thư ký đại hội, 9 giờ 10 phút, ngày 20 tháng 5 năm 2025",
		"Danh sách bầu cử lần 2 (lần này):",
		"1. Đại hội bổ sung vào danh sách: đồng chí Trần Thị Hoa; nguồn: đề cử tại đại hội;",
		"(v2), tán thành 15/21 đại biểu; ghi nhận: Thư ký đại hội, 10 giờ 40 phút",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the part lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "lần 1:") > strings.Index(text, "lần 2 (lần này):") {
		t.Errorf("the earlier round's changes are not first:\n%s", text)
	}
	html, flat := minutesRendered(t, m, "-raw")
	for _, s := range []string{"THAY ĐỔI DANH SÁCH BẦU CỬ", "Rút khỏi danh sách: đồng chí Lê Văn Cường", "tán thành 18/21 đại biểu"} {
		if !strings.Contains(html, s) || !containsWords(flat, s) {
			t.Errorf("%q: in the HTML %v, in the PDF %v", s, strings.Contains(html, s), containsWords(flat, s))
		}
	}

	pm := BuildMinutes(plain.in)
	if len(pm.Changes.Lines) != 1 || pm.Changes.Lines[0].Value != "Không có thay đổi." {
		t.Errorf("a round without changes: %+v", pm.Changes.Lines)
	}
}
