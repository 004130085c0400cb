package api_test

import (
	"bytes"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// TestBallotPaperPDFLinked: the machine-readable ballot is a PDF of identical A4
// pages carrying the round's QR text, linked from the print view; a bad
// copies count names the field.
func TestBallotPaperPDFLinked(t *testing.T) {
	h := newHarness(t)
	h.openContest(contestDef("pdf1"))
	viewer := bearer(h.issueToken("viewer", "Màn hình"))
	resp := h.do("GET", "/contests/pdf1/ballot-paper.pdf?copies=3", nil, viewer)
	mustStatus(t, resp, http.StatusOK)
	body := resp.body
	if ct := resp.header.Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Fatalf("Content-Type %q, body %.10q", ct, body)
	}
	if path, err := exec.LookPath("pdfinfo"); err == nil {
		cmd := exec.Command(path, "-")
		cmd.Stdin = bytes.NewReader(body)
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "Pages:           3") || !strings.Contains(string(out), "(A4)") {
			t.Errorf("pdfinfo: %v\n%s", err, out)
		}
	} else {
		t.Log("pdfinfo not installed: the page count is not checked")
	}
	pr := h.do("GET", "/contests/pdf1/ballot-paper", nil, viewer)
	mustStatus(t, pr, http.StatusOK)
	page := string(pr.body)
	if !strings.Contains(page, `href="/contests/pdf1/ballot-paper.pdf"`) {
		t.Error("the print view does not link the machine-readable paper")
	}
	for _, bad := range []string{"0", "501", "x"} {
		mustError(t, h.do("GET", "/contests/pdf1/ballot-paper.pdf?copies="+bad, nil, viewer), http.StatusBadRequest, "copies")
	}
}
