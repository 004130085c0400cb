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
		"meeting.appointments.help":     {"Chức danh, cơ quan do cấp ủy cấp trên chỉ định, không bầu bằng phiếu (ví dụ: bí thư chi bộ sau ba lần bầu không đủ số phiếu). Ghi qua API: POST /api/v1/congresses/{id}/appointments.", "Offices filled by the higher committee's appointment, without a ballot (e.g. a branch secretary after three failed rounds). Recorded through the API: POST /api/v1/congresses/{id}/appointments."},
		"meeting.appointments.none":     {"Chưa có chỉ định.", "No appointments."},
		"meeting.appointment.kind":      {"Chức danh", "Office"},
		"meeting.appointment.people":    {"Người được chỉ định", "Appointed"},
		"meeting.appointment.authority": {"Cơ quan chỉ định", "Appointed by"},
		"meeting.appointment.decision":  {"Quyết định", "Decision"},
		"meeting.appointment.after":     {"sau cuộc bầu %s", "after the election %s"},
		"meeting.appointment.delete":    {"Xóa", "Delete"},
		"meeting.appointment.confirm":   {"Xóa chỉ định này?", "Delete this appointment?"},

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
