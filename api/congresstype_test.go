package api_test

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"testing"
)

// TestContestFormTakesCongressType: the contest form under a congress
// starts from that congress's type — its own D's, else its name's — and
// the form without one knows each congress's type for its select.
func TestContestFormTakesCongressType(t *testing.T) {
	h := newHarness(t)
	delegates := congressDef("dh-p4")
	delegates["name"] = "Đại hội đại biểu Đảng bộ Phường 4"
	meeting := congressDef("hn-p4")
	meeting["name"] = "Hội nghị lần thứ nhất Ban Chấp hành Đảng bộ Phường 4"
	recorded := congressDef("dh-d")
	recorded["electorate"] = map[string]any{"congress": "delegates", "convened": 120, "exclusions": map[string]any{}}
	for _, cg := range []map[string]any{congressDef("dh-cb3"), delegates, meeting, recorded} {
		mustStatus(t, h.do("POST", "/api/v1/congresses", cg, asAdmin), http.StatusCreated)
	}
	block := func(t *testing.T, r *response, id string, v any) {
		t.Helper()
		mustStatus(t, r, http.StatusOK)
		m := regexp.MustCompile(`<script type="application/json" id="` + id + `">([^<]*)</script>`).FindSubmatch(r.body)
		if m == nil {
			t.Fatalf("no %s block", id)
		}
		if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), v); err != nil {
			t.Fatalf("%s: %v: %s", id, err, m[1])
		}
	}
	for _, tc := range []struct{ congress, want string }{
		{"dh-cb3", "members"}, {"dh-p4", "delegates"}, {"hn-p4", "body"}, {"dh-d", "delegates"},
	} {
		t.Run(tc.congress, func(t *testing.T) {
			var def struct {
				Electorate struct{ Congress string } `json:"electorate"`
			}
			block(t, h.page("GET", "/contests/new?congress="+tc.congress, nil, asAdmin), "contest-defaults", &def)
			if def.Electorate.Congress != tc.want {
				t.Errorf("the form starts on %q, want %q", def.Electorate.Congress, tc.want)
			}
		})
	}
	var types map[string]string
	block(t, h.page("GET", "/contests/new", nil, asAdmin), "congress-types", &types)
	if types["dh-p4"] != "delegates" || types["hn-p4"] != "body" || types["dh-cb3"] != "members" {
		t.Errorf("the types offered = %v", types)
	}
}
