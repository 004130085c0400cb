package web

import (
	"fmt"
	"strings"
)

// Lang is a page language: Vietnamese by default, English available.
type Lang string

const (
	Vietnamese Lang = "vi"
	English    Lang = "en"
)

// ParseLang returns the language named by s ("vi", "en", "en-US"…), or
// Vietnamese.
func ParseLang(s string) Lang {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "en") {
		return English
	}
	return Vietnamese
}

// messages maps a key to its Vietnamese and English text. Each page's file
// adds its own with messagesOf, so pages do not edit one shared table.
var messages = map[string][2]string{}

func messagesOf(m map[string][2]string) {
	for k, v := range m {
		if _, dup := messages[k]; dup {
			panic("web: message key defined twice: " + k)
		}
		messages[k] = v
	}
}

// T translates key, formatting args into it as fmt.Sprintf does. A missing
// key shows itself, so that a test finds it (TestMessagesComplete).
func (l Lang) T(key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m[0]
	if l == English {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Messages returns the keys starting with prefix and their text, for the
// scripts of a page (the desk's messages, the screen's badges).
func (l Lang) Messages(prefix string) map[string]string {
	out := map[string]string{}
	for k := range messages {
		if strings.HasPrefix(k, prefix) {
			out[k] = l.T(k)
		}
	}
	return out
}

func init() {
	messagesOf(map[string][2]string{
		"app.name":          {"Kiểm phiếu", "Kiểm phiếu"},
		"app.tagline":       {"Kiểm phiếu bầu cử trong Đảng", "Ballot counting for Party elections"},
		"nav.home":          {"Trang chủ", "Home"},
		"nav.login":         {"Đăng nhập", "Sign in"},
		"nav.logout":        {"Đăng xuất", "Sign out"},
		"nav.verify":        {"Kiểm tra biên bản", "Verify minutes"},
		"nav.lang":          {"English", "Tiếng Việt"},
		"nav.signed_in":     {"Đăng nhập: %s (%s)", "Signed in: %s (%s)"},
		"role.admin":        {"quản trị", "admin"},
		"role.counter":      {"kiểm phiếu", "counter"},
		"role.viewer":       {"xem", "viewer"},
		"state.draft":       {"Đang chuẩn bị", "Draft"},
		"state.open":        {"Đang kiểm phiếu", "Counting"},
		"state.closed":      {"Đã kết thúc kiểm phiếu", "Closed"},
		"state.certified":   {"Đã xác nhận", "Certified"},
		"login.title":       {"Đăng nhập", "Sign in"},
		"login.username":    {"Tên đăng nhập", "User name"},
		"login.password":    {"Mật khẩu", "Password"},
		"login.or_token":    {"hoặc mã bàn kiểm phiếu (token)", "or a desk token"},
		"login.token":       {"Mã (token)", "Token"},
		"login.submit":      {"Đăng nhập", "Sign in"},
		"login.failed":      {"Sai tên đăng nhập, mật khẩu hoặc mã.", "Wrong user name, password or token."},
		"login.locked":      {"Đăng nhập sai quá nhiều lần. Thử lại sau %d giây.", "Too many failed sign-ins. Try again in %d seconds."},
		"login.limited":     {"Quá nhiều lần đăng nhập từ địa chỉ này. Thử lại sau %d giây.", "Too many sign-ins from this address. Try again in %d seconds."},
		"login.expired":     {"Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.", "Your session has ended. Please sign in again."},
		"login.missing":     {"Nhập tên đăng nhập và mật khẩu, hoặc mã.", "Enter a user name and password, or a token."},
		"home.title":        {"Các đại hội và cuộc bầu cử", "Congresses and elections"},
		"home.no_contests":  {"Chưa có cuộc bầu cử nào.", "No elections yet."},
		"home.new_congress": {"Thêm đại hội", "New congress"},
		"home.new_contest":  {"Thêm cuộc bầu cử", "New election"},
		"congress.ordinal":  {"lần thứ %s", "(%s)"},
		"congress.term":     {"nhiệm kỳ %s", "term %s"},
		"home.other":        {"Cuộc bầu cử khác", "Other elections"},
		"home.public":       {"Đăng nhập để xem các cuộc bầu cử. Màn hình kết quả công khai và trang kiểm tra biên bản không cần đăng nhập.", "Sign in to see the elections. Public results screens and the verification page need no sign-in."},
		"contest.round":     {"lần %d", "round %d"},
		"contest.seats":     {"%d người", "%d seats"},
		"link.desk":         {"Bàn kiểm phiếu", "Counting desk"},
		"link.screen":       {"Màn hình kết quả", "Results screen"},
		"link.minutes":      {"Biên bản", "Minutes"},
		"link.minutes_pdf":  {"Biên bản (PDF)", "Minutes (PDF)"},
		"link.ballot_paper": {"Mẫu phiếu bầu", "Ballot paper"},
		"link.setup":        {"Thiết lập", "Setup"},
		"link.csv":          {"Kết quả (CSV)", "Results (CSV)"},
		"link.xlsx":         {"Kết quả (Excel)", "Results (Excel)"},
		"link.log":          {"Nhật ký phiếu (JSONL)", "Ballot log (JSONL)"},
		"error.title":       {"Lỗi", "Error"},
		"error.out_of_scope": {"Mã đăng nhập của bàn này chỉ dùng cho cuộc bầu cử “%s” và các lần bầu tiếp theo của nó; hãy đăng nhập bằng mã được cấp cho cuộc bầu cử này.",
			"This desk's sign-in works only for contest “%s” and the rounds that follow it; sign in with the code issued for this contest."},
		"error.back": {"Về trang chủ", "Back to the home page"},
	})
}
