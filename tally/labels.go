package tally

// Vietnamese returns the wording the minutes use for an invalid reason.
func (r Reason) Vietnamese() string {
	switch r {
	case ReasonOverVote:
		return "Bầu quá số lượng cần bầu"
	case ReasonNoVote:
		return "Không bầu ai (gạch hết tên)"
	case ReasonAmbiguousSingle:
		return "Đánh dấu cả hai ô hoặc không ô nào (danh sách một người)"
	case ReasonNotIssued:
		return "Không phải phiếu do Ban kiểm phiếu phát ra"
	case ReasonWriteIn:
		return "Ghi thêm tên ngoài danh sách hoặc viết thêm chữ"
	case ReasonIdentifyingMark:
		return "Có chữ ký hoặc ký hiệu riêng"
	case ReasonOther:
		return "Lý do khác"
	}
	return r.String()
}

// Vietnamese returns the wording the minutes use for a status.
func (s Status) Vietnamese() string {
	switch s {
	case StatusElected:
		return "Trúng cử"
	case StatusTie:
		return "Bằng phiếu, bầu lại"
	case StatusNotElected:
		return "Không trúng cử"
	}
	return string(s)
}
