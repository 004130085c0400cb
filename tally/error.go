package tally

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that adapters can map it to a status without
// parsing messages (upspin style). The string values cross the wire as the
// "code" of API errors, so they must never change.
type Kind string

const (
	Invalid      Kind = "invalid"      // bad input: a field that breaks a rule (400, exit 2)
	Conflict     Kind = "conflict"     // valid input that clashes with the state (409)
	NotFound     Kind = "not_found"    // no such contest, ballot or token (404)
	Unauthorized Kind = "unauthorized" // no credentials, or bad ones (401)
	Forbidden    Kind = "forbidden"    // credentials whose role may not do this (403)
	TooLarge     Kind = "too_large"    // a body over the limit (413)
	Unavailable  Kind = "unavailable"  // the store cannot take a write now: nothing was acknowledged (503)
	TooMany      Kind = "too_many"     // too many attempts: sign-ins locked out for a while (429)
	Unsupported  Kind = "unsupported"  // a body of a media type the route does not take (415)
	Internal     Kind = "internal"     // anything unclassified; never shown to users in detail (500)
)

// Error is the domain error: a kind, the field it concerns (a JSON path such as
// "candidates[2].name", or "" for the whole input) and a message for people.
type Error struct {
	Kind    Kind
	Field   string
	Message string
	// Offset is the byte offset in the input where a decoding problem was
	// found, when the decoder says (0 when unknown); it lets a command-line
	// tool point at the line.
	Offset int64
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Errorf returns an *Error of kind Invalid for field.
func Errorf(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of the first *Error in err's chain, or Internal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Problems lists the *Errors joined in err (as returned by Validate), in
// order; an error that is not an *Error is returned as one of kind Internal.
func Problems(err error) []*Error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*Error
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return []*Error{{Kind: Internal, Message: err.Error()}}
}

// problems collects validation errors so that a secretary sees every
// problem of a contest at once, not one per attempt.
type problems []error

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, Errorf(field, format, args...))
}

func (p problems) err() error { return errors.Join(p...) }
