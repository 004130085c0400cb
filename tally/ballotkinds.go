package tally

import (
	"slices"
)

// Opinion and introduction ballots (issue 12, deliverable 4): two contest
// kinds counted at the desk like elections, but which elect nobody. An
// opinion ballot (phiếu xin ý kiến) admits nominees to a list; an
// introduction ballot (phiếu giới thiệu) forms a list from an eligible body.

// Elects reports whether a contest of this kind elects anyone. Opinion and
// introduction ballots form a list instead: they are left out of the
// roll-up's elections and of the composition of those elected, and the
// rules that are about electing (a multi-name approve ballot agreeing with
// nobody is invalid, 244 Điều 17.2; the surplus of Điều 14; further
// rounds) do not bind them.
func (k ContestKind) Elects() bool {
	return k != KindOpinion && k != KindIntroduction
}

// OpinionThreshold is the least number of đồng ý with which a nominee is
// admitted by an opinion ballot: "từ hơn 30% tổng số đại biểu (đảng viên)
// dự đại hội" (190-QĐ/TW Điều 14.3) is strictly more than 30% of those
// present, decided on integers: the least v with 10·v > 3·present. With
// 120 present it is 37 (36 is exactly 30%: not admitted; domain-rules Ex 10).
func OpinionThreshold(present int) int { return 3*present/10 + 1 }

// Admitted reports 10·agree > 3·present (see OpinionThreshold), never
// decided on a rounded percentage.
func Admitted(agree, present int) bool { return agree >= OpinionThreshold(present) }

// classifyNamed decides an introduction ballot: it may name up to seats
// people (04-HD/TW 2024 item 8 [U]; docs/architecture.md, choices). Naming
// more is an over-vote, naming nobody a ballot that introduces nobody.
func classifyNamed(named, seats int) Reason {
	switch {
	case named == 0:
		return ReasonNoVote
	case named > seats:
		return ReasonOverVote
	}
	return Valid
}

// decideKind decides a round by its kind: elections by Decide, opinion
// ballots by DecideOpinion, introduction ballots by DecideIntroduction.
func (c *Contest) decideKind(d int, votes []int) Decision {
	switch c.Kind {
	case KindOpinion:
		return DecideOpinion(c.Electorate.Present, votes)
	case KindIntroduction:
		return DecideIntroduction(c.Seats, votes)
	}
	return Decide(c.Seats, d, votes)
}

// Threshold is the result's threshold for this contest: the least number
// of đồng ý that admits a nominee on an opinion ballot, else the least vote
// over half of D (on an introduction ballot, for information only: the
// list is formed from the top, not by a majority).
func (c *Contest) Threshold() int {
	if c.Kind == KindOpinion {
		return OpinionThreshold(c.Electorate.Present)
	}
	return Threshold(c.Denominator())
}

// DecideOpinion admits every nominee with 10·agree > 3·present, each on
// its own; Elected lists the admitted by votes (ties in ballot order).
// Nothing is tied or vacant: the congress then decides the list (§3.2).
func DecideOpinion(present int, agree []int) Decision {
	dec := Decision{Status: make([]Status, len(agree)), Elected: []int{}, Tied: []int{}}
	for i, v := range agree {
		dec.Status[i] = StatusNotAdmitted
		if Admitted(v, present) {
			dec.Status[i] = StatusAdmitted
			dec.Elected = append(dec.Elected, i)
		}
	}
	slices.SortStableFunc(dec.Elected, func(a, b int) int { return agree[b] - agree[a] })
	return dec
}

// DecideIntroduction forms the list of an introduction ballot (04-HD/TW
// 2024 item 8 [U]; the reading of the rules audit, documented as the
// default in docs/architecture.md): the seats names with the most votes,
// from the top. When those tied at the cut-off do not all fit, none of
// them is introduced: they are Tied (status tie) and RevoteSeats says how
// many of them the list still takes — the congress or the committee's head
// decides, never the engine (domain-rules §3.1). Names with no vote are
// never introduced; if fewer than seats were named at all, the rest is
// Vacant.
func DecideIntroduction(seats int, votes []int) Decision {
	return decideFromTop(seats, votes, func(v int) bool { return v > 0 }, StatusIntroduced, StatusNotIntroduced)
}

// validateBallotKind checks what is particular to opinion and
// introduction contests, and that the others use neither their ballot
// style nor the number present.
func (c *Contest) validateBallotKind(p *problems) {
	n := len(c.Candidates)
	e := c.Electorate
	if e.Present < 0 {
		p.add("electorate.present", "must not be negative; got %d", e.Present)
	}
	switch c.Kind {
	case KindOpinion:
		if c.Ballot != StyleApprove {
			p.add("ballot", `an opinion ballot (phiếu xin ý kiến) is an "approve" ballot, đồng ý / không đồng ý for each nominee; got %q`, c.Ballot)
		}
		if n > 0 && c.Seats != n {
			p.add("seats", "an opinion ballot decides each nominee on its own: seats must be the number of nominees, %d; got %d", n, c.Seats)
		}
		switch {
		case e.Present == 0:
			p.add("electorate.present", "required for an opinion ballot: a nominee is admitted by more than 30%% of those present (190-QĐ/TW Điều 14.3)")
		case e.Present > e.Convened && e.Convened >= 1:
			p.add("electorate.present", "%d present is more than the %d convened", e.Present, e.Convened)
		}
		return
	case KindIntroduction:
		if c.Ballot != StyleName {
			p.add("ballot", `an introduction ballot (phiếu giới thiệu) uses the "name" ballot: each voter names up to seats people of the list; got %q`, c.Ballot)
		}
		if n > 0 && c.Seats > n {
			p.add("seats", "an introduction ballot forms a list of at most the %d people eligible; got %d", n, c.Seats)
		}
	default:
		if c.Ballot == StyleName {
			p.add("ballot", `the "name" ballot is the introduction ballot's (kind "introduction"); an election uses "strike" or "approve"`)
		}
	}
	if e.Present > 0 {
		p.add("electorate.present", "only an opinion ballot takes the number present (its base); D of a %q contest comes from those convened and the exclusions", c.Kind)
	}
}

// StatusVietnamese words a status as the minutes of a contest of kind k
// print it: on an introduction ballot a tie at the cut-off is not re-voted
// by the engine's rule but decided by the congress or the committee's head.
func (k ContestKind) StatusVietnamese(s Status) string {
	if k == KindIntroduction && s == StatusTie {
		return "Bằng phiếu ở vị trí cuối: đại hội (người chủ trì) quyết định"
	}
	return s.Vietnamese()
}

// ReasonVietnamese words an invalid reason for a contest of kind k: an
// introduction ballot that names nobody strikes nothing.
func (k ContestKind) ReasonVietnamese(r Reason) string {
	if k == KindIntroduction && r == ReasonNoVote {
		return "Không giới thiệu ai (không ghi tên nào)"
	}
	return r.Vietnamese()
}

// CountTitle is the heading of a round's counting minutes and of the CLI's
// text table: biên bản kiểm phiếu, of an election, an opinion ballot or an
// introduction ballot.
func (k ContestKind) CountTitle() string {
	switch k {
	case KindOpinion:
		return "BIÊN BẢN KIỂM PHIẾU XIN Ý KIẾN"
	case KindIntroduction:
		return "BIÊN BẢN KIỂM PHIẾU GIỚI THIỆU"
	}
	return "BIÊN BẢN KIỂM PHIẾU"
}

// PercentColumn heads the column of percentages: of D, or of those present
// on an opinion ballot.
func (k ContestKind) PercentColumn() string {
	if k == KindOpinion {
		return "Tỷ lệ so với số có mặt"
	}
	return "Tỷ lệ so với D"
}

// OutcomeHeading names the part of the minutes (and of the CLI's text)
// listing those a round's Result.Elected lists.
func (k ContestKind) OutcomeHeading() string {
	switch k {
	case KindOpinion:
		return "NGƯỜI ĐƯỢC ĐƯA VÀO DANH SÁCH BẦU CỬ"
	case KindIntroduction:
		return "NGƯỜI ĐƯỢC GIỚI THIỆU"
	}
	return "NGƯỜI TRÚNG CỬ"
}

// ChosenVietnamese names those a round's Result.Elected lists: elected
// (trúng cử), admitted to the list, or introduced.
func (k ContestKind) ChosenVietnamese() string {
	switch k {
	case KindOpinion:
		return "Được đưa vào danh sách"
	case KindIntroduction:
		return "Được giới thiệu"
	}
	return "Trúng cử"
}

// BaseLine is a labelled figure: the base of a round's percentages or the
// mark to reach.
type BaseLine struct {
	Label string
	Count int
}

// BaseVietnamese words the base of a round's percentages and the mark to
// reach, as the CLI's text and the export's summary print them.
func (k ContestKind) BaseVietnamese(r *Result) []BaseLine {
	switch k {
	case KindOpinion:
		return []BaseLine{{"Số đại biểu có mặt (cơ sở tính tỷ lệ)", r.Denominator},
			{"Được đưa vào danh sách khi trên 30% số có mặt đồng ý, từ (phiếu)", r.Threshold}}
	case KindIntroduction:
		return []BaseLine{{"Số để tính tỷ lệ (D)", r.Denominator},
			{"Danh sách giới thiệu: số người có số phiếu cao nhất", r.Seats}}
	}
	return []BaseLine{{"Số để tính tỷ lệ (D)", r.Denominator}, {"Trúng cử từ (phiếu)", r.Threshold}}
}
