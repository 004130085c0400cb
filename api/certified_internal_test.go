package api

import (
	"fmt"
	"testing"
)

// The cache of certified renderings stays within its bounds, dropping the
// least recently used first; a rendering that was not kept is forgotten,
// so the next request renders again.
func TestDownloadCacheBounds(t *testing.T) {
	var d downloadCache
	put := func(key string, size int) {
		e, render := d.get(key)
		if !render {
			t.Fatalf("%s: already there", key)
		}
		e.body = make([]byte, size)
		d.finish(e)
	}
	for i := range downloadCacheEntries + 10 {
		put(fmt.Sprint(i), 1)
		if i == 20 {
			d.get("0") // used again: kept longer than 1…
		}
	}
	if got := d.order.Len(); got != downloadCacheEntries || len(d.m) != downloadCacheEntries {
		t.Fatalf("%d entries (%d in the map), want %d", got, len(d.m), downloadCacheEntries)
	}
	if _, render := d.get("0"); render {
		t.Error("the entry used again was dropped")
	}
	if _, render := d.get("1"); !render {
		t.Error("the least recently used entry was kept")
	}
	d.finish(d.m["1"]) // the pending "1" was not rendered: forgotten
	if _, ok := d.m["1"]; ok {
		t.Error("a rendering that failed stays")
	}
	for i := range 5 {
		put(fmt.Sprint("big", i), downloadEntryBytes)
	}
	if d.bytes > downloadCacheBytes {
		t.Errorf("%d bytes kept, more than %d", d.bytes, downloadCacheBytes)
	}
	if _, render := d.get("big4"); render {
		t.Error("the newest entry was dropped")
	}
}
