package web

import "time"

// ClockTime writes an RFC 3339 stamp in Vietnam time to the minute, as
// the account and token lists show it: "17:00 14/05/2026". A malformed
// stamp is shown as it is.
func ClockTime(stamp string) string {
	t, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return stamp
	}
	return t.In(minutesZone()).Format("15:04 02/01/2006")
}

// Messages of the users page (/users), the password page (/password) and
// the desk tokens of a round's control page.
func init() {
	messagesOf(map[string][2]string{
		"nav.users":           {"Người dùng", "Users"},
		"nav.password":        {"Đổi mật khẩu", "Change password"},
		"login.username_long": {"Tên đăng nhập quá dài (tối đa %d ký tự).", "The user name is too long (at most %d characters)."},

		"users.title":         {"Người dùng và mã truy cập", "Users and tokens"},
		"users.list":          {"Người dùng", "Users"},
		"users.username":      {"Tên đăng nhập", "User name"},
		"users.role":          {"Vai trò", "Role"},
		"users.created":       {"Tạo lúc", "Created"},
		"users.state":         {"Trạng thái", "State"},
		"users.active":        {"Đang dùng", "Active"},
		"users.disabled":      {"Đã khóa", "Disabled"},
		"users.disable":       {"Khóa", "Disable"},
		"users.enable":        {"Mở khóa", "Enable"},
		"users.disable_help":  {"Người dùng bị khóa không đăng nhập được, và các phiên làm việc của họ kết thúc ngay trên mọi máy chủ.", "A disabled user cannot sign in, and their sessions end at once on every instance."},
		"users.reset":         {"Đặt lại mật khẩu", "Reset the password"},
		"users.new_password":  {"Mật khẩu mới", "New password"},
		"users.add":           {"Thêm người dùng", "Add a user"},
		"users.password":      {"Mật khẩu (10–72 ký tự)", "Password (10–72 characters)"},
		"users.create":        {"Thêm", "Add"},
		"users.none":          {"Chưa có người dùng nào.", "No users yet."},
		"users.tokens":        {"Mã truy cập (token)", "Tokens"},
		"users.tokens_help":   {"Mọi mã đã cấp, kể cả mã đã hết hạn. Thu hồi một mã thì mã đó bị từ chối ngay và các phiên đăng nhập bằng mã đó kết thúc.", "Every token issued, expired ones included. A revoked token is refused at once, and the sessions signed in with it end."},
		"users.token_name":    {"Tên", "Name"},
		"users.token_contest": {"Cuộc bầu cử", "Election"},
		"users.token_all":     {"tất cả", "all"},
		"users.token_expires": {"Hết hạn", "Expires"},
		"users.token_expired": {"đã hết hạn", "expired"},
		"users.revoke":        {"Thu hồi", "Revoke"},
		"users.no_tokens":     {"Chưa cấp mã nào.", "No tokens issued."},
		"users.done.disabled": {"Đã khóa %s; %d phiên làm việc đã kết thúc.", "%s disabled; %d sessions ended."},
		"users.done.enabled":  {"Đã mở khóa %s.", "%s enabled."},
		"users.done.reset":    {"Đã đặt lại mật khẩu của %s; %d phiên làm việc đã kết thúc.", "The password of %s was reset; %d sessions ended."},
		"users.done.created":  {"Đã thêm người dùng %s.", "User %s added."},
		"users.done.revoked":  {"Đã thu hồi mã %s; %d phiên làm việc đã kết thúc.", "Token %s revoked; %d sessions ended."},

		"password.title":   {"Đổi mật khẩu", "Change password"},
		"password.old":     {"Mật khẩu hiện tại", "Present password"},
		"password.new":     {"Mật khẩu mới (10–72 ký tự)", "New password (10–72 characters)"},
		"password.confirm": {"Nhập lại mật khẩu mới", "New password again"},
		"password.submit":  {"Đổi mật khẩu", "Change password"},
		"password.done":    {"Đã đổi mật khẩu. Các phiên làm việc khác của bạn đã kết thúc.", "Password changed. Your other sessions have ended."},

		"account.error.password":       {"Mật khẩu mới: phải từ 10 đến 72 ký tự.", "New password: must be 10 to 72 characters."},
		"account.error.confirm":        {"Nhập lại mật khẩu mới: không khớp với mật khẩu mới.", "New password again: does not match the new password."},
		"account.error.old_password":   {"Mật khẩu hiện tại: không đúng.", "Present password: wrong."},
		"account.error.username":       {"Tên đăng nhập: từ 1 đến 64 ký tự, không có dấu cách, “:” hay “/”.", "User name: 1 to 64 characters, without spaces, “:” or “/”."},
		"account.error.username_taken": {"Tên đăng nhập: đã có người dùng tên này.", "User name: already taken."},
		"account.error.role":           {"Vai trò: hãy chọn một vai trò.", "Role: pick a role."},
		"account.error.self":           {"Không thể khóa tài khoản bạn đang dùng để đăng nhập.", "You cannot disable the account you are signed in with."},
		"account.error.not_found":      {"Không có người dùng hoặc mã này (có thể đã bị thu hồi).", "No such user or token (it may have been revoked)."},
		"account.error.other":          {"Không thực hiện được: %s", "Could not be done: %s"},

		"setup.tokens.lifetime": {"Hiệu lực", "Valid for"},
		"setup.tokens.life.12h": {"12 giờ", "12 hours"},
		"setup.tokens.life.24h": {"24 giờ (một ngày đại hội)", "24 hours (a congress day)"},
		"setup.tokens.life.72h": {"3 ngày", "3 days"},
		"setup.tokens.issued":   {"Mã đã cấp", "Tokens issued"},
		"setup.tokens.none":     {"Chưa cấp mã nào cho cuộc bầu cử này.", "No token issued for this election yet."},
		"setup.tokens.expires":  {"Hết hạn", "Expires"},
		"setup.tokens.expired":  {"đã hết hạn", "expired"},
		"setup.tokens.revoke":   {"Thu hồi", "Revoke"},
		"setup.tokens.round":    {"cấp cho %s", "issued for %s"},
		"setup.token.expires":   {"Mã hết hạn lúc %s.", "The token expires at %s."},
	})
}
