package api

import "testing"

// The roll-up's download name keeps the organization readable in ASCII.
func TestRollupFilename(t *testing.T) {
	for _, tc := range []struct{ org, want string }{
		{"Đảng bộ Quận 3", `attachment; filename="tong-hop-dang-bo-quan-3.pdf"`},
		{"  Chi bộ   Khu phố 7 ", `attachment; filename="tong-hop-chi-bo-khu-pho-7.pdf"`},
		{"Đảng bộ \"x\"/../y", `attachment; filename="tong-hop-dang-bo-xy.pdf"`},
		{"…", `attachment; filename="tong-hop-to-chuc.pdf"`},
	} {
		if got := rollupFilename(tc.org, "pdf"); got != tc.want {
			t.Errorf("rollupFilename(%q) = %s, want %s", tc.org, got, tc.want)
		}
	}
}
