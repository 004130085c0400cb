package api_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestNoExistenceOracle is the review's Info item "existence oracle": for
// an unknown contest, anonymous …/result and minutes.pdf answered 404 where
// a round being counted answers 401, so guessed ids told which rounds
// exist. Anonymous requests now get the same answer for both; a signed-in
// viewer still gets 404 for a round that is not there.
func TestNoExistenceOracle(t *testing.T) {
	h := newHarness(t)
	h.openContest(contestDef("hidden"))
	viewer := bearer(h.issueToken("viewer", "xem"))
	for _, tc := range []struct {
		path   string
		status int // anonymous, for both
	}{
		{"/api/v1/contests/%s/result", http.StatusUnauthorized},
		{"/api/v1/contests/%s/stream", http.StatusUnauthorized},
		{"/contests/%s/export.csv", http.StatusUnauthorized},
		{"/contests/%s/export.xlsx", http.StatusUnauthorized},
		{"/contests/%s/export.jsonl", http.StatusUnauthorized},
		{"/contests/%s/minutes.pdf", http.StatusUnauthorized},
		{"/contests/%s/minutes", http.StatusSeeOther},
		{"/contests/%s/screen", http.StatusSeeOther},
	} {
		at := func(id string) string { return fmt.Sprintf(tc.path, id) }
		hidden, unknown := h.in(t).do("GET", at("hidden"), nil), h.in(t).do("GET", at("no-such-round"), nil)
		if hidden.status != tc.status || unknown.status != tc.status {
			t.Errorf("%s: anonymous, a round being counted %d, an unknown round %d; want %d for both", tc.path, hidden.status, unknown.status, tc.status)
		}
		if tc.status == http.StatusUnauthorized && errorOf(t, hidden, tc.status).Message != errorOf(t, unknown, tc.status).Message {
			t.Errorf("%s: the answers differ: %s and %s", tc.path, hidden.body, unknown.body)
		}
		if tc.path != "/api/v1/contests/%s/stream" {
			mustStatus(t, h.in(t).do("GET", at("no-such-round"), nil, viewer), http.StatusNotFound)
		}
	}
}
