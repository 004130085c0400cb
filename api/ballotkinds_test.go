package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/tally"
)

// Opinion and introduction ballots through the API, on both stores: the
// worked examples created, opened, keyed ballot by ballot, closed, and
// their result compared with the example's result.json (written by hand).
func TestOpinionAndIntroductionExamples(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			c := client{t: t, srv: api.New(be.open(t).store, api.Config{AdminToken: adminToken})}
			for _, dir := range []string{"ex10-opinion-30-percent", "ex12a-introduction-secretary", "ex12b-introduction-tie-at-cutoff"} {
				t.Run(dir, func(t *testing.T) {
					c := client{t: t, srv: c.srv}
					path := filepath.Join("..", "examples", dir)
					var def map[string]any
					if err := json.Unmarshal(readExample(t, path, "contest.json"), &def); err != nil {
						t.Fatal(err)
					}
					id := def["id"].(string)
					mustStatus(t, c.do("POST", "/api/v1/contests", def, asAdmin), http.StatusCreated)
					mustStatus(t, c.do("POST", "/api/v1/contests/"+id+"/open", nil, asAdmin), http.StatusOK)
					sc := bufio.NewScanner(bytes.NewReader(readExample(t, path, "ballots.jsonl")))
					issued := 0
					for sc.Scan() {
						mustStatus(t, c.do("POST", "/api/v1/contests/"+id+"/ballots", json.RawMessage(sc.Bytes()), asAdmin), http.StatusCreated)
						issued++
					}
					mustStatus(t, c.do("POST", "/api/v1/contests/"+id+"/close", map[string]int{"issued": issued}, asAdmin), http.StatusOK)
					r := c.do("GET", "/api/v1/contests/"+id+"/result", nil, asAdmin)
					mustStatus(t, r, http.StatusOK)
					got := withoutVersion(t, r.body)
					var want map[string]any
					if err := json.Unmarshal(readExample(t, path, "result.json"), &want); err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("result of %s:\n%s\nwant %s", dir, r.body, readExample(t, path, "result.json"))
					}
					// The export and the minutes say what the kind decided.
					words := map[string][]string{
						"ex10-opinion-30-percent":          {"Tỷ lệ so với số có mặt", "Không đưa vào danh sách", "37,\"30,83%\",Được đưa vào danh sách"},
						"ex12a-introduction-secretary":     {"4,\"44,44%\",Được giới thiệu", "Không được giới thiệu"},
						"ex12b-introduction-tie-at-cutoff": {"Bằng phiếu ở vị trí cuối: đại hội (người chủ trì) quyết định"},
					}[dir]
					csv := c.do("GET", "/contests/"+id+"/export.csv", nil, asAdmin)
					mustStatus(t, csv, http.StatusOK)
					flat := strings.Join(strings.Fields(strings.ReplaceAll(string(csv.body), "\r\n", " ")), " ")
					for _, w := range words {
						if !strings.Contains(flat, w) {
							t.Errorf("export.csv of %s lacks %q:\n%s", dir, w, csv.body)
						}
					}
					if strings.Contains(flat, "Trúng cử") {
						t.Errorf("export.csv of %s says Trúng cử:\n%s", dir, csv.body)
					}
					// The workbook's summary names the base and those chosen as the kind does.
					x := c.do("GET", "/contests/"+id+"/export.xlsx", nil, asAdmin)
					mustStatus(t, x, http.StatusOK)
					f, err := excelize.OpenReader(bytes.NewReader(x.body))
					if err != nil {
						t.Fatal(err)
					}
					summary, _ := f.GetRows("Tổng hợp")
					f.Close()
					labels := map[string]string{}
					for _, row := range summary {
						if len(row) == 2 {
							labels[row[0]] = row[1]
						}
					}
					wantRows := map[string]map[string]string{
						"ex10-opinion-30-percent": {"Số đại biểu có mặt (cơ sở tính tỷ lệ)": "120",
							"Được đưa vào danh sách khi trên 30% số có mặt đồng ý, từ (phiếu)": "37", "Được đưa vào danh sách 1": "Lê Minh Khánh"},
						"ex12a-introduction-secretary": {"Số để tính tỷ lệ (D)": "9", "Được giới thiệu 1": "Nguyễn Văn An",
							"Danh sách giới thiệu: số người có số phiếu cao nhất": "1"},
						"ex12b-introduction-tie-at-cutoff": {"Bằng phiếu ở vị trí cuối, đại hội quyết định": "Trần Thị Bình, Lê Văn Cường", "Số chỗ còn lại": "1"},
					}[dir]
					for k, v := range wantRows {
						if labels[k] != v {
							t.Errorf("summary %q = %q, want %q (%v)", k, labels[k], v, summary)
						}
					}
					minutes := c.do("GET", "/contests/"+id+"/minutes", nil, asAdmin, withHeader("Accept", "text/html"))
					mustStatus(t, minutes, http.StatusOK)
					if title := map[bool]string{true: "BIÊN BẢN KIỂM PHIẾU XIN Ý KIẾN", false: "BIÊN BẢN KIỂM PHIẾU GIỚI THIỆU"}[def["kind"] == "opinion"]; !strings.Contains(string(minutes.body), title) {
						t.Errorf("the minutes of %s lack %q", dir, title)
					}
					// Neither kind has a next round.
					mustError(t, c.do("POST", "/api/v1/contests/"+id+"/next", map[string]any{}, asAdmin), http.StatusConflict, "")
				})
			}
		})
	}
}

func readExample(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func opinionDef(id string) map[string]any {
	return map[string]any{
		"id": id, "title": "Lấy phiếu xin ý kiến", "kind": "opinion", "seats": 2, "ballot": "approve",
		"electorate": map[string]any{"congress": "members", "convened": 30, "present": 25},
		"candidates": []any{
			map[string]any{"id": "n1", "name": "Nguyễn Văn An", "nominated": "floor"},
			map[string]any{"id": "n2", "name": "Trần Thị Bình", "nominated": "self"},
		},
	}
}

func introductionDef(id string) map[string]any {
	return map[string]any{
		"id": id, "title": "Phiếu giới thiệu Bí thư", "kind": "introduction", "seats": 1, "ballot": "name",
		"electorate": map[string]any{"congress": "body", "convened": 5},
		"candidates": []any{
			map[string]any{"id": "c1", "name": "Nguyễn Văn An"},
			map[string]any{"id": "c2", "name": "Trần Thị Bình"},
			map[string]any{"id": "c3", "name": "Lê Văn Cường"},
		},
	}
}

func TestOpinionAndIntroductionRefusals(t *testing.T) {
	h := newHarness(t)
	creates := []struct {
		name  string
		def   map[string]any
		field string
	}{
		{"opinion without present", with(opinionDef("o1"), "electorate", map[string]any{"congress": "members", "convened": 30}), "electorate.present"},
		{"opinion present over convened", with(opinionDef("o2"), "electorate", map[string]any{"congress": "members", "convened": 30, "present": 31}), "electorate.present"},
		{"opinion seats not the nominees", with(opinionDef("o3"), "seats", 1), "seats"},
		{"opinion on a strike ballot", with(opinionDef("o4"), "ballot", "strike", "seats", 1), "ballot"},
		{"introduction on an approve ballot", with(introductionDef("i1"), "ballot", "approve", "seats", 3), "ballot"},
		{"introduction seats over the body", with(introductionDef("i2"), "seats", 4), "seats"},
		{"name ballot for an election", with(contestDef("e1"), "ballot", "name"), "ballot"},
		{"present on an election", with(contestDef("e2"), "electorate", map[string]any{"congress": "body", "convened": 9, "present": 8}), "electorate.present"},
	}
	for _, tc := range creates {
		t.Run(tc.name, func(t *testing.T) {
			mustError(t, h.in(t).do("POST", "/api/v1/contests", tc.def, asAdmin), http.StatusBadRequest, tc.field)
		})
	}

	h.openContest(introductionDef("gt"))
	h.openContest(opinionDef("yk"))
	h.openContest(contestDef("bch"))
	ballots := []struct {
		name    string
		contest string
		ballot  string
		status  int
		field   string // for a 400
		reason  string // for a 201
	}{
		{"named", "gt", `{"id":"1","named":["c2"]}`, http.StatusCreated, "", ""},
		{"named too many", "gt", `{"id":"2","named":["c2","c1"]}`, http.StatusCreated, "", "over_vote"},
		{"named nobody", "gt", `{"id":"3","named":[]}`, http.StatusCreated, "", "no_vote"},
		{"named unknown", "gt", `{"id":"4","named":["c9"]}`, http.StatusBadRequest, "named[0]", ""},
		{"named twice", "gt", `{"id":"5","named":["c1","c1"]}`, http.StatusBadRequest, "named[1]", ""},
		{"struck on an introduction", "gt", `{"id":"6","struck":["c1"]}`, http.StatusBadRequest, "struck", ""},
		{"named on a strike ballot", "bch", `{"id":"7","named":["c1"]}`, http.StatusBadRequest, "named", ""},
		{"named and marks", "yk", `{"id":"8","named":["n1"],"marks":{}}`, http.StatusBadRequest, "named", ""},
		{"opinion: không đồng ý to all is valid", "yk", `{"id":"9","marks":{"n1":"disagree","n2":"disagree"}}`, http.StatusCreated, "", ""},
		{"opinion: đồng ý to all is valid", "yk", `{"id":"10","marks":{"n1":"agree","n2":"agree"}}`, http.StatusCreated, "", ""},
	}
	for _, tc := range ballots {
		t.Run(tc.name, func(t *testing.T) {
			h := h.in(t)
			r := h.postBallot(tc.contest, json.RawMessage(tc.ballot))
			if tc.status == http.StatusBadRequest {
				mustError(t, r, tc.status, tc.field)
				return
			}
			mustStatus(t, r, tc.status)
			var rc receipt
			decode(t, r, &rc)
			if rc.Valid != (tc.reason == "") || rc.Reason != tc.reason {
				t.Errorf("receipt %+v; want reason %q", rc, tc.reason)
			}
		})
	}
	// The opinion's base is those present: D = 25, admitted from 8 đồng ý.
	r := h.do("GET", "/api/v1/contests/yk/result", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	var res struct {
		Denominator int `json:"denominator"`
		Threshold   int `json:"threshold"`
	}
	decode(t, r, &res)
	if res.Denominator != 25 || res.Threshold != 8 {
		t.Errorf("opinion result D %d threshold %d; want 25 and 8 (10·8 > 3·25)", res.Denominator, res.Threshold)
	}
}

// The papers of the two kinds: their titles, instructions and boxes.
func TestBallotPaperOpinionAndIntroduction(t *testing.T) {
	h := newHarness(t)
	h.createContest(opinionDef("yk"))
	h.createContest(introductionDef("gt"))
	tests := []struct {
		id    string
		want  []string
		not   []string
		boxes int // boxes per row
	}{
		{"yk", []string{"PHIẾU XIN Ý KIẾN", "Số người được xin ý kiến: 2 đồng chí", "đồng ý đưa người nào vào danh sách bầu cử", "Đồng ý", "Không đồng ý"},
			[]string{"PHIẾU BẦU CỬ", "Số lượng cần bầu", "Đồng chí đồng ý bầu người nào"}, 2},
		{"gt", []string{"PHIẾU GIỚI THIỆU", "Số người giới thiệu: không quá 1 đồng chí", "ô «Giới thiệu»", "Nguyễn Văn An", "Lê Văn Cường"},
			[]string{"PHIẾU BẦU CỬ", "gạch", "Đồng ý"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			r := h.in(t).page("GET", "/contests/"+tc.id+"/ballot-paper", nil, asAdmin)
			mustStatus(t, r, http.StatusOK)
			got := text(r.body)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("the paper lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("the paper shows %q:\n%s", n, got)
				}
			}
			row := regexp.MustCompile(`(?s)<tbody><tr>(.*?)</tr>`).FindSubmatch(r.body)
			if row == nil || strings.Count(string(row[1]), `class="box"`) != tc.boxes {
				t.Errorf("first row %q: want %d boxes", row, tc.boxes)
			}
		})
	}
}

// The desk and the screen hand the kind to their scripts, which word the
// mark (giới thiệu, trên 30% số có mặt) by it.
func TestDeskAndScreenDataBallotKinds(t *testing.T) {
	h := newHarness(t)
	h.openContest(introductionDef("gt"))
	h.openContest(opinionDef("yk"))
	for id, want := range map[string][2]string{"gt": {"introduction", "name"}, "yk": {"opinion", "approve"}} {
		for _, page := range []struct{ path, block string }{{"/desk", "desk-data"}, {"/screen", "screen-data"}} {
			r := h.page("GET", "/contests/"+id+page.path, nil, asAdmin)
			mustStatus(t, r, http.StatusOK)
			d := dataBlock(t, r, page.block)
			if d["kind"] != want[0] || d["ballot"] != want[1] {
				t.Errorf("%s%s: kind %v ballot %v, want %v", id, page.path, d["kind"], d["ballot"], want)
			}
			msgs := d["messages"].(map[string]any)
			key := map[string]string{"/desk": "desk.named_mark", "/screen": "screen.threshold_opinion"}[page.path]
			if msgs[key] == nil {
				t.Errorf("%s%s: no message %s", id, page.path, key)
			}
		}
	}
	if r := h.page("GET", "/contests/gt/desk", nil, asAdmin); !strings.Contains(string(r.body), "Gõ số thứ tự những người được giới thiệu") {
		t.Error("the introduction desk does not say how to key the names introduced")
	}
}

// Verified entry of introduction ballots: two desks naming the same people
// in another order agree (the body is canonical, in ballot order); a desk
// naming someone else disputes the paper.
func TestVerifiedIntroduction(t *testing.T) {
	h := newHarness(t)
	h.createContest(with(introductionDef("gt"), "seats", 2, "entry", "double"))
	mustStatus(t, h.do("PUT", "/api/v1/contests/gt/stacks/1", map[string]int{"ballots": 2}, asAdmin), http.StatusOK)
	h.transition("gt", "open", nil)
	keyings := "/api/v1/contests/gt/keyings"
	desk1, desk2 := bearer(h.issueToken("counter", "bàn 1")), bearer(h.issueToken("counter", "bàn 2"))
	status := func(r *response, want int) string {
		t.Helper()
		mustStatus(t, r, want)
		var a struct {
			Status string `json:"status"`
		}
		decode(t, r, &a)
		return a.Status
	}
	status(h.do("POST", keyings, keyingBody("a", 1, 1, tally.Ballot{Named: []string{"c3", "c1"}}), desk1), http.StatusCreated)
	if s := status(h.do("POST", keyings, keyingBody("b", 1, 1, tally.Ballot{Named: []string{"c1", "c3"}}), desk2), http.StatusCreated); s != "accepted" {
		t.Errorf("the same names in another order: %s, want accepted", s)
	}
	status(h.do("POST", keyings, keyingBody("c", 1, 2, tally.Ballot{Named: []string{"c2"}}), desk1), http.StatusCreated)
	if s := status(h.do("POST", keyings, keyingBody("d", 1, 2, tally.Ballot{Named: []string{}}), desk2), http.StatusCreated); s != "disputed" {
		t.Errorf("c2 against nobody: %s, want disputed", s)
	}
	mustError(t, h.do("POST", keyings, keyingBody("e", 1, 2, tally.Ballot{Named: []string{"c9"}}), desk1), http.StatusBadRequest, "ballot.named[0]")
	entries, err := h.store.Entries(context.Background(), "gt", 0, 0)
	if err != nil || len(entries) != 1 || !slices.Equal(entries[0].Ballot.Named, []string{"c1", "c3"}) {
		t.Fatalf("log %+v, %v; want the one agreed paper naming c1, c3 in ballot order", entries, err)
	}
}

// The setup form offers both kinds, the name ballot and the number
// present; the check answers an opinion's base and mark; the draft's page
// shows the number present.
func TestSetupBallotKinds(t *testing.T) {
	h := newHarness(t)
	r := h.page("GET", "/contests/new", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	for _, want := range []string{`<option value="opinion">Phiếu xin ý kiến`, `<option value="introduction">Phiếu giới thiệu`,
		`<option value="name">Ghi tên người được giới thiệu`, `name="electorate.present"`, "Số đại biểu có mặt (phiếu xin ý kiến"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("the contest form lacks %s", want)
		}
	}
	r = h.do("POST", "/api/v1/contests/check", opinionDef("yk"), asAdmin)
	mustStatus(t, r, http.StatusOK)
	var check struct {
		Valid       bool    `json:"valid"`
		Denominator *int    `json:"denominator"`
		Threshold   *int    `json:"threshold"`
		Formula     *string `json:"formula"`
	}
	decode(t, r, &check)
	if !check.Valid || check.Denominator == nil || *check.Denominator != 25 || *check.Threshold != 8 || check.Formula != nil {
		t.Errorf("check of an opinion ballot: %s; want valid, D 25 (those present), threshold 8, no formula", r.body)
	}
	r = h.do("POST", "/api/v1/contests/check", introductionDef("gt"), asAdmin)
	decode(t, r, &check)
	if !check.Valid || *check.Denominator != 5 || *check.Threshold != 3 {
		t.Errorf("check of an introduction ballot: %s", r.body)
	}
	h.createContest(opinionDef("yk"))
	r = h.page("GET", "/contests/yk/setup", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if got := text(r.body); !strings.Contains(got, "Số đại biểu có mặt (phiếu xin ý kiến: cơ sở tính trên 30%) 25") {
		t.Errorf("the draft's page does not show those present:\n%s", got)
	}
}
