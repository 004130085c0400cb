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

		"users.title":              {"Người dùng và mã truy cập", "Users and tokens"},
		"users.list":               {"Người dùng", "Users"},
		"users.username":           {"Tên đăng nhập", "User name"},
		"users.role":               {"Vai trò", "Role"},
		"users.created":            {"Tạo lúc", "Created"},
		"users.state":              {"Trạng thái", "State"},
		"users.active":             {"Đang dùng", "Active"},
		"users.disabled":           {"Đã khóa", "Disabled"},
		"users.disable":            {"Khóa", "Disable"},
		"users.enable":             {"Mở khóa", "Enable"},
		"users.disable_help":       {"Người dùng bị khóa không đăng nhập được, và các phiên làm việc của họ kết thúc ngay trên mọi máy chủ.", "A disabled user cannot sign in, and their sessions end at once on every instance."},
		"users.reset":              {"Đặt lại mật khẩu", "Reset the password"},
		"users.new_password":       {"Mật khẩu mới", "New password"},
		"users.add":                {"Thêm người dùng", "Add a user"},
		"users.password":           {"Mật khẩu (10–72 ký tự)", "Password (10–72 characters)"},
		"users.create":             {"Thêm", "Add"},
		"users.none":               {"Chưa có người dùng nào.", "No users yet."},
		"users.tokens":             {"Mã truy cập (token)", "Tokens"},
		"users.tokens_help":        {"Mọi mã đã cấp, kể cả mã đã hết hạn. Thu hồi một mã thì mã đó bị từ chối ngay và các phiên đăng nhập bằng mã đó kết thúc.", "Every token issued, expired ones included. A revoked token is refused at once, and the sessions signed in with it end."},
		"users.token_name":         {"Tên", "Name"},
		"users.token_contest":      {"Cuộc bầu cử", "Election"},
		"users.token_all":          {"tất cả", "all"},
		"users.token_expires":      {"Hết hạn", "Expires"},
		"users.token_expired":      {"đã hết hạn", "expired"},
		"users.revoke":             {"Thu hồi", "Revoke"},
		"users.no_tokens":          {"Chưa cấp mã nào.", "No tokens issued."},
		"users.done.disabled":      {"Đã khóa %s; %d phiên làm việc đã kết thúc.", "%s disabled; %d sessions ended."},
		"users.done.enabled":       {"Đã mở khóa %s.", "%s enabled."},
		"users.done.reset":         {"Đã đặt lại mật khẩu của %s; %d phiên làm việc đã kết thúc.", "The password of %s was reset; %d sessions ended."},
		"users.done.created":       {"Đã thêm người dùng %s.", "User %s added."},
		"users.done.renamed":       {"Đã đổi tên %s thành “%s”.", "%s is now called “%s”."},
		"users.done.token_renamed": {"Đã đổi tên mã %s thành “%s”.", "Token %s is now called “%s”."},
		"users.name":               {"Họ và tên (in trên biên bản)", "Full name (as the minutes print it)"},
		"users.name_help":          {"Biên bản và nhật ký ghi người dùng theo họ và tên này; để trống thì ghi tên đăng nhập. Đổi tên không sửa những gì đã ghi.", "The minutes and the audit log print a user by this name; empty, by the user name. A rename does not change what was already recorded."},
		"users.rename":             {"Đổi tên", "Rename"},
		"users.token_rename":       {"Tên mới của bàn", "New desk name"},
		"users.done.revoked":       {"Đã thu hồi mã %s; %d phiên làm việc đã kết thúc.", "Token %s revoked; %d sessions ended."},

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
		"account.error.name":           {"Họ và tên: tối đa %d ký tự (tên bàn không được để trống).", "Full name: at most %d characters (a desk's name cannot be empty)."},
		"account.error.self":           {"Không thể khóa tài khoản bạn đang dùng để đăng nhập.", "You cannot disable the account you are signed in with."},
		"account.error.not_found":      {"Không có người dùng hoặc mã này (có thể đã bị thu hồi).", "No such user or token (it may have been revoked)."},
		"account.error.other":          {"Không thực hiện được: %s", "Could not be done: %s"},

		"firstrun.title":              {"Thiết lập lần đầu", "First-run setup"},
		"firstrun.intro":              {"Máy chủ chưa có tài khoản nào. Tạo tài khoản quản trị cho thư ký đại hội (hoặc người phụ trách kỹ thuật): người này thêm các thành viên Ban Kiểm phiếu và cấp mã cho các bàn kiểm phiếu.", "The service has no account yet. Create the admin account of the congress secretary (or the technical assistant): they add the counting committee and issue the desks' tokens."},
		"firstrun.name":               {"Họ và tên (in trên biên bản)", "Full name (as the minutes print it)"},
		"firstrun.name_example":       {"Nguyễn Thị Lan", "Nguyễn Thị Lan"},
		"firstrun.confirm":            {"Nhập lại mật khẩu", "Password again"},
		"firstrun.submit":             {"Tạo tài khoản và đăng nhập", "Create the account and sign in"},
		"firstrun.after":              {"Đường dẫn này chỉ dùng được một lần. Sau đó, đăng nhập bằng tên đăng nhập và mật khẩu vừa tạo; các tài khoản khác được thêm ở trang Người dùng.", "This link works once. Afterwards, sign in with the user name and password made here; other accounts are added on the Users page."},
		"firstrun.closed.done":        {"Máy chủ đã được thiết lập: đường dẫn này đã được dùng. Hãy đăng nhập.", "The service is set up: this link has been used. Please sign in."},
		"firstrun.closed.expired":     {"Đường dẫn thiết lập đã hết hạn. Khởi động lại máy chủ để nhận đường dẫn mới (in ra trong cửa sổ của máy chủ).", "The setup link has expired. Restart the service for a new one (printed in the service's window)."},
		"firstrun.closed.wrong":       {"Mã trong đường dẫn không đúng. Hãy dùng đường dẫn mới nhất mà máy chủ in ra khi khởi động.", "The code in the link is wrong. Use the newest link the service printed when it started."},
		"firstrun.error.password":     {"Mật khẩu: phải từ %d đến 72 ký tự.", "Password: must be %d to 72 characters."},
		"firstrun.error.name":         {"Họ và tên: bắt buộc (biên bản in tên này).", "Full name: required (the minutes print it)."},
		"account.error.confirm_first": {"Nhập lại mật khẩu: không khớp với mật khẩu.", "Password again: does not match the password."},
		"login.first_run":             {"Máy chủ chưa có tài khoản nào. Mở đường dẫn thiết lập lần đầu (…/setup?code=…) mà máy chủ in ra trong cửa sổ của nó khi khởi động.", "The service has no account yet. Open the first-run link (…/setup?code=…) the service printed in its window when it started."},

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
