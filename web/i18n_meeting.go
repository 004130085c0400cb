package web

// Messages of the first meeting (issue 12, deliverable 5): the kind
// inspection_vice_chair, the order of a congress's elections and its next
// step on the congress page, linked contests, appointments (chỉ định).
func init() {
	messagesOf(map[string][2]string{
		"setup.kind.inspection_vice_chair":  {"Phó chủ nhiệm ủy ban kiểm tra", "Inspection committee vice-chair"},
		"rollup.kind.inspection_vice_chair": {"Phó Chủ nhiệm Ủy ban Kiểm tra", "Inspection vice-chair"},

		"meeting.title":     {"Trình tự bầu cử", "Order of the elections"},
		"meeting.help":      {"Ban Chấp hành → Ban Thường vụ → Bí thư → Phó Bí thư; Ủy ban Kiểm tra → Chủ nhiệm → Phó Chủ nhiệm; Đại biểu chính thức → dự khuyết. Mỗi cuộc bầu ở hội nghị lần thứ nhất chỉ bầu trong số những người vừa trúng cử ở cuộc bầu trước.", "Committee → standing committee → secretary → deputy secretaries; inspection committee → chair → vice-chairs; delegates → alternates. Each first-meeting election elects from among those just elected by the one before."},
		"meeting.not_held":  {"Chưa bầu", "Not held"},
		"meeting.from":      {"bầu từ %s", "elected from %s"},
		"meeting.elected":   {"%d trúng cử", "%d elected"},
		"meeting.not_final": {"chưa xong", "not complete"},
		"meeting.suggest":   {"Bầu %s từ %d ủy viên %s vừa trúng cử", "Elect the %s from the %d members of the %s just elected"},
		"meeting.small":     {"Ban Chấp hành có %d ủy viên (dưới 9): không bầu Ban Thường vụ (Điều lệ Đảng, Điều 22.5).", "The committee has %d members (fewer than 9): no standing committee is elected (Party Charter, Article 22.5)."},

		"meeting.appointments":          {"Chỉ định", "Appointments"},
		"meeting.appointments.help":     {"Chức danh, cơ quan do cấp ủy cấp trên chỉ định, không bầu bằng phiếu (ví dụ: bí thư chi bộ sau ba lần bầu không đủ số phiếu).", "Offices filled by the higher committee's appointment, without a ballot (e.g. a branch secretary after three failed rounds)."},
		"meeting.appointments.none":     {"Chưa có chỉ định.", "No appointments."},
		"meeting.appointment.kind":      {"Chức danh", "Office"},
		"meeting.appointment.people":    {"Người được chỉ định", "Appointed"},
		"meeting.appointment.authority": {"Cơ quan chỉ định", "Appointed by"},
		"meeting.appointment.decision":  {"Quyết định", "Decision"},
		"meeting.appointment.after":     {"sau cuộc bầu %s", "after the election %s"},
		"meeting.appointment.delete":    {"Xóa", "Delete"},
		"meeting.appointment.confirm":   {"Xóa chỉ định này?", "Delete this appointment?"},

		// The appointment form (api/appointments_page.go): its labels, its
		// notice, and every refusal, naming the field by its label.
		"appointment.form.title":     {"Ghi nhận chỉ định", "Record an appointment"},
		"appointment.form.help":      {"Ghi theo quyết định của cấp ủy cấp trên. Ghi ít nhất một người được chỉ định; các dòng để trống được bỏ qua.", "As the higher committee's decision says. At least one person appointed; blank rows are ignored."},
		"appointment.form.record":    {"Ghi nhận chỉ định", "Record the appointment"},
		"appointment.form.no_after":  {"(không gắn với cuộc bầu nào)", "(no election)"},
		"appointment.field.title":    {"Tiêu đề", "Title"},
		"appointment.field.decision": {"Số quyết định", "Decision number"},
		"appointment.field.date":     {"Ngày quyết định", "Date of the decision"},
		"appointment.field.after":    {"Sau cuộc bầu", "After the election"},
		"appointment.field.note":     {"Ghi chú", "Note"},
		"appointment.field.id":       {"Mã chỉ định", "Appointment id"},
		"appointment.field.person":   {"%s (người được chỉ định, dòng %d)", "%s (person appointed, row %d)"},
		"appointment.recorded":       {"Đã ghi chỉ định %s.", "Appointment %s recorded."},

		"appointment.refused.id":             {"đã có chỉ định %s: xóa chỉ định đó trước khi ghi lại.", "there is already an appointment %s: delete it first to record it again."},
		"appointment.rule.kind":              {"chọn một chức danh trong danh sách.", "choose one of the offices listed."},
		"appointment.rule.authority":         {"bắt buộc: ghi cơ quan đã chỉ định (ví dụ “Ban Thường vụ Quận ủy Quận 3”), tối đa 300 ký tự.", "required: who appointed (e.g. “Ban Thường vụ Quận ủy Quận 3”), at most 300 characters."},
		"appointment.rule.title":             {"tối đa 300 ký tự.", "at most 300 characters."},
		"appointment.rule.decision":          {"tối đa 300 ký tự.", "at most 300 characters."},
		"appointment.rule.note":              {"tối đa 300 ký tự.", "at most 300 characters."},
		"appointment.rule.date":              {"phải là một ngày (năm-tháng-ngày).", "must be a date (year-month-day)."},
		"appointment.rule.after":             {"chọn một cuộc bầu của đại hội này, hoặc để trống.", "choose one of this congress's contests, or none."},
		"appointment.rule.people":            {"ghi ít nhất một người được chỉ định (họ và tên).", "name at least one person appointed."},
		"appointment.rule.appointments":      {"đại hội đã có quá nhiều chỉ định (tối đa 200).", "the congress has too many appointments (at most 200)."},
		"appointment.rule.person.name":       {"bắt buộc, tối đa 200 ký tự.", "required, at most 200 characters."},
		"appointment.rule.person.gender":     {"chọn Nam hoặc Nữ, hoặc để trống.", "choose male or female, or leave it empty."},
		"appointment.rule.person.birth_date": {"phải là một ngày (năm-tháng-ngày), không sau ngày quyết định.", "must be a date (year-month-day), not after the decision's date."},
		"appointment.rule.person.id":         {"mã người không hợp lệ hoặc trùng.", "the person's id is not valid or is used twice."},

		"setup.contest.from": {"Bầu từ kết quả của %s: danh sách chỉ gồm những người đã trúng cử ở đó; D mặc định là số người trúng cử.", "Elected from the result of %s: the list holds only those elected there; D defaults to the number elected."},
		"setup.round.from":   {"Bầu từ kết quả của", "Elected from the result of"},

		"meeting.refused.kind":       {"Không có loại cuộc bầu %q.", "There is no contest kind %q."},
		"meeting.refused.from":       {"Không bầu từ kết quả của %s được: cuộc bầu đó phải thuộc cùng đại hội và đã kết thúc kiểm phiếu.", "Cannot elect from the result of %s: that election must be of the same congress and closed."},
		"setup.js.from_refused":      {"Cuộc bầu ở ô \"bầu từ\" không dùng được: phải thuộc cùng đại hội và đã kết thúc kiểm phiếu.", "The election in \"elected from\" cannot be used: it must be of the same congress and closed."},
		"setup.js.not_among_elected": {"Người này không có trong số người trúng cử của cuộc bầu trước (hoặc họ tên khác).", "This person is not among those elected by the election before (or the name differs)."},
		"rollup.outcome.appointed":   {"Chỉ định", "Appointed"},
		"rollup.appointed":           {"Chỉ định", "Appointed"},
		"rollup.appointed_by":        {"sau đó chỉ định: %s", "then appointed: %s"},
	})
}
