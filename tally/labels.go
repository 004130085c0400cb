package tally

import (
	"fmt"
	"strconv"
	"strings"
)

// Vietnamese returns the wording the minutes use for an invalid reason.
func (r Reason) Vietnamese() string {
	switch r {
	case ReasonOverVote:
		return "Bầu quá số lượng cần bầu"
	case ReasonNoVote:
		return "Không bầu ai (gạch hết tên, hoặc không đồng ý với người nào)"
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
	case StatusAdmitted:
		return "Được đưa vào danh sách"
	case StatusNotAdmitted:
		return "Không đưa vào danh sách"
	case StatusIntroduced:
		return "Được giới thiệu"
	case StatusNotIntroduced:
		return "Không được giới thiệu"
	}
	return string(s)
}

// FormatCount writes a whole number the Vietnamese way, with '.' between
// groups of thousands: 1.234.567.
func FormatCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ConvenedVietnamese names those convened as the minutes count them: the
// official members of a members' congress, the official delegates of a
// delegates' congress, the members of a committee meeting.
func (c Congress) ConvenedVietnamese() string {
	switch c {
	case CongressMembers:
		return "Đảng viên chính thức được triệu tập"
	case CongressDelegates:
		return "Đại biểu chính thức được triệu tập"
	}
	return "Thành viên được triệu tập"
}

// ExclusionLine is one group subtracted from those convened to reach D,
// as the minutes name it.
type ExclusionLine struct {
	Field      string // the JSON name under electorate.exclusions
	Vietnamese string
	Count      int
}

// ExclusionLines lists the exclusions that apply to the electorate's
// congress type (zeros included: the minutes state each one), in the order
// Denominator subtracts them.
func (e Electorate) ExclusionLines() []ExclusionLine {
	x := e.Exclusions
	switch e.Congress {
	case CongressMembers:
		return []ExclusionLine{
			// Only those who do not come: members attending temporarily
			// elsewhere who come to the congress count in D (HD 01-HD/TW
			// 2016 §13.2; audit A2/B3).
			{"temporary_elsewhere", "sinh hoạt tạm thời nơi khác, không về dự", x.TemporaryElsewhere},
			{"exempt_absent", "miễn sinh hoạt đảng, vắng mặt", x.ExemptAbsent},
			{"suspended_or_detained", "bị đình chỉ sinh hoạt, khởi tố, truy tố, tạm giam", x.SuspendedOrDetained},
			{"absent_with_leave", "vắng mặt suốt đại hội có lý do chính đáng", x.AbsentWithLeave},
		}
	case CongressDelegates:
		return []ExclusionLine{
			{"committee_absent", "cấp ủy viên triệu tập vắng mặt suốt đại hội", x.CommitteeAbsent},
			{"delegates_absent_unreplaced", "đại biểu vắng mặt không có dự khuyết thay thế", x.DelegatesAbsentUnreplaced},
		}
	case CongressBody:
		// A committee meeting's incumbent members less those suspended or
		// detained (audit A4/B8).
		return []ExclusionLine{
			{"suspended_or_detained", "bị đình chỉ sinh hoạt, khởi tố, truy tố, tạm giam", x.SuspendedOrDetained},
		}
	}
	return nil
}

// VacancyVietnamese is the minutes' sentence for seats left unfilled after
// a round. Delegates and alternates to the higher congress "bầu tiếp"
// (244-QĐ/TW Điều 20.2: "Bầu lần thứ nhất chưa đủ số lượng đại biểu thì bầu
// tiếp"); only after several rounds does the congress decide whether to go
// on. Every other body: the congress decides (domain-rules §5.7).
func VacancyVietnamese(k ContestKind, round int, missing string) string {
	if (k == KindDelegates || k == KindAlternates) && round == 1 {
		return fmt.Sprintf("Còn thiếu %s so với số lượng cần bầu; bầu tiếp (Quy định 244-QĐ/TW, Điều 20.2).", missing)
	}
	if k == KindDelegates || k == KindAlternates {
		return fmt.Sprintf("Còn thiếu %s so với số lượng cần bầu; đã bầu nhiều lần chưa đủ: đại hội quyết định bầu tiếp hay không.", missing)
	}
	return fmt.Sprintf("Còn thiếu %s so với số lượng cần bầu; đại hội quyết định bầu tiếp hay không.", missing)
}

// RankTieVietnamese is the minutes' sentence for elected who share a rank
// whose order matters (Result.RankTies): the tied share one place, and the
// congress decides their order; the list above is never that order.
func RankTieVietnamese(k ContestKind, votes string, names []string) string {
	what := "thứ tự"
	if k == KindAlternates {
		what = "thứ tự thay thế đại biểu chính thức"
	}
	return fmt.Sprintf("Các đồng chí %s bằng phiếu (%s phiếu), cùng một thứ bậc; %s giữa các đồng chí này do đại hội quyết định, không theo thứ tự ghi ở trên.",
		strings.Join(names, ", "), votes, what)
}

// CompositionLine is one line of the composition of those elected.
type CompositionLine struct {
	Label string
	Share
}

// Lines labels the composition report in Vietnamese, in the order the
// minutes print it: women, young cadres, ethnic minorities, re-elected,
// then the age bands (and those of unknown age). p is the contest's
// composition policy, which gives the age bounds their words.
func (r *CompositionReport) Lines(p CompositionPolicy) []CompositionLine {
	out := []CompositionLine{{"Nữ", r.Women}}
	if r.Young != nil {
		out = append(out, CompositionLine{fmt.Sprintf("Cán bộ trẻ (dưới %d tuổi)", p.YoungUnder), *r.Young})
	}
	out = append(out, CompositionLine{"Dân tộc thiểu số", r.EthnicMinority}, CompositionLine{"Tái cử", r.Incumbent})
	for i, band := range r.AgeBands {
		var label string
		switch {
		case band.Label == UnknownBand:
			label = "Không rõ năm sinh"
		case len(p.AgeBands) == 2 && i == 0:
			label = fmt.Sprintf("Dưới %d tuổi", p.AgeBands[0])
		case len(p.AgeBands) == 2 && i == 1:
			label = fmt.Sprintf("Từ %d đến %d tuổi", p.AgeBands[0], p.AgeBands[1])
		case len(p.AgeBands) == 2 && i == 2:
			label = fmt.Sprintf("Trên %d tuổi", p.AgeBands[1])
		default:
			label = "Độ tuổi " + band.Label
		}
		out = append(out, CompositionLine{label, band.Share})
	}
	return out
}

// Vietnamese returns what a show-of-hands vote decided, as the minutes
// name it; an "other" vote is named by its title.
func (v ShowOfHands) Vietnamese() string {
	if v.Title != "" {
		return v.Title
	}
	switch v.Subject {
	case SubjectSeats:
		return "Số lượng cần bầu"
	case SubjectList:
		return "Danh sách bầu cử"
	case SubjectCountingCommittee:
		return "Ban Kiểm phiếu"
	case SubjectPresidium:
		return "Đoàn Chủ tịch"
	case SubjectSecretariat:
		return "Đoàn Thư ký"
	case SubjectCredentialsCommittee:
		return "Ban Thẩm tra tư cách đại biểu"
	case SubjectWithdrawal:
		return "Cho rút khỏi danh sách bầu cử"
	case SubjectAnotherRound:
		return "Bầu tiếp (lần bầu sau)"
	}
	return string(v.Subject)
}

// Vietnamese returns a counting committee member's title.
func (r CommitteeRole) Vietnamese() string {
	switch r {
	case RoleHead:
		return "Trưởng ban"
	case RoleDeputyHead:
		return "Phó Trưởng ban"
	case RoleMember:
		return "Ủy viên" // as the setup form says it
	}
	return string(r)
}

// Vietnamese names the office a kind of contest fills, as a roll-up's
// headings do.
func (k ContestKind) Vietnamese() string {
	switch k {
	case KindCommittee:
		return "Ban Chấp hành (Chi ủy)"
	case KindStandingCommittee:
		return "Ban Thường vụ"
	case KindSecretary:
		return "Bí thư"
	case KindDeputySecretary:
		return "Phó Bí thư"
	case KindInspectionCommittee:
		return "Ủy ban Kiểm tra"
	case KindInspectionChair:
		return "Chủ nhiệm Ủy ban Kiểm tra"
	case KindInspectionViceChair:
		return "Phó Chủ nhiệm Ủy ban Kiểm tra"
	case KindDelegates:
		return "Đại biểu dự đại hội cấp trên"
	case KindAlternates:
		return "Đại biểu dự khuyết"
	case KindOther:
		return "Bầu cử khác"
	case KindOpinion:
		return "Lấy phiếu xin ý kiến"
	case KindIntroduction:
		return "Phiếu giới thiệu"
	}
	return string(k)
}

// Vietnamese words an election's outcome in the roll-up.
func (o ElectionOutcome) Vietnamese() string {
	switch o {
	case OutcomeFilledFirstRound:
		return "Bầu đủ ngay lần 1"
	case OutcomeFilledLaterRound:
		return "Bầu đủ sau khi bầu lại"
	case OutcomeFellShort:
		return "Bầu không đủ số lượng"
	case OutcomePending:
		return "Chưa xác nhận xong"
	case OutcomeAppointed:
		return "Chỉ định"
	}
	return string(o)
}

// Vietnamese words a round's state, as the roll-up lists rounds.
func (s State) Vietnamese() string {
	switch s {
	case StateDraft:
		return "Đang chuẩn bị"
	case StateOpen:
		return "Đang kiểm phiếu"
	case StateClosed:
		return "Đã kiểm xong, chưa xác nhận"
	case StateCertified:
		return "Đã xác nhận"
	}
	return string(s)
}
