package tally

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// CompositionReport is the make-up of those elected (cơ cấu, domain-rules
// §8): each share is count × 100 / Elected under the contest's percent
// policy. A category whose attribute is missing for some of the elected
// carries Unknown; for the age bands the unknown form a last band labelled
// "unknown", so that the band counts always add up to Elected.
type CompositionReport struct {
	Elected        int    `json:"elected"`
	Women          Share  `json:"women"`
	Young          *Share `json:"young,omitempty"`
	EthnicMinority Share  `json:"ethnic_minority"`
	Incumbent      Share  `json:"incumbent"`
	AgeBands       []Band `json:"age_bands,omitempty"`
}

// Share is a count with its percentage of those elected.
type Share struct {
	Count int `json:"count"`
	Percentage
	Unknown int `json:"unknown,omitempty"`
}

// Band is one age group of those elected.
type Band struct {
	Label string `json:"label"`
	Share
}

// UnknownBand labels the elected whose birth date is not known.
const UnknownBand = "unknown"

// composition reports on the elected (indexes), or nil when nobody is.
func (c *Contest) composition(elected []int) *CompositionReport {
	ref, err := time.Parse(time.DateOnly, c.Composition.ReferenceDate)
	people := make([]ElectedPerson, len(elected))
	for k, i := range elected {
		people[k] = ElectedPerson{Candidate: &c.Candidates[i], Reference: ref}
	}
	// Without a reference date there are no ages: young and the bands are
	// omitted, not reported as all unknown.
	return Compose(people, c.Percent, c.Composition, err == nil)
}

// ElectedPerson is one person elected, as the composition report counts
// them: the candidate's attributes and the day their age is taken at (the
// reference date of their contest; zero when it has none).
type ElectedPerson struct {
	Candidate *Candidate
	Reference time.Time
}

// Compose is the composition report of people elected, under one percent
// policy and one set of age bands: a contest's own report, and the
// roll-up's across the congresses of an organization (rollup.go). ages
// says whether any reference date is known; without one the young and
// age-band figures are omitted. A person whose own reference date or
// birth date is missing counts as unknown age. Nil when nobody is elected.
func Compose(people []ElectedPerson, pct PercentPolicy, policy CompositionPolicy, ages bool) *CompositionReport {
	n := len(people)
	if n == 0 {
		return nil
	}
	var women, womenUnknown, ethnic, ethnicUnknown, incumbent, incumbentUnknown int
	for _, p := range people {
		cand := p.Candidate
		switch cand.Gender {
		case GenderFemale:
			women++
		case "":
			womenUnknown++
		}
		tally(cand.EthnicMinority, &ethnic, &ethnicUnknown)
		tally(cand.Incumbent, &incumbent, &incumbentUnknown)
	}
	share := func(count, unknown int) Share {
		return Share{Count: count, Percentage: pct.Of(count, n), Unknown: unknown}
	}
	rep := &CompositionReport{
		Elected:        n,
		Women:          share(women, womenUnknown),
		EthnicMinority: share(ethnic, ethnicUnknown),
		Incumbent:      share(incumbent, incumbentUnknown),
	}
	if !ages {
		return rep
	}
	lo, hi := policy.AgeBands[0], policy.AgeBands[1]
	var young, ageUnknown int
	bands := make([]int, 3)
	for _, p := range people {
		birth, err := time.Parse(time.DateOnly, p.Candidate.BirthDate)
		if err != nil || p.Reference.IsZero() {
			ageUnknown++
			continue
		}
		age := AgeAt(birth, p.Reference)
		if age < policy.YoungUnder {
			young++
		}
		switch {
		case age < lo:
			bands[0]++
		case age <= hi:
			bands[1]++
		default:
			bands[2]++
		}
	}
	y := share(young, ageUnknown)
	rep.Young = &y
	labels := []string{fmt.Sprintf("<%d", lo), fmt.Sprintf("%d-%d", lo, hi), fmt.Sprintf(">%d", hi)}
	for k, label := range labels {
		rep.AgeBands = append(rep.AgeBands, Band{Label: label, Share: share(bands[k], 0)})
	}
	if ageUnknown > 0 {
		rep.AgeBands = append(rep.AgeBands, Band{Label: UnknownBand, Share: share(ageUnknown, 0)})
	}
	return rep
}

func tally(attr *bool, yes, unknown *int) {
	switch {
	case attr == nil:
		*unknown++
	case *attr:
		*yes++
	}
}

// AgeAt is the age in whole years on day ref of someone born on birth. A
// year of age ends on the birthday's day of the month; where that month
// lacks the day (29 February in a common year) it ends on the month's last
// day (Bộ luật Dân sự 2015 Điều 148.1, on periods counted in years): born
// 29/02/1984, one is 41 on 28/02/2025 (audit B14; docs/architecture.md).
func AgeAt(birth, ref time.Time) int {
	age := ref.Year() - birth.Year()
	day := min(birth.Day(), daysIn(birth.Month(), ref.Year()))
	if ref.Month() < birth.Month() || ref.Month() == birth.Month() && ref.Day() < day {
		age--
	}
	return age
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// BandsSumTo100 reports whether the age bands' shown shares add up to
// exactly 100%. Each share is rounded on its own under the percent policy,
// so that every figure can be checked against its count; three thirds show
// as 33,33% each, 99,99% in all, and the minutes then say so (audit B11)
// rather than bend one figure to make the sum.
func (r *CompositionReport) BandsSumTo100() bool {
	if r == nil || len(r.AgeBands) == 0 {
		return true
	}
	sum := decimal.Zero
	for _, b := range r.AgeBands {
		v, err := decimal.NewFromString(b.Percent)
		if err != nil {
			return false
		}
		sum = sum.Add(v)
	}
	return sum.Equal(decimal.NewFromInt(100))
}
