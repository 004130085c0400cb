package web

// Messages of the congress page's D and show-of-hands votes (issue 12):
// the forms, their notices, and every refusal, which names the field by
// its label (api/votes_page.go).
func init() {
	messagesOf(map[string][2]string{
		"hands.electorate.title":  {"Số để tính tỷ lệ biểu quyết (D của đại hội)", "The congress's D (base of its show-of-hands votes)"},
		"hands.electorate.help":   {"Biểu quyết của cả đại hội (Đoàn Chủ tịch, Ban Kiểm phiếu…) thông qua khi số tán thành quá một nửa D này; biểu quyết về một cuộc bầu tính trên D của cuộc bầu đó. Để trống số triệu tập để bỏ D.", "Votes of the whole congress (presidium, counting committee…) pass when approvals exceed half of this D; a vote on a contest uses that contest's D. Leave convened empty to remove D."},
		"hands.electorate.none":   {"Chưa có D của đại hội: biểu quyết không gắn với cuộc bầu nào chỉ được ghi số liệu, không kết luận thông qua.", "No congress D yet: votes naming no contest are recorded as figures only, without an outcome."},
		"hands.electorate.frozen": {"Cuộc bầu “%s” đã được xác nhận: biên bản đã in D này, nên không thay đổi được nữa.", "“%s” is certified: its minutes print this D, so it can no longer change."},
		"hands.electorate.save":   {"Lưu D của đại hội", "Save the congress's D"},
		"hands.electorate_saved":  {"Đã lưu D của đại hội.", "The congress's D is saved."},
		"hands.recorded":          {"Đã ghi biểu quyết %s.", "Vote %s recorded."},
		"hands.deleted":           {"Đã xóa biểu quyết %s.", "Vote %s deleted."},
		"hands.refused":           {"%s:", "%s:"},

		"setup.hands.vote":           {"Mã", "Id"},
		"setup.hands.candidate":      {"Người xin rút (chỉ khi cho rút tên)", "Candidate (withdrawals only)"},
		"setup.hands.figures_only":   {"chỉ ghi số liệu (chưa có D)", "figures only (no D)"},
		"setup.hands.printed":        {"đã in trên biên bản “%s”", "printed on the minutes of “%s”"},
		"setup.hands.none":           {"Chưa có biểu quyết nào.", "No vote recorded yet."},
		"setup.hands.whole_congress": {"(cả đại hội)", "(the whole congress)"},
		"setup.hands.subject_help":   {"Số lượng cần bầu, danh sách, cho rút tên và bầu tiếp phải chọn cuộc bầu; cho rút tên chọn thêm người xin rút; quyết định khác ghi rõ nội dung.", "The number to elect, the list, a withdrawal and another round name a contest; a withdrawal also names the candidate; another decision says what it was."},
		"setup.hands.record":         {"Ghi biểu quyết", "Record the vote"},

		"hands.refused.present_over_d": {"số có mặt (%d) nhiều hơn D (%d): người có mặt nằm trong số D. Kiểm tra lại D (các trường hợp được trừ) hoặc số có mặt.", "%d present is more than D (%d): those present are among D. Check D (its exclusions) or the count."},
		"hands.refused.contest":        {"không có cuộc bầu “%s” trong đại hội này: chọn một cuộc bầu của đại hội.", "there is no contest “%s” in this congress: choose one of its contests."},
		"hands.refused.candidate":      {"đồng chí “%s” không có trong danh sách bầu cử của “%s”.", "“%s” is not on the list of “%s”."},
		"hands.refused.no_vote":        {"không có biểu quyết %s trong đại hội này.", "there is no vote %s in this congress."},
		"hands.refused.printed":        {"biên bản đã xác nhận của “%s” in biểu quyết này: không sửa, không xóa được nữa.", "the certified minutes of “%s” print this vote: it can no longer change or go."},
		"hands.refused.frozen":         {"cuộc bầu %s đã được xác nhận và biên bản của nó in mục này: không thay đổi được nữa.", "round %s is certified and its minutes print this: it can no longer change."},

		"hands.rule.subject":               {"chọn một nội dung biểu quyết trong danh sách.", "choose one of the subjects listed."},
		"hands.rule.contest":               {"biểu quyết số lượng, danh sách, cho rút tên hoặc bầu tiếp phải chọn cuộc bầu được biểu quyết.", "a vote on the number to elect, the list, a withdrawal or another round names the contest it decides."},
		"hands.rule.candidate":             {"biểu quyết cho rút tên phải chọn người xin rút; các nội dung khác không chọn người.", "a withdrawal vote names who withdraws; other subjects name nobody."},
		"hands.rule.title":                 {"với “Quyết định khác”, ghi rõ nội dung đã biểu quyết (tối đa 300 ký tự).", "for “Other decision”, say what was decided (at most 300 characters)."},
		"hands.rule.present":               {"phải từ 1 trở lên và không ít hơn tổng số tán thành, không tán thành và ý kiến khác.", "must be 1 or more, and no fewer than approve + disapprove + other."},
		"hands.rule.approve":               {"phải là số nguyên không âm.", "must be a whole number, not negative."},
		"hands.rule.disapprove":            {"phải là số nguyên không âm.", "must be a whole number, not negative."},
		"hands.rule.other":                 {"phải là số nguyên không âm.", "must be a whole number, not negative."},
		"hands.rule.electorate.congress":   {"chọn loại đại hội: đại hội đảng viên, đại hội đại biểu hoặc hội nghị.", "choose the congress type: members', delegates' or a committee meeting."},
		"hands.rule.electorate.convened":   {"phải từ 1 trở lên.", "must be 1 or more."},
		"hands.rule.electorate.exclusions": {"tổng số được trừ không được bằng hoặc lớn hơn số triệu tập.", "the exclusions may not reach the number convened."},
		"hands.rule.exclusion":             {"phải là số nguyên không âm, và chỉ dùng cho loại đại hội đã chọn.", "must be a whole number, not negative, and only for the congress type chosen."},
		"hands.rule.other_field":           {"không hợp lệ; xem chi tiết bên dưới.", "is not valid; see the detail below."},
	})
}
