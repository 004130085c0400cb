package web

import "time"

// VerifyTime writes a record's RFC 3339 stamp in Vietnam time for the
// verify page: as the minutes write it in Vietnamese ("14 giờ 05, ngày 20
// tháng 5 năm 2025"), as a plain date and time in English. An empty or
// malformed stamp gives "".
func VerifyTime(stamp string, l Lang) string {
	if l != English {
		s, _ := minutesStamp(stamp)
		return s
	}
	t, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return ""
	}
	return t.In(minutesZone()).Format("2 January 2006, 15:04 (UTC+7)")
}

// Messages of the verify page (/verify, /verify/{hash}).
func init() {
	messagesOf(map[string][2]string{
		"verify.title":        {"Kiểm tra biên bản kiểm phiếu", "Verify counting minutes"},
		"verify.intro":        {"Nhập mã kiểm chứng sổ phiếu (64 ký tự) in ở cuối biên bản kiểm phiếu, hoặc quét mã QR trên biên bản. Dịch vụ sẽ đọc lại toàn bộ sổ phiếu đã lưu, kiểm tra chuỗi mã băm, kiểm lại phiếu và so với kết quả đã đếm.", "Enter the log hash (64 characters) printed at the foot of the counting minutes, or scan the minutes' QR code. The service re-reads the whole stored log, checks its hash chain, recounts it and compares the recount with the stored count."},
		"verify.hash":         {"Mã kiểm chứng", "Log hash"},
		"verify.submit":       {"Kiểm tra", "Verify"},
		"verify.bad_hash":     {"“%s” không phải là mã kiểm chứng: mã gồm đúng 64 ký tự 0–9 và a–f.", "“%s” is not a log hash: a hash is exactly 64 characters 0–9 and a–f."},
		"verify.not_found":    {"Không có vòng bầu nào đã kết thúc kiểm phiếu mang mã %s. Hãy so lại từng ký tự với mã in trên biên bản.", "No counted round has the hash %s. Compare it character by character with the hash printed on the minutes."},
		"verify.found":        {"Kết quả kiểm tra", "Verification"},
		"verify.matched":      {"Khớp: sổ phiếu lưu trữ liền mạch, kết thúc đúng bằng mã này, và kiểm lại từ đầu cho đúng kết quả đã đếm.", "Matched: the stored log is unbroken, ends with exactly this hash, and recounting it from the start gives the stored count."},
		"verify.mismatch":     {"Không khớp:", "Does not match:"},
		"verify.draft":        {"Vòng bầu này đã kết thúc kiểm phiếu nhưng chưa được chứng nhận: biên bản in ra là bản dự thảo.", "This round is counted but not certified: printed minutes are a draft."},
		"verify.private":      {"Kết quả của vòng bầu này chỉ công khai sau khi được chứng nhận; đăng nhập để xem.", "This round's result is public only once certified; sign in to see it."},
		"verify.organization": {"Tổ chức đảng", "Party organization"},
		"verify.congress":     {"Đại hội", "Congress"},
		"verify.contest":      {"Cuộc bầu", "Election"},
		"verify.round":        {"Lần bầu", "Round"},
		"verify.closed":       {"Khóa sổ phiếu", "Log closed"},
		"verify.certified":    {"Chứng nhận", "Certified"},
		"verify.entries":      {"Số mục trong sổ phiếu", "Log entries"},
		"verify.head":         {"Mã kiểm chứng", "Log hash"},
		"verify.summary":      {"Kết quả kiểm lại từ sổ phiếu", "Result recounted from the log"},
		"verify.d":            {"Số để tính tỷ lệ (D)", "Denominator (D)"},
		"verify.threshold":    {"Trúng cử khi được từ", "Elected with at least"},
		"verify.votes":        {"%s phiếu", "%s votes"},
		"verify.votes_col":    {"Số phiếu", "Votes"},
		"verify.ballots":      {"Phiếu thu vào / hợp lệ / không hợp lệ", "Ballots collected / valid / invalid"},
		"verify.seats":        {"Số lượng cần bầu", "Seats"},
		"verify.elected":      {"Trúng cử (theo số phiếu)", "Elected (by votes)"},
		"verify.nobody":       {"Không có người trúng cử.", "Nobody is elected."},
		"verify.tied":         {"Bằng phiếu ở vị trí cuối, bầu lại cho %d chỗ:", "Tied at the last seat, a re-vote for %d seat(s):"},
		"verify.vacant":       {"Còn thiếu %d người so với số lượng cần bầu.", "%d seat(s) left vacant."},
		"verify.name":         {"Họ và tên", "Name"},
		"verify.share":        {"Tỷ lệ so với D", "% of D"},
		"verify.links":        {"Tài liệu", "Documents"},
		"verify.minutes":      {"Biên bản (bản in)", "Minutes (print view)"},
		"verify.pdf":          {"Biên bản (PDF)", "Minutes (PDF)"},
		"verify.export":       {"Sổ phiếu xuất ra (cho lệnh kiemphieu verify)", "Log export (for kiemphieu verify)"},
		"verify.export_who":   {"Sổ phiếu từng lá phiếu (để kiểm lại bằng lệnh kiemphieu verify) chỉ cấp cho người đã đăng nhập: Ban Kiểm phiếu, cấp ủy cấp trên.", "The per-ballot log (to recount with kiemphieu verify) is given only to those signed in: the counting committee, the higher committee."},

		"verify.problem.length":    {"Sổ phiếu có %d mục, nhưng vòng bầu được khóa ở mục thứ %d.", "The log has %d entries, but the round was closed at entry %d."},
		"verify.problem.seq":       {"Mục thứ %d bị thiếu hoặc sai thứ tự.", "Entry %d is missing or out of order."},
		"verify.problem.prev":      {"Mục thứ %d không nối tiếp mục trước: chuỗi mã băm bị đứt.", "Entry %d does not follow the one before: the hash chain is broken."},
		"verify.problem.hash":      {"Mục thứ %d đã bị sửa: mã băm của mục không khớp với nội dung.", "Entry %d has been altered: its hash does not match its content."},
		"verify.problem.chain":     {"Chuỗi mã băm của sổ phiếu không hợp lệ.", "The log's hash chain is not valid."},
		"verify.problem.head":      {"Sổ phiếu kết thúc bằng mã %s, không phải mã in trên biên bản.", "The log ends with %s, not with the hash printed on the minutes."},
		"verify.problem.replay":    {"Không kiểm lại được sổ phiếu.", "The log cannot be recounted."},
		"verify.problem.counts":    {"Kiểm lại từ sổ phiếu cho kết quả khác với số đếm đã lưu.", "Recounting the log gives a result other than the stored count."},
		"verify.problem.detail":    {"Chi tiết kỹ thuật:", "Technical detail:"},
		"verify.problem.signature": {"Chữ ký của vòng bầu không hợp lệ: bản ghi đã bị sửa sau khi ký, hoặc chữ ký không phải của vòng bầu này.", "The round's signature does not verify: the record was changed after it was signed, or the signature is not this round's."},
		"verify.signed":            {"Ký bởi khóa (dấu vân tay)", "Signed with the key (fingerprint)"},
		"verify.signer.self":       {"khóa của máy này", "this machine's key"},
		"verify.signer.registered": {"khóa đã đăng ký của %s", "the registered key of %s"},
		"verify.signer.unknown":    {"khóa chưa đăng ký ở đây", "a key not registered here"},
	})
}
