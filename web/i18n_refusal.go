package web

// A refusal of the API as a person reads it on a page (api/said.go): the
// field by its label, never its JSON path, the error code or the engine's
// English. Keys under "refusal." are sentences; "field." are labels of
// fields that no form labels elsewhere.
func init() {
	messagesOf(map[string][2]string{
		// By kind, when the field has no label.
		"refusal.invalid":      {"Dữ liệu nhập chưa đúng; hãy kiểm tra lại.", "Something entered is not right; check it again."},
		"refusal.conflict":     {"Việc này không làm được ở trạng thái hiện tại; hãy tải lại trang.", "This cannot be done in the present state; reload the page."},
		"refusal.not_found":    {"Không tìm thấy mục được yêu cầu (có thể đã bị xóa hoặc gõ sai địa chỉ).", "What was asked for was not found (deleted, or a mistyped address)."},
		"refusal.unauthorized": {"Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.", "Your session has ended. Please sign in again."},
		"refusal.forbidden":    {"Vai trò của bạn không được làm việc này.", "Your role may not do this."},
		"refusal.too_large":    {"Tệp hoặc nội dung gửi lên quá lớn.", "The file or the content sent is too large."},
		"refusal.unavailable":  {"Máy chủ tạm thời không ghi được dữ liệu (ổ đĩa đầy hoặc kho dữ liệu không sẵn sàng); chưa có gì được lưu. Hãy thử lại sau ít phút.", "The server cannot store anything now (a full disk, or the store is down); nothing was saved. Try again in a few minutes."},
		"refusal.too_many":     {"Thử quá nhiều lần; hãy đợi một lát rồi thử lại.", "Too many attempts; wait a moment and try again."},
		"refusal.unsupported":  {"Loại tệp hoặc dữ liệu này không được hỗ trợ.", "This kind of file or content is not supported."},
		"refusal.internal":     {"Máy chủ gặp lỗi; hãy báo cho người quản trị (mã yêu cầu ở cuối trang hoặc trong nhật ký máy chủ).", "The server failed; tell the administrator (the request id is in the server's log)."},
		// By kind, naming the field.
		"refusal.required":           {"Cần nhập mục “%s”.", "“%s” is required."},
		"refusal.field.invalid":      {"Mục “%s” chưa đúng; hãy kiểm tra lại.", "“%s” is not right; check it again."},
		"refusal.field.conflict":     {"Mục “%s” không phù hợp với trạng thái hiện tại; hãy tải lại trang.", "“%s” does not fit the present state; reload the page."},
		"refusal.field.not_found":    {"Không tìm thấy: mục “%s” nêu một thứ không có.", "Not found: “%s” names something that does not exist."},
		"refusal.field.unauthorized": {"Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại (mục “%s”).", "Your session has ended. Please sign in again (“%s”)."},
		"refusal.field.forbidden":    {"Vai trò của bạn không được làm việc này (mục “%s”).", "Your role may not do this (“%s”)."},
		"refusal.field.too_large":    {"Mục “%s” quá lớn.", "“%s” is too large."},
		"refusal.field.unavailable":  {"Máy chủ tạm thời không ghi được dữ liệu; chưa có gì được lưu (mục “%s”). Hãy thử lại sau ít phút.", "The server cannot store anything now; nothing was saved (“%s”). Try again in a few minutes."},
		"refusal.field.too_many":     {"Thử quá nhiều lần (mục “%s”); hãy đợi một lát rồi thử lại.", "Too many attempts (“%s”); wait a moment and try again."},
		"refusal.field.unsupported":  {"Mục “%s”: loại tệp này không được hỗ trợ.", "“%s”: this kind of file is not supported."},
		"refusal.field.internal":     {"Máy chủ gặp lỗi (mục “%s”); hãy báo cho người quản trị.", "The server failed (“%s”); tell the administrator."},
		// Where the field is.
		"refusal.row":       {"%s (dòng %d)", "%s (row %d)"},
		"refusal.file_row":  {"dòng %d của tệp", "row %d of the file"},
		"refusal.file_cell": {"dòng %d, cột %s của tệp", "row %d, column %s of the file"},
		// The refusals a person meets often, in full.
		"refusal.conflict.id":    {"Mã này đã được dùng; hãy chọn mã khác.", "This id is taken; choose another."},
		"refusal.conflict.state": {"Cuộc bầu không còn ở trạng thái cho phép việc này (đã bắt đầu, kết thúc hoặc đã xác nhận); hãy tải lại trang.", "The round is no longer in a state that allows this (opened, closed or certified meanwhile); reload the page."},
		"refusal.close.collected": {"Số phiếu thu vào (%d) nhiều hơn số phiếu phát ra (%d): Ban Kiểm phiếu phải làm rõ chênh lệch trước khi kết thúc kiểm phiếu.",
			"%d ballots were collected but only %d issued: the counting committee must resolve the difference before closing."},
		"refusal.not_open.draft":           {"Cuộc bầu chưa bắt đầu kiểm phiếu: bàn kiểm phiếu chưa nhận phiếu.", "Counting has not started: the desk takes no ballots yet."},
		"refusal.not_open.closed":          {"Cuộc bầu đã kết thúc kiểm phiếu: bàn kiểm phiếu không nhận thêm phiếu.", "Counting is closed: the desk takes no more ballots."},
		"refusal.not_open.certified":       {"Cuộc bầu đã được xác nhận: bàn kiểm phiếu không nhận thêm phiếu.", "The round is certified: the desk takes no more ballots."},
		"refusal.ballot.strike":            {"Phiếu gạch tên dùng cho danh sách có số dư (nhiều người hơn số lượng cần bầu); danh sách không có số dư dùng phiếu đồng ý / không đồng ý.", "A strike ballot is for a list with a surplus (more names than seats); a list without one uses the agree / disagree ballot."},
		"refusal.ballot.approve":           {"Phiếu đồng ý / không đồng ý dùng cho danh sách không có số dư; danh sách có số dư dùng phiếu gạch tên.", "The agree / disagree ballot is for a list without a surplus; a list with one uses the strike ballot."},
		"refusal.candidates.none":          {"Cần ít nhất một người trong danh sách bầu cử.", "The list needs at least one candidate."},
		"refusal.candidates.surplus_one":   {"Bầu từ 3 đến 5 người thì danh sách có số dư đúng 1 người (Điều 14).", "For 3 to 5 seats the list has a surplus of exactly 1 (Điều 14)."},
		"refusal.candidates.surplus_limit": {"Số dư vượt quá 30% số lượng cần bầu (Điều 14); bớt người trong danh sách hoặc xem lại số lượng cần bầu.", "The surplus exceeds 30% of the seats (Điều 14); take names off the list or check the seats."},
		"refusal.candidates.no_surplus":    {"Danh sách bầu cử phải có số dư: nhiều người hơn số lượng cần bầu (Điều 14).", "The list must have a surplus: more names than seats (Điều 14)."},
		"refusal.exclusions.all":           {"Số loại trừ bằng hoặc vượt số được triệu tập: không còn mẫu số D.", "The exclusions equal or exceed those convened: no denominator D is left."},
		"refusal.vote_missing":             {"Không thực hiện được — mục “Biểu quyết quyết định”: đại hội chưa ghi biểu quyết “%s”.", "Refused — “Deciding vote”: the congress has recorded no vote “%s”."},
		// The import of a candidate list, by column.
		"refusal.import.name":      {"Dòng %d, cột “%s”: cần họ và tên (tối đa 200 ký tự).", "Row %d, column “%s”: a full name is required (at most 200 characters)."},
		"refusal.import.gender":    {"Dòng %d, cột “%s”: giới tính phải là Nam hoặc Nữ.", "Row %d, column “%s”: the gender must be Nam or Nữ."},
		"refusal.import.birth":     {"Dòng %d, cột “%s”: ngày sinh phải là ngày/tháng/năm (ví dụ 20/07/1975), năm-tháng-ngày (1975-07-20) hoặc chỉ năm sinh (1975).", "Row %d, column “%s”: the birth date must be day/month/year (20/07/1975), year-month-day (1975-07-20) or a year alone (1975)."},
		"refusal.import.yes_no":    {"Dòng %d, cột “%s”: ghi x, có hoặc 1 nếu có; để trống, không hoặc 0 nếu không.", "Row %d, column “%s”: write x, có or 1 for yes; leave empty, không or 0 for no."},
		"refusal.import.id":        {"Dòng %d, cột “%s”: cần mã, không trùng với dòng khác.", "Row %d, column “%s”: an id is required, not the same as another row's."},
		"refusal.import.duplicate": {"Cột “%s” trùng với cột “%s”.", "The column “%s” is the same as “%s”."},
		"refusal.import.no_name":   {"Dòng tiêu đề (dòng %d) không có cột “Họ và tên”.", "The header row (row %d) has no “Họ và tên” (name) column."},
		"refusal.import.empty":     {"Tệp trống hoặc không có ai dưới dòng tiêu đề: cần dòng tiêu đề (Họ và tên, Giới tính, Ngày sinh, …) và mỗi người một dòng.", "The file is empty or has nobody below the header: it needs a header row (Họ và tên, Giới tính, Ngày sinh, …) and one row per candidate."},
		"refusal.import.too_many":  {"Tệp có quá %d người, số lớn nhất một cuộc bầu được có.", "The file has more than %d candidates, the most a contest may have."},
		"refusal.import.format":    {"Không đọc được tệp: cần tệp Excel (XLSX; tệp .xls cũ hãy lưu lại thành .xlsx) hoặc CSV lưu dạng “CSV UTF-8”.", "The file cannot be read: it must be an Excel (XLSX; save an old .xls as .xlsx) or a CSV saved as “CSV UTF-8”."},

		// Labels of fields that no form labels elsewhere.
		"field.id":       {"Mã", "Id"},
		"field.from":     {"Bầu từ", "Elected from"},
		"field.file":     {"Tệp", "File"},
		"field.keyings":  {"Phiếu đã nhập", "Ballot keyed"},
		"field.position": {"Số thứ tự phiếu trong tệp", "Position in the stack"},
		"field.note":     {"Ghi chú", "Note"},
	})
}
