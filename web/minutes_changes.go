package web

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kiemphieu/kiemphieu/tally"
)

// MinutesRoundChanges are the list's changes kept on one round's record.
type MinutesRoundChanges struct {
	Round   int
	Changes []tally.ListChange
}

// minutesListChanges is the part "Thay đổi danh sách bầu cử": every change
// of the list of this election — withdrawals (rút khỏi danh sách, decided
// by the congress: 04-HD/TW item 2, 190 Điều 28.4), nominations from the
// floor and self-nominations (190 Điều 14.3), names added to a later round
// (domain-rules §5.7) — of the earlier rounds, then of this one: what, who,
// from where, why, on whose decision (the show of hands with its figures,
// or the opinion ballot), who recorded it and when.
func minutesListChanges(heading string, in MinutesInput) MinutesPart {
	p := MinutesPart{Heading: heading}
	rounds := append(append([]MinutesRoundChanges(nil), in.EarlierChanges...),
		MinutesRoundChanges{Round: in.Record.Contest.Round, Changes: in.Record.Changes})
	var withAny []MinutesRoundChanges
	for _, r := range rounds {
		if len(r.Changes) > 0 {
			withAny = append(withAny, r)
		}
	}
	if len(withAny) == 0 {
		p.Lines = []MinutesLine{{Value: "Không có thay đổi."}}
		return p
	}
	for _, r := range withAny {
		when := fmt.Sprintf("Danh sách bầu cử lần %d:", r.Round)
		if r.Round == in.Record.Contest.Round && r.Round > 1 {
			when = fmt.Sprintf("Danh sách bầu cử lần %d (lần này):", r.Round)
		}
		p.Lines = append(p.Lines, MinutesLine{Value: when})
		for i, ch := range r.Changes {
			p.Lines = append(p.Lines, MinutesLine{Indent: 1, Label: fmt.Sprintf("%d. %s", i+1, changeAction(ch)), Value: changeText(ch, in)})
		}
	}
	return p
}

func changeAction(ch tally.ListChange) string {
	switch ch.Action {
	case tally.ChangeWithdraw:
		return "Rút khỏi danh sách"
	case tally.ChangeNominate:
		return "Bổ sung vào danh sách"
	case tally.ChangeAdd:
		return "Đại hội bổ sung vào danh sách"
	}
	return string(ch.Action)
}

func nominationVietnamese(n tally.Nomination) string {
	switch n {
	case tally.NominatedFloor:
		return "đề cử tại đại hội"
	case tally.NominatedSelf:
		return "tự ứng cử"
	case tally.NominatedCommittee, "":
		return "danh sách do cấp ủy giới thiệu"
	}
	return string(n)
}

func changeText(ch tally.ListChange, in MinutesInput) string {
	parts := []string{"đồng chí " + ch.Name}
	if ch.Action != tally.ChangeWithdraw {
		parts = append(parts, "nguồn: "+nominationVietnamese(ch.Source))
	}
	if ch.Reason != "" {
		parts = append(parts, "lý do: "+ch.Reason)
	}
	if ch.Vote != "" {
		parts = append(parts, "quyết định: "+voteFigures(ch.Vote, in))
	}
	if ch.Opinion != "" {
		parts = append(parts, fmt.Sprintf("được chấp thuận qua phiếu xin ý kiến (cuộc bỏ phiếu %s: trên 30%% đại biểu có mặt đồng ý)", ch.Opinion))
	}
	rec := "ghi nhận: " + ch.By
	if when, ok := minutesStamp(ch.Time); ok {
		rec += ", " + when
	}
	return strings.Join(append(parts, rec), "; ")
}

// voteFigures is a deciding show of hands as the minutes cite it: its
// subject and approve of D — D of the congress's own electorate for a vote
// of the whole congress, else this election's (the same in every round) —
// or of those present when no D is known.
func voteFigures(id string, in MinutesInput) string {
	cg := in.Congress
	if cg == nil {
		return "biểu quyết " + id
	}
	for _, v := range cg.Votes {
		if v.ID != id {
			continue
		}
		d, base := 0, ""
		switch {
		case v.Contest == "" && cg.Electorate != nil:
			d = (&tally.Contest{Electorate: *cg.Electorate}).Denominator()
		case v.Contest == "" || v.Contest == in.Record.Contest.ID || slices.Contains(in.Rounds, v.Contest):
			d = in.Record.Contest.Denominator()
		}
		if d > 0 {
			base = fmt.Sprintf("%s/%s đại biểu", minutesCount(v.Approve), minutesCount(d))
		} else {
			base = fmt.Sprintf("%s/%s đại biểu có mặt", minutesCount(v.Approve), minutesCount(v.Present))
		}
		return fmt.Sprintf("biểu quyết “%s” (%s), tán thành %s", v.Vietnamese(), id, base)
	}
	return "biểu quyết " + id
}
