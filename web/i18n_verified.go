package web

// Messages of verified entry (nhập kép / nhập ba): the desk's stack and
// position (desk.v_*, handed to desk.js with the other desk.* keys) and
// the committee's stacks page (stacks.*, handed to stacks.js).
func init() {
	messagesOf(map[string][2]string{
		"desk.v_mode":          {"Nhập phiếu theo tệp: mỗi phiếu chỉ được tính khi %d bàn nhập khớp nhau.", "Keying by stack: a ballot counts only when %d desks agree."},
		"desk.v_stack":         {"Tệp số", "Stack"},
		"desk.v_position":      {"Phiếu thứ", "Position"},
		"desk.v_of":            {"%d / %d", "%d of %d"},
		"desk.v_choose":        {"Nhập số tệp rồi nhấn Enter.", "Type the stack number, then press Enter."},
		"desk.v_no_stack":      {"Tệp %d chưa được Ban Kiểm phiếu khai báo.", "Stack %d has not been declared by the committee."},
		"desk.v_stack_done":    {"Bàn này đã nhập hết tệp %d. Chọn tệp khác.", "This desk has keyed all of stack %d. Choose another stack."},
		"desk.status_pending":  {"đã ghi, chờ bàn khác (%d/%d)", "recorded, waiting for other desks (%d/%d)"},
		"desk.status_accepted": {"khớp — đã tính", "agreed — counted"},
		"desk.status_disputed": {"lệch — chờ Ban Kiểm phiếu quyết định", "differs — waits for the committee"},
		"desk.status_settled":  {"đã xong trước khi bàn này nhập — không ghi", "settled before this desk keyed it — not recorded"},
		"desk.v_settled":       {"Phiếu %s đã được tính hoặc đang chờ Ban Kiểm phiếu: bàn này không cần nhập lại; chuyển sang phiếu tiếp theo.", "Paper %s is already counted or with the committee: this desk need not key it again; go on with the next paper."},
		"stacks.title":         {"Tệp phiếu và phiếu nhập lệch — %s", "Stacks and disputes — %s"},
		"stacks.link":          {"Tệp phiếu, phiếu nhập lệch", "Stacks and disputes"},
		"stacks.mode":          {"Phương thức: %s. Mỗi phiếu chỉ được tính khi %d bàn độc lập nhập khớp nhau.", "Mode: %s. A ballot counts only when %d independent desks agree."},
		"stacks.declare":       {"Khai báo tệp phiếu", "Declare a stack"},
		"stacks.stack":         {"Tệp số", "Stack"},
		"stacks.ballots":       {"Số phiếu trong tệp", "Papers in the stack"},
		"stacks.save":          {"Lưu", "Save"},
		"stacks.progress":      {"Tiến độ", "Progress"},
		"stacks.accepted":      {"Đã tính", "Counted"},
		"stacks.pending":       {"Chờ bàn khác", "Waiting"},
		"stacks.disputed":      {"Lệch", "Disputed"},
		"stacks.empty":         {"Chưa nhập", "Not keyed"},
		"stacks.total":         {"Các tệp: %d phiếu; số phiếu thu vào (biên bản): %s", "Stacks: %d papers; collected (notes): %s"},
		"stacks.mismatch":      {"Tổng các tệp khác số phiếu thu vào: không thể kết thúc kiểm phiếu.", "The stacks do not add up to the paper count collected: counting cannot be closed."},
		"stacks.disputes":      {"Phiếu nhập lệch chờ quyết định", "Disputes waiting for a decision"},
		"stacks.none":          {"Không có phiếu nhập lệch.", "No dispute."},
		"stacks.position":      {"Tệp %d, phiếu thứ %d", "Stack %d, position %d"},
		"stacks.other":         {"Nội dung khác (gõ như ở bàn kiểm phiếu)", "Another entry (typed as at the desk)"},
		"stacks.reason":        {"Lý do (ghi vào biên bản)", "Reason (goes on the minutes)"},
		"stacks.decide":        {"Ban Kiểm phiếu quyết định", "Record the committee's decision"},
		"stacks.decided":       {"Đã ghi quyết định: %s", "Decision recorded: %s"},
		"stacks.struck":        {"gạch: %s", "struck: %s"},
		"stacks.untouched":     {"không gạch tên nào", "no name struck"},
		"stacks.invalid":       {"không hợp lệ: %s", "invalid: %s"},
		"stacks.need_choice":   {"Chọn một nội dung hoặc gõ nội dung khác.", "Choose an entry or type another."},
		"stacks.setup":         {"Điều hành cuộc bầu", "Election control"},
		"stacks.minutes":       {"Biên bản kiểm phiếu", "Counting minutes"},
		"stacks.refresh":       {"Tự cập nhật mỗi 3 giây.", "Refreshes every 3 seconds."},
	})
}
