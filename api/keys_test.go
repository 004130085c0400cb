package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/api"
	"github.com/kiemphieu/kiemphieu/tally"
)

type keyJSON struct {
	Label       string `json:"label"`
	Fingerprint string `json:"fingerprint"`
	PublicKey   string `json:"public_key"`
	Added       string `json:"added"`
	AddedBy     string `json:"added_by"`
}

func (h *harness) selfKey() keyJSON {
	h.t.Helper()
	var k keyJSON
	decode(h.t, h.do("GET", "/api/v1/keys/self", nil, asAdmin), &k)
	if k.PublicKey == "" || k.Fingerprint == "" {
		h.t.Fatalf("GET /keys/self: %+v", k)
	}
	return k
}

// Every instance of one deployment signs with one key: made once, by
// compare-and-set, by whichever of the instances starting together wins,
// and read back after a restart.
func TestInstanceKeyOnePerDeployment(t *testing.T) {
	now := func() string { return time.Now().UTC().Format(time.RFC3339) }
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t).store
			const n = 16
			keys := make([]ed25519.PrivateKey, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					k, err := api.InstanceKey(context.Background(), st, now)
					if err != nil {
						t.Error(err)
					}
					keys[i] = k
				}()
			}
			wg.Wait()
			for i, k := range keys {
				if k == nil || !k.Equal(keys[0]) {
					t.Fatalf("instance %d has another key", i)
				}
			}
			again, err := api.InstanceKey(context.Background(), st, now)
			if err != nil || !again.Equal(keys[0]) {
				t.Fatalf("the key read again differs: %v", err)
			}
			// A server on the store signs with it.
			h := &harness{t: t, server: &server{srv: api.New(st, api.Config{AdminToken: adminToken})}}
			if got, want := h.selfKey().PublicKey, hex.EncodeToString(keys[0].Public().(ed25519.PublicKey)); got != want {
				t.Errorf("GET /keys/self = %s, want the stored key %s", got, want)
			}
		})
	}
}

// The certified round is signed; the signature travels in the export and
// the minutes print the key's fingerprint beside the hash.
func TestCertificationSigned(t *testing.T) {
	h := newHarness(t)
	self := h.selfKey()
	certified, export := h.certifiedExport("bch")
	x := parseExport(t, export)
	pub, err := tally.CheckSignature(x.Record)
	if err != nil || pub == nil || hex.EncodeToString(pub) != self.PublicKey {
		t.Fatalf("the export's signature: %v %v, want one by %s", pub, err, self.PublicKey)
	}
	if tally.Fingerprint(pub) != self.Fingerprint {
		t.Errorf("fingerprint %s, want %s", tally.Fingerprint(pub), self.Fingerprint)
	}
	r := h.page("GET", "/contests/bch/minutes", nil)
	mustStatus(t, r, http.StatusOK)
	if got := text(r.body); !strings.Contains(got, "Khóa ký của máy kiểm phiếu (dấu vân tay): "+self.Fingerprint) {
		t.Errorf("the minutes do not print the fingerprint %s: %s", self.Fingerprint, got)
	}
	r = h.do("GET", "/contests/bch/minutes.pdf", nil)
	mustStatus(t, r, http.StatusOK)
	if got := strings.Join(strings.Fields(minutesPDFText(t, r.body)), " "); !strings.Contains(got, self.Fingerprint) {
		t.Errorf("the PDF minutes do not print the fingerprint %s: %s", self.Fingerprint, got)
	}
	r = h.page("GET", "/verify/"+certified.Head, nil)
	mustStatus(t, r, http.StatusOK)
	if got := text(r.body); !strings.Contains(got, self.Fingerprint+" (khóa của máy này)") || !strings.Contains(got, "Khớp") {
		t.Errorf("the verify page does not name the signing key: %s", got)
	}
	// A round not yet certified carries no signature.
	h.countRound("bch-2")
	if x := parseExport(t, h.do("GET", "/contests/bch-2/export.jsonl", nil, asAdmin).body); x.Record.Signature != nil {
		t.Errorf("a closed round is signed: %+v", x.Record.Signature)
	}
}

// A district registers a ward's key; an export signed under it imports
// without the head. Registration is checked (the fingerprint on the
// minutes against the key), listed, refused twice, deleted.
func TestImportSignedByRegisteredKey(t *testing.T) {
	ward := newHarness(t)
	wardKey := ward.selfKey()
	_, export := ward.certifiedExport("bch")
	district := importer(t)

	e := mustError(t, district.do("POST", importPath("dh-p4", ""), export, asAdmin), http.StatusBadRequest, "head")
	if !strings.Contains(e.Message, wardKey.Fingerprint) {
		t.Errorf("the refusal does not name the key to register: %q", e.Message)
	}

	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	for _, tc := range []struct {
		field string
		body  map[string]string
	}{
		{"label", map[string]string{"public_key": wardKey.PublicKey}},
		{"label", map[string]string{"label": strings.Repeat("x", 201), "public_key": wardKey.PublicKey}},
		{"public_key", map[string]string{"label": "Đảng bộ Phường 7"}},
		{"public_key", map[string]string{"label": "Đảng bộ Phường 7", "public_key": wardKey.PublicKey[:60]}},
		{"fingerprint", map[string]string{"label": "Đảng bộ Phường 7", "public_key": wardKey.PublicKey, "fingerprint": "12"}},
		{"fingerprint", map[string]string{"label": "Đảng bộ Phường 7", "public_key": wardKey.PublicKey, "fingerprint": tally.Fingerprint(other)}},
	} {
		mustError(t, district.do("POST", "/api/v1/keys", tc.body, asAdmin), http.StatusBadRequest, tc.field)
	}
	r := district.do("POST", "/api/v1/keys", map[string]string{"label": " Đảng bộ  Phường 7 ", "public_key": strings.ToUpper(wardKey.PublicKey),
		"fingerprint": strings.ToUpper(wardKey.Fingerprint)}, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	var added keyJSON
	decode(t, r, &added)
	if added.Label != "Đảng bộ Phường 7" || added.Fingerprint != wardKey.Fingerprint || added.PublicKey != wardKey.PublicKey || added.Added == "" {
		t.Errorf("registered %+v", added)
	}
	e = mustError(t, district.do("POST", "/api/v1/keys", map[string]string{"label": "again", "public_key": wardKey.PublicKey}, asAdmin), http.StatusConflict, "public_key")
	if !strings.Contains(e.Message, "Đảng bộ Phường 7") {
		t.Errorf("the duplicate does not name the registration: %q", e.Message)
	}
	mustStatus(t, district.do("POST", "/api/v1/keys", map[string]string{"label": "Đảng bộ Phường 9", "public_key": hex.EncodeToString(other)}, asAdmin), http.StatusCreated)
	var list struct {
		Keys []keyJSON `json:"keys"`
	}
	decode(t, district.do("GET", "/api/v1/keys", nil, asAdmin), &list)
	if len(list.Keys) != 2 || list.Keys[0].Label != "Đảng bộ Phường 7" || list.Keys[1].Label != "Đảng bộ Phường 9" {
		t.Errorf("GET /keys: %+v", list.Keys)
	}

	r = district.do("POST", importPath("dh-p4", ""), export, asAdmin)
	mustStatus(t, r, http.StatusCreated)
	var rec struct {
		ImportAnchor string `json:"import_anchor"`
	}
	decode(t, r, &rec)
	if want := "key:" + strings.ReplaceAll(wardKey.Fingerprint, " ", ""); rec.ImportAnchor != want {
		t.Errorf("anchor %q, want %q", rec.ImportAnchor, want)
	}
	if !bytes.Equal(district.do("GET", "/contests/bch/export.jsonl", nil, asAdmin).body, export) {
		t.Error("the export of a round imported by its key is not the file imported")
	}
	head := parseExport(t, export).Record.Head
	if got := text(district.page("GET", "/verify/"+head, nil).body); !strings.Contains(got, wardKey.Fingerprint+" (khóa đã đăng ký của Đảng bộ Phường 7)") {
		t.Errorf("the district's verify page does not name the ward's key: %s", got)
	}
	if got := text(district.page("GET", "/contests/bch/minutes", nil).body); !strings.Contains(got, "(dấu vân tay): "+wardKey.Fingerprint) {
		t.Errorf("the district's minutes do not print the ward's fingerprint: %s", got)
	}

	// Deleted: the next round of the ward needs its head again; the round
	// imported stays.
	fp := strings.ReplaceAll(wardKey.Fingerprint, " ", "")
	mustStatus(t, district.do("DELETE", "/api/v1/keys/"+fp, nil, asAdmin), http.StatusNoContent)
	mustError(t, district.do("DELETE", "/api/v1/keys/"+fp, nil, asAdmin), http.StatusNotFound, "fingerprint")
	mustError(t, district.do("DELETE", "/api/v1/keys/xyz", nil, asAdmin), http.StatusBadRequest, "fingerprint")
	_, export2 := ward.certifiedExport("bch-2")
	mustError(t, district.do("POST", importPath("dh-p4", ""), export2, asAdmin), http.StatusBadRequest, "head")
	mustStatus(t, district.do("GET", "/api/v1/contests/bch/result", nil), http.StatusOK)

	// Admin only.
	for _, role := range []string{"viewer", "counter"} {
		tok := bearer(district.issueToken(role, role+"-1"))
		mustStatus(t, district.do("GET", "/api/v1/keys", nil, tok), http.StatusForbidden)
		mustStatus(t, district.do("GET", "/api/v1/keys/self", nil, tok), http.StatusForbidden)
		mustStatus(t, district.do("POST", "/api/v1/keys", map[string]string{"label": "x", "public_key": wardKey.PublicKey}, tok), http.StatusForbidden)
		mustStatus(t, district.do("DELETE", "/api/v1/keys/"+fp, nil, tok), http.StatusForbidden)
	}
	mustStatus(t, district.do("GET", "/api/v1/keys", nil), http.StatusUnauthorized)
}

// multipartBody is a form with fields and one file, as a browser sends it.
func multipartBody(t *testing.T, fields map[string]string, file []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if file != nil {
		fw, err := w.CreateFormFile("file", "bch-lan1.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

// The imports page: a person imports a file and registers the ward's key
// without the API; each refusal is said in Vietnamese, naming the field by
// its label, and leaves nothing stored.
func TestImportsPage(t *testing.T) {
	ward := newHarness(t)
	wardKey := ward.selfKey()
	certified, export := ward.certifiedExport("bch")
	district := importer(t)
	self := district.selfKey()

	mustStatus(t, district.page("GET", "/imports", nil), http.StatusSeeOther)
	mustStatus(t, district.page("GET", "/imports", nil, bearer(district.issueToken("viewer", "xem"))), http.StatusForbidden)
	r := district.page("GET", "/imports", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	if got := text(r.body); !strings.Contains(got, self.Fingerprint) || !strings.Contains(got, self.PublicKey) || !strings.Contains(got, "Chưa đăng ký khóa nào") {
		t.Errorf("the page does not show this instance's key: %s", got)
	}

	post := func(path string, fields map[string]string, file []byte, opts ...opt) *response {
		t.Helper()
		if path != "/imports" { // the page's key forms are URL-encoded; only the upload is multipart
			v := url.Values{}
			for k, x := range fields {
				v.Set(k, x)
			}
			return district.page("POST", path, []byte(v.Encode()), append([]opt{withHeader("Content-Type", "application/x-www-form-urlencoded")}, opts...)...)
		}
		ct, body := multipartBody(t, fields, file)
		return district.page("POST", path, body, append([]opt{withHeader("Content-Type", ct)}, opts...)...)
	}
	for _, tc := range []struct {
		name   string
		fields map[string]string
		file   []byte
		status int
		says   []string
	}{
		{"no file", map[string]string{"head": certified.Head}, nil, http.StatusBadRequest,
			[]string{"Không thực hiện được — Tệp sổ phiếu: chưa chọn tệp"}},
		{"no head", map[string]string{"congress": "dh-p4"}, export, http.StatusBadRequest,
			[]string{"Không thực hiện được — Mã kiểm chứng sổ phiếu: chưa nhập", wardKey.Fingerprint}},
		{"another head", map[string]string{"congress": "dh-p4", "head": strings.Repeat("ab", 32)}, export, http.StatusBadRequest,
			[]string{"Mã kiểm chứng sổ phiếu: không khớp", "Không có gì được lưu", strings.Repeat("ab", 32)}},
		{"not a file of kiemphieu", map[string]string{"head": certified.Head}, []byte("Họ và tên\nA\n"), http.StatusBadRequest,
			[]string{"Tệp sổ phiếu: tệp không phải bản xuất nguyên vẹn"}},
		{"a signature broken", map[string]string{"head": certified.Head}, bytes.Replace(export, []byte(`"issued":8`), []byte(`"issued":9`), 1), http.StatusBadRequest,
			[]string{"Chữ ký trong tệp: không hợp lệ"}},
		{"no such congress", map[string]string{"congress": "nope", "head": certified.Head}, export, http.StatusNotFound,
			[]string{"Đại hội: không có đại hội này"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post("/imports", tc.fields, tc.file, asAdmin)
			mustStatus(t, r, tc.status)
			got := text(r.body)
			for _, s := range tc.says {
				if !strings.Contains(got, s) {
					t.Errorf("the page lacks %q: %s", s, got)
				}
			}
			if h := tc.fields["head"]; h != "" && !strings.Contains(string(r.body), `value="`+h+`"`) {
				t.Error("the head typed is not kept in the form")
			}
		})
	}
	district.noRounds()

	// The head typed: imported; the page offers the ward's key for
	// registration, filled in.
	r = post("/imports", map[string]string{"congress": "dh-p4", "head": certified.Head}, export, asAdmin)
	mustStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/imports?imported=bch" {
		t.Fatalf("Location %q", loc)
	}
	r = district.page("GET", "/imports?imported=bch", nil, asAdmin)
	mustStatus(t, r, http.StatusOK)
	got := text(r.body)
	if !strings.Contains(got, "Đã nhập") || !strings.Contains(got, certified.Head) || !strings.Contains(got, "chưa đăng ký ở đây") {
		t.Errorf("after the import: %s", got)
	}
	if !strings.Contains(string(r.body), `value="`+wardKey.PublicKey+`"`) || !strings.Contains(string(r.body), `value="`+wardKey.Fingerprint+`"`) {
		t.Error("the ward's key is not filled into the registration form")
	}

	// Registration by the form: refused without a label, then done.
	r = post("/imports/keys", map[string]string{"public_key": wardKey.PublicKey}, nil, asAdmin)
	mustStatus(t, r, http.StatusBadRequest)
	if got := text(r.body); !strings.Contains(got, "Không thực hiện được — Tên đơn vị: chưa nhập") {
		t.Errorf("a key without a label: %s", got)
	}
	r = post("/imports/keys", map[string]string{"label": "Đảng bộ Phường 7", "public_key": wardKey.PublicKey, "fingerprint": self.Fingerprint}, nil, asAdmin)
	mustStatus(t, r, http.StatusBadRequest)
	if got := text(r.body); !strings.Contains(got, "Dấu vân tay: không khớp") || !strings.Contains(got, wardKey.Fingerprint) {
		t.Errorf("a fingerprint of another key: %s", got)
	}
	r = post("/imports/keys", map[string]string{"label": "Đảng bộ Phường 7", "public_key": wardKey.PublicKey, "fingerprint": wardKey.Fingerprint}, nil, asAdmin)
	mustStatus(t, r, http.StatusSeeOther)
	r = district.page("GET", r.header.Get("Location"), nil, asAdmin)
	if got := text(r.body); !strings.Contains(got, fmt.Sprintf("Đã đăng ký khóa %s của Đảng bộ Phường 7", wardKey.Fingerprint)) {
		t.Errorf("after the registration: %s", got)
	}
	// Now the ward's next round needs no head.
	_, export2 := ward.certifiedExport("bch-2")
	r = post("/imports", map[string]string{"congress": "dh-p4"}, export2, asAdmin)
	mustStatus(t, r, http.StatusSeeOther)
	if got := text(district.page("GET", r.header.Get("Location"), nil, asAdmin).body); !strings.Contains(got, "chữ ký của khóa đã đăng ký "+wardKey.Fingerprint+" (Đảng bộ Phường 7)") {
		t.Errorf("after an import by the key: %s", got)
	}
	// The same round again: said so.
	r = post("/imports", map[string]string{"congress": "dh-p4"}, export2, asAdmin)
	mustStatus(t, r, http.StatusConflict)
	if got := text(r.body); !strings.Contains(got, "Mã vòng bầu: vòng bầu bch-2 này (cùng mã kiểm chứng) đã được nhập") {
		t.Errorf("a second import: %s", got)
	}

	// Deleted by the form.
	fp := strings.ReplaceAll(wardKey.Fingerprint, " ", "")
	r = post("/imports/keys/"+fp+"/delete", nil, nil, asAdmin)
	mustStatus(t, r, http.StatusSeeOther)
	if got := text(district.page("GET", r.header.Get("Location"), nil, asAdmin).body); !strings.Contains(got, "Đã xóa khóa") || !strings.Contains(got, "Chưa đăng ký khóa nào") {
		t.Errorf("after the deletion: %s", got)
	}

	// A signed-in browser's form needs the session's CSRF token.
	const password = "mật khẩu đủ dài 2025"
	district.seedUser("thuky", password, "admin")
	s := district.login("thuky", password)
	mustStatus(t, post("/imports/keys", map[string]string{"label": "x", "public_key": wardKey.PublicKey}, nil, withCookie(s)), http.StatusForbidden)
	mustStatus(t, post("/imports/keys", map[string]string{"label": "Đảng bộ Phường 7", "public_key": wardKey.PublicKey, "_csrf": s.csrf}, nil, withCookie(s)), http.StatusSeeOther)
}
