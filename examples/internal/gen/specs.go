package main

// The numbers below are those of domain-rules §11; examples/README.md says
// where each comes from. Invalid ballots are written as a counter would key
// them: an untouched strike ballot is "struck": [] (over_vote), a ballot with
// every name struck lists them all (no_vote), a write-in is ruled on sight.

var (
	untouched = raw{untouched: true}
	strikeAll = raw{strikeAll: true}
	writeIn   = raw{invalid: "write_in", note: "ghi thêm tên người ngoài danh sách"}
)

var specs = []spec{
	// Ex 1: 20 ballots; 1 untouched (6 kept), 1 with a name written in.
	{dir: "ex01-branch-committee", valid: 18,
		votes:   map[string]int{"A": 17, "B": 15, "C": 14, "D": 12, "E": 11, "F": 10},
		invalid: []raw{untouched, writeIn}},
	// Ex 2: 30 valid ballots.
	{dir: "ex02-more-passers-than-seats", valid: 30,
		votes: map[string]int{"P": 25, "Q": 22, "R": 20, "S": 18}},
	// Ex 3: 40 valid ballots; E and F tie at 26 for the last seat.
	{dir: "ex03-tie-at-cutoff", valid: 40,
		votes: map[string]int{"A": 35, "B": 33, "C": 30, "D": 28, "E": 26, "F": 26, "G": 19}},
	// Ex 3 re-vote: 40 ballots, 1 strikes both names.
	{dir: "ex03-revote", valid: 39,
		votes:   map[string]int{"E": 22, "F": 17},
		invalid: []raw{strikeAll}},
	// Ex 3b: 19 each, so 2 of the 40 ballots are invalid (the example does
	// not say which: one strikes both names, one is left untouched).
	{dir: "ex03b-revote-tied-again", valid: 38,
		votes:   map[string]int{"E": 19, "F": 19},
		invalid: []raw{strikeAll, untouched}},
	// Ex 3c: E 20, F 19, 1 invalid.
	{dir: "ex03c-revote-not-over-half", valid: 39,
		votes:   map[string]int{"E": 20, "F": 19},
		invalid: []raw{strikeAll}},
	// Ex 4 round 1: 195 ballots, 3 invalid, 192 valid.
	{dir: "ex04-delegate-congress-r1", valid: 192,
		votes: map[string]int{
			"c3": 180, "c10": 175, "c14": 170, "c6": 166, "c18": 160, "c1": 155, "c16": 150, "c11": 140,
			"c8": 132, "c17": 120, "c4": 110, "c13": 104, "c7": 98, "c2": 97, "c12": 90, "c15": 75,
			"c9": 60, "c5": 41,
		},
		invalid: []raw{
			untouched,
			{struck: []string{"c5", "c9"}}, // 16 kept for 15 seats
			{invalid: "not_issued", note: "phiếu không có dấu của Ban Chấp hành Đảng bộ huyện"},
		}},
	// Ex 4 round 2: 195 ballots, 190 valid. P..T of the example are c2,
	// c12, c15, c9, c5 (97, 90, 75, 60, 41 in round 1).
	{dir: "ex04-delegate-congress-r2", valid: 190,
		votes: map[string]int{"c2": 120, "c12": 101, "c15": 70, "c9": 50, "c5": 30},
		invalid: []raw{
			{struck: []string{"c5", "c9"}}, // 3 kept for 2 seats
			untouched,
			strikeAll,
			writeIn,
			{invalid: "identifying_mark", note: "có chữ ký ở mặt sau phiếu"},
		}},
	// Ex 5: 20 ballots: 16 đồng ý, 2 không đồng ý, 1 both boxes, 1 neither.
	{dir: "ex05-branch-secretary", valid: 18,
		rows:    map[string]rows{"A": {agree: 16, disagree: 2}},
		invalid: []raw{{marks: map[string]string{"A": "both"}}, {marks: map[string]string{}}}},
	// Ex 5b: 10 đồng ý; the other valid ballots không đồng ý.
	{dir: "ex05b-secretary-not-elected", valid: 18,
		rows:    map[string]rows{"A": {agree: 10, disagree: 8}},
		invalid: []raw{{marks: map[string]string{"A": "both"}}, {marks: map[string]string{}}}},
	// Ex 13 (issue 12, the first meeting): the congress elects a committee
	// of 9 from 11 (D = 30 − 2 = 28; 27 ballots, 1 with a name written in),
	// then the committee's first meeting elects 3 of its members to the
	// standing committee, D = the 9 elected, 9 ballots.
	{dir: "ex17-first-meeting-committee", valid: 26,
		votes:   map[string]int{"A": 25, "B": 24, "C": 23, "D": 22, "G": 21, "H": 20, "K": 19, "L": 18, "M": 16, "N": 12, "P": 9},
		invalid: []raw{writeIn}},
	{dir: "ex17-first-meeting-standing", valid: 9,
		votes: map[string]int{"A": 8, "B": 7, "C": 6, "G": 3}},
	// Ex 6: 15 ballots, all valid; one both/none row per person.
	{dir: "ex06-inspection-committee", valid: 15,
		rows: map[string]rows{
			"X": {agree: 13, disagree: 1, none: 1},
			"Y": {agree: 9, disagree: 5, none: 1},
			"Z": {agree: 7, disagree: 7, both: 1},
		},
		omitNone: []string{"Y"}},
	// Ex 7: one ballot per row of the classification matrix, in its order.
	{dir: "ex07-ballot-classification", explicit: []raw{
		{struck: []string{"c6", "c7"}},             // 5 kept: valid
		{struck: []string{"c1", "c2", "c3", "c4"}}, // 3 kept: valid (under-vote)
		{struck: []string{"c1"}},                   // 6 kept: over_vote
		untouched,                                  // 7 kept: over_vote
		strikeAll,                                  // 0 kept: no_vote
		{invalid: "write_in", note: "gạch 2 tên và ghi thêm một tên ngoài danh sách"},
		{invalid: "not_issued", note: "không có dấu của cấp ủy triệu tập"},
		// Half-struck name: the committee ruled (§4.3) that only a wholly
		// struck name counts as struck, so the ballot is keyed with its
		// 2 struck names: 5 kept, valid.
		{struck: []string{"c1", "c2"}, note: "tên Trần Văn Định bị gạch một nửa; Ban kiểm phiếu kết luận: không tính là gạch"},
		{invalid: "identifying_mark", note: "gạch 2 tên và có chữ ký"},
	}},
	// Ex 8, D = 20: 10 of 20.
	{dir: "ex08a-exactly-half", valid: 20,
		rows: map[string]rows{"c1": {agree: 10, disagree: 10}}},
	// Ex 8, D = 301: 151 and 150 (and a third name for the surplus).
	{dir: "ex08b-d301", valid: 301,
		votes: map[string]int{"A": 151, "B": 150, "C": 100}},
	// Ex 8, D = 20 001: 10 001 votes.
	{dir: "ex08c-d20001-display-rounding", valid: 11000,
		rows: map[string]rows{"c1": {agree: 10001, disagree: 999}}},
	// Ex 9 official round 1: 150 ballots, 2 invalid.
	{dir: "ex09-delegates-r1", valid: 148,
		votes: map[string]int{
			"c1": 140, "c2": 135, "c3": 130, "c4": 128, "c5": 120, "c6": 110,
			"c7": 100, "c8": 95, "c9": 80, "c10": 70, "c11": 66, "c12": 40,
		},
		invalid: []raw{{struck: []string{"c12"}}, writeIn}}, // 11 kept for 10 seats
	// Ex 9 round 2: c10 90, c11 50, c12 8 = 148 valid of 150.
	{dir: "ex09-delegates-r2", valid: 148,
		votes:   map[string]int{"c10": 90, "c11": 50, "c12": 8},
		invalid: []raw{{struck: []string{"c12"}}, strikeAll}}, // 2 kept for 1 seat; none kept
	// Ex 9 alternates: 150 ballots, 1 untouched.
	{dir: "ex09-alternates", valid: 149,
		votes:   map[string]int{"c11": 100, "n1": 85, "c12": 60},
		invalid: []raw{untouched}},
	// Audit B7: 15 ballots; 3 agree with nobody (all không đồng ý, a blank
	// paper, không đồng ý and both boxes), invalid no_vote (244 Điều 17.2).
	{dir: "ex13-approve-votes-for-nobody", valid: 12,
		rows: map[string]rows{
			"X": {agree: 11, disagree: 1},
			"Y": {agree: 9, disagree: 3},
			"Z": {agree: 6, disagree: 6},
		},
		invalid: []raw{
			{marks: map[string]string{"X": "disagree", "Y": "disagree", "Z": "disagree"}},
			{marks: map[string]string{}},
			{marks: map[string]string{"X": "disagree", "Y": "both"}},
		}},
	// Audit B8: a committee meeting of 16, 1 detained: D = 15, 15 ballots.
	{dir: "ex14-committee-meeting-detained", valid: 15,
		votes: map[string]int{"A": 14, "B": 13, "C": 11, "D": 9, "E": 8, "F": 7}},
	// Audit B2: two alternates tie at 90 inside the seats; 1 untouched.
	{dir: "ex15-alternates-rank-tie", valid: 149,
		votes:   map[string]int{"d": 100, "a": 90, "x": 90, "m": 60},
		invalid: []raw{untouched}},
	// Audit B11 and B14: three elected, one in each age band (33,33% each),
	// one born on 29 February.
	{dir: "ex16-composition-leap-day-thirds", valid: 9,
		rows: map[string]rows{
			"P": {agree: 8, disagree: 1},
			"Q": {agree: 7, disagree: 2},
			"R": {agree: 6, disagree: 3},
		}},
	// Ex 10: 120 present; H 36 đồng ý (30,00%: not admitted), K 37
	// (30,83%: admitted). Every one present returns a ballot.
	{dir: "ex10-opinion-30-percent", valid: 120,
		rows: map[string]rows{"H": {agree: 36, disagree: 84}, "K": {agree: 37, disagree: 83}}},
	// Introduction of the secretary by the 9 members of the committee:
	// 9 ballots; one names two people for one place, one names nobody.
	{dir: "ex12a-introduction-secretary", valid: 7,
		votes:   map[string]int{"A": 4, "B": 2, "C": 1, "D": 0, "E": 0, "F": 0, "G": 0, "H": 0, "I": 0},
		invalid: []raw{{named: []string{"A", "B"}}, {nameNone: true}}},
	// Introduction of two deputies: B and C tie at the cut-off.
	{dir: "ex12b-introduction-tie-at-cutoff", valid: 9,
		votes: map[string]int{"A": 7, "B": 4, "C": 4, "D": 2, "E": 0, "F": 0, "G": 0, "H": 0, "I": 0}},
	// B4 of the rules audit: Ex 5b's sole nominee failed (10 of D = 21); the
	// congress added a second name, so round 2 is a strike ballot for 1
	// seat. 20 ballots, 1 strikes both: Hoa kept on 12, Bình on 7.
	{dir: "b4-secretary-r2-added-nominee", valid: 19,
		votes:   map[string]int{"A": 7, "B": 12},
		invalid: []raw{strikeAll}},
	// B5: 3 seats, 2 names, both elected (X on every ballot), 1 vacant.
	{dir: "b5-inspection-vacant-r1", valid: 15,
		rows: map[string]rows{"X": {agree: 15}, "Y": {agree: 10, disagree: 5}}},
	// B5 round 2: the name the congress added, alone for the vacant seat.
	{dir: "b5-inspection-vacant-r2", valid: 15,
		rows: map[string]rows{"Z": {agree: 9, disagree: 6}}},
	// Audit B3: 30 convened, 4 attending temporarily elsewhere, 2 of whom
	// came and voted: only the 2 who did not come are subtracted, D = 28.
	{dir: "ex18-temporary-elsewhere-who-attend", valid: 28,
		votes: map[string]int{"A": 20, "B": 18, "C": 14, "D": 10}},
	// Ex 20, a whole ward congress (examples/README.md): each round's
	// figures; the members' congress has D = 58, 56 present; the first
	// meeting of the committee of 9 has D = 9.
	{dir: "ex20-ward-congress/rounds/01-opinion", valid: 56,
		rows: map[string]rows{"n1": {agree: 20, disagree: 36}}},
	{dir: "ex20-ward-congress/rounds/02-bch-r1", valid: 55,
		votes: map[string]int{"c01": 52, "c02": 50, "c03": 48, "c05": 47, "c09": 45, "c08": 44, "n1": 40, "c04": 35,
			"c06": 29, "c07": 25, "c10": 20},
		invalid: []raw{untouched}},
	{dir: "ex20-ward-congress/rounds/03-bch-r2", valid: 54,
		votes:   map[string]int{"c06": 33, "c07": 14, "c10": 7},
		invalid: []raw{untouched, strikeAll}},
	{dir: "ex20-ward-congress/rounds/04-delegates", valid: 56,
		votes: map[string]int{"c01": 54, "c02": 50, "d3": 46, "d4": 40, "d5": 38, "d6": 22}},
	{dir: "ex20-ward-congress/rounds/05-standing", valid: 9,
		votes: map[string]int{"c01": 9, "c02": 8, "c03": 6, "c05": 3}},
	{dir: "ex20-ward-congress/rounds/06-introduction", valid: 9,
		votes: map[string]int{"c01": 7, "c02": 2, "c03": 0}},
	{dir: "ex20-ward-congress/rounds/07-secretary", valid: 9,
		rows: map[string]rows{"c01": {agree: 8, disagree: 1}}},
	{dir: "ex20-ward-congress/rounds/08-deputy", valid: 9,
		rows: map[string]rows{"c02": {agree: 7, disagree: 2}}},
	{dir: "ex20-ward-congress/rounds/09-inspection", valid: 9,
		rows: map[string]rows{"c09": {agree: 9}, "k2": {agree: 8, disagree: 1}, "k3": {agree: 7, disagree: 2}}},
	{dir: "ex20-ward-congress/rounds/10-inspection-chair", valid: 9,
		rows: map[string]rows{"c09": {agree: 9}}},
	{dir: "ex20-ward-congress/rounds/11-inspection-vice-chair", valid: 3,
		rows: map[string]rows{"k2": {agree: 3}}},
}
