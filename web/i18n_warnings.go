package web

import "github.com/kiemphieu/kiemphieu/tally"

// Warnings (tally.Warning) in the words of the pages and the minutes: each
// names what to check; none blocks a step. The arguments are the
// warning's Args, in order.
func init() {
	messagesOf(map[string][2]string{
		"warning.title": {"Cần kiểm tra", "To check"},
		"warning.valid_over_d": {"Số phiếu hợp lệ (%s) lớn hơn số để tính tỷ lệ D = %s: không thể có nhiều người bỏ phiếu hơn D. Kiểm tra lại D và các trường hợp được trừ.",
			"Valid ballots (%s) exceed D = %s: there cannot be more voters than D. Check D and its exclusions."},
		"warning.collected_over_d": {"Số phiếu thu vào (%s) lớn hơn D = %s. Kiểm tra lại D (đảng viên sinh hoạt tạm thời nơi khác về dự đại hội được tính vào D) và phiếu có do Ban kiểm phiếu phát ra không.",
			"Ballots collected (%s) exceed D = %s. Check D (members attending temporarily elsewhere who came count in D) and that every ballot was issued by the counting committee."},
		"warning.votes_over_d": {"Số phiếu bầu của %s lớn hơn D = %s (tỷ lệ trên 100%%). Kiểm tra lại D và các trường hợp được trừ.",
			"Votes for %s exceed D = %s (a share over 100%%). Check D and its exclusions."},
		"warning.duplicate_name": {"Có %s người cùng họ tên “%s”: kiểm tra không phải một người được nhập hai lần; phiếu bầu in năm sinh để phân biệt.",
			"%s candidates are named “%s”: check it is not one person entered twice; the ballot paper prints their birth years."},
		"warning.counting_member_on_list": {"Đồng chí %s vừa là thành viên Ban kiểm phiếu vừa có tên trong danh sách bầu cử; thành viên Ban kiểm phiếu phải là người không có tên trong danh sách bầu cử (Quy định 190-QĐ/TW, Điều 8.1).",
			"%s is both on the counting committee and on the list; members of the counting committee must not be on the list (190-QĐ/TW Article 8.1)."},
		"warning.from_kind": {"Liên kết \"bầu từ\" còn thiếu hoặc khác loại: Ban Thường vụ bầu từ Ban Chấp hành; Bí thư, Phó Bí thư từ Ban Thường vụ (hoặc Chi ủy); Chủ nhiệm, Phó Chủ nhiệm từ Ủy ban Kiểm tra.",
			"The \"elected from\" link is missing or of another kind: the standing committee from the committee; the secretary and deputies from the standing committee (or branch committee); the inspection chair and vice-chairs from the inspection committee."},
		"warning.standing_committee_small": {"Ban Chấp hành dưới 9 ủy viên: chỉ bầu Ban Thường vụ khi Ban Chấp hành có từ 9 ủy viên trở lên (Điều lệ Đảng, Điều 22.5).",
			"The committee has fewer than 9 members: a standing committee is elected only where it has 9 or more (Party Charter, Article 22.5)."},
	})
}

// Warning words a warning in the page's language.
func (l Lang) Warning(w tally.Warning) string {
	args := make([]any, len(w.Args))
	for i, a := range w.Args {
		args[i] = a
	}
	return l.T("warning."+string(w.Code), args...)
}
