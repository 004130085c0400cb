package bolt

import (
	"testing"

	"github.com/kiemphieu/kiemphieu/store/storetest"
)

var _ storetest.NoticeStore = (*Store)(nil)

func TestNoticesContract(t *testing.T) {
	storetest.RunNotices(t, func(t *testing.T) (storetest.NoticeStore, storetest.NoticeStore) {
		s := openTemp(t)
		return s, s
	})
}
