// Package tally is the domain of kiemphieu: the election rules of the
// Communist Party of Vietnam (Quy chế bầu cử trong Đảng, 190-QĐ/TW) as pure
// functions, with no I/O and no clock.
//
// A Contest is one round of one election on one ballot paper. Its ballots
// are resolved to Markings, classified (Contest.Classify) and folded into a
// Count, whose Result says who is elected.
//
// Invariants the rest of the project relies on:
//   - The denominator D is those convened less the exclusions of the
//     congress type (Contest.Denominator), never the valid ballots.
//   - Elected means 2·votes > D, decided on integers (OverHalf), never on a
//     rounded percentage; percentages (shopspring/decimal) are for display.
//   - A tie at the last seat elects none of the tied; too few passers leave
//     seats vacant; nothing is decided by age or by lot (Decide).
//   - Candidates are kept in ballot order (SortBallotOrder), and every
//     index in a Marking refers to that order.
package tally
