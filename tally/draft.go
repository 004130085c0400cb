package tally

// DraftContest decodes a contest definition with the defaults of DESIGN §5.1
// and normalizes it, but does not validate it: the setup form asks for D,
// the threshold and the surplus of a definition that still has problems
// elsewhere, and Validate's problems keep the file's candidate order
// because the list is not sorted here. Decoding errors (unknown fields,
// wrong types) are returned as ParseContest returns them.
func DraftContest(data []byte) (*Contest, error) {
	c := defaultContest()
	if err := DecodeJSON(data, &c, "contest"); err != nil {
		return nil, err
	}
	c.Normalize()
	return &c, nil
}
