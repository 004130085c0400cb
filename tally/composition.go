package tally

import (
	"fmt"
	"time"
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
	n := len(elected)
	if n == 0 {
		return nil
	}
	var women, womenUnknown, ethnic, ethnicUnknown, incumbent, incumbentUnknown int
	for _, i := range elected {
		cand := c.Candidates[i]
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
		return Share{Count: count, Percentage: c.Percent.Of(count, n), Unknown: unknown}
	}
	rep := &CompositionReport{
		Elected:        n,
		Women:          share(women, womenUnknown),
		EthnicMinority: share(ethnic, ethnicUnknown),
		Incumbent:      share(incumbent, incumbentUnknown),
	}
	ref, err := time.Parse(time.DateOnly, c.Composition.ReferenceDate)
	if err != nil {
		return rep // no reference date: no ages
	}
	lo, hi := c.Composition.AgeBands[0], c.Composition.AgeBands[1]
	var young, ageUnknown int
	bands := make([]int, 3)
	for _, i := range elected {
		birth, err := time.Parse(time.DateOnly, c.Candidates[i].BirthDate)
		if err != nil {
			ageUnknown++
			continue
		}
		age := AgeAt(birth, ref)
		if age < c.Composition.YoungUnder {
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

// AgeAt is the age in whole years on day ref of someone born on birth.
func AgeAt(birth, ref time.Time) int {
	age := ref.Year() - birth.Year()
	if ref.Month() < birth.Month() || ref.Month() == birth.Month() && ref.Day() < birth.Day() {
		age--
	}
	return age
}
