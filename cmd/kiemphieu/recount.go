package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"

	"github.com/kiemphieu/kiemphieu/tally"
)

// maxBallotLine bounds one JSONL line: an approve ballot of MaxCandidates
// rows fits with room to spare.
const maxBallotLine = 1 << 20

// recount implements `kiemphieu recount CONTEST.json BALLOTS.jsonl`. The
// second file may also be a round's log as the service exports it (GET
// …/log): the chain is then verified and voided ballots left out.
func recount(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("recount", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "json", "output format: json or text")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageErrorf("recount: %v", err)
	}
	if len(files) != 2 {
		return usageErrorf("recount needs CONTEST.json and BALLOTS.jsonl; got %d file arguments", len(files))
	}
	if *format != "json" && *format != "text" {
		return usageErrorf(`recount: --format must be "json" or "text"; got %q`, *format)
	}
	contest, err := loadContest(files[0])
	if err != nil {
		return err
	}
	f, err := os.Open(files[1])
	if err != nil {
		return inputErrorf("%s: %v", files[1], unwrapPathError(err))
	}
	defer f.Close()
	isLog, err := isLogExport(f)
	if err != nil {
		return inputErrorf("%s: %v", files[1], err)
	}
	count := countBallots
	if isLog {
		count = countLog
	}
	tallied, err := count(contest, files[1], f)
	if err != nil {
		return err
	}
	res := tallied.Result()
	w := bufio.NewWriter(stdout)
	if *format == "text" {
		writeText(w, contest, res)
	} else {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	return w.Flush()
}

// parseInterspersed lets flags come before, between or after the file
// arguments, as people type them.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// loadContest reads and validates a contest file, reporting every problem
// as file:line: field: problem.
func loadContest(path string) (*tally.Contest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, inputErrorf("%s: %v", path, unwrapPathError(err))
	}
	c, err := tally.ParseContest(data)
	if err == nil {
		return c, nil
	}
	pos := newPositions(data)
	bad := &inputError{}
	for _, p := range tally.Problems(err) {
		line := pos.lineOf(p)
		bad.lines = append(bad.lines, fmt.Sprintf("%s:%d: %s", path, line, p.Error()))
	}
	return nil, bad
}

// countBallots decodes JSONL ballots into a count. A ballot id seen twice is
// an error, not a ballot counted twice or silently dropped.
func countBallots(c *tally.Contest, path string, r io.Reader) (*tally.Count, error) {
	dec := tally.NewBallotDecoder(c)
	count := tally.NewCount(c)
	seen := make(map[string]int)
	size := fileSize(r) // 0: unknown, never resized
	var read int64      // bytes of the lines scanned so far
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxBallotLine)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		read += int64(len(b)) + 1
		if len(seen) == sizeSample && size > read {
			seen = regrow(seen, int(int64(sizeSample)*size/read))
			size = 0 // once
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		id, m, err := dec.Decode(b)
		if err != nil {
			return nil, inputErrorf("%s:%d: %v", path, line, err)
		}
		if first, dup := seen[id]; dup {
			return nil, inputErrorf("%s:%d: id: ballot %q was already counted at line %d", path, line, id, first)
		}
		seen[id] = line
		count.Add(m)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, inputErrorf("%s:%d: line longer than %d bytes", path, line+1, maxBallotLine)
		}
		return nil, inputErrorf("%s: %v", path, err)
	}
	return count, nil
}

// sizeSample is how many ballots countBallots reads before it sizes the
// map of ids for the whole file. Growing that map step by step to a million
// ids costs about as much as decoding the million ballots.
const sizeSample = 4096

// fileSize is the size of r if it is a regular file, or 0.
func fileSize(r io.Reader) int64 {
	f, ok := r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return 0
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}

// regrow returns m copied into a map made for n entries. n is an estimate
// (the ballots per byte so far times the file size); a ballot line takes at
// least 22 bytes with its newline, so n stays below the file size / 22.
func regrow(m map[string]int, n int) map[string]int {
	grown := make(map[string]int, n+n/16)
	maps.Copy(grown, m)
	return grown
}

// positions finds the line of a field in a JSON document.
type positions struct {
	data   []byte
	fields map[string]int // JSON path → line of its key or array element
}

func newPositions(data []byte) *positions {
	return &positions{data: data, fields: fieldLines(data)}
}

func (p *positions) lineOf(e *tally.Error) int {
	if e.Offset > 0 {
		return lineAt(p.data, e.Offset)
	}
	if l, ok := p.fields[e.Field]; ok {
		return l
	}
	// An unknown field is reported by name only: find where it appears.
	best := 0
	for path, l := range p.fields {
		if e.Field != "" && strings.HasSuffix(path, "."+e.Field) || path == e.Field {
			if best == 0 || l < best {
				best = l
			}
		}
	}
	if best > 0 {
		return best
	}
	return 1
}

func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}

// fieldLines walks a JSON document's tokens and records the line on which
// each path ("electorate.convened", "candidates[2].name") starts. No JSON
// token spans lines, so the offset just after a token is on its line.
func fieldLines(data []byte) map[string]int {
	type frame struct {
		path    string
		isArray bool
		index   int
		key     string
		wantKey bool
	}
	lines := map[string]int{}
	var stack []*frame
	advance := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.isArray {
			top.index++
		} else {
			top.wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return lines
		}
		line := lineAt(data, dec.InputOffset())
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		delim, isDelim := tok.(json.Delim)
		if isDelim && (delim == '}' || delim == ']') {
			stack = stack[:len(stack)-1]
			advance()
			continue
		}
		if top != nil && !top.isArray && top.wantKey {
			top.key, _ = tok.(string)
			top.wantKey = false
			lines[joinPath(top.path, top.key)] = line
			continue
		}
		path := ""
		switch {
		case top == nil:
		case top.isArray:
			path = fmt.Sprintf("%s[%d]", top.path, top.index)
			lines[path] = line
		default:
			path = joinPath(top.path, top.key)
		}
		if isDelim {
			stack = append(stack, &frame{path: path, isArray: delim == '[', wantKey: delim == '{'})
			continue
		}
		advance()
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// isLogExport tells a log export (lines with "seq" and "prev") from a
// ballot file by its first line, and rewinds f.
func isLogExport(f *os.File) (bool, error) {
	defer f.Seek(0, io.SeekStart)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxBallotLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var probe map[string]json.RawMessage
		if json.Unmarshal(line, &probe) != nil {
			return false, nil // the ballot decoder reports the problem
		}
		_, seq := probe["seq"]
		_, prev := probe["prev"]
		return seq && prev, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	return false, sc.Err()
}

// countLog reads a log export, verifies its hash chain and replays it.
func countLog(c *tally.Contest, path string, r io.Reader) (*tally.Count, error) {
	var entries []tally.Entry
	var lines []int // the file line of each entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxBallotLine)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if e, ok := decodeCanonicalEntry(b); ok {
			entries = append(entries, e)
			lines = append(lines, line)
			continue
		}
		var e tally.Entry
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, inputErrorf("%s:%d: not a log entry: %v", path, line, strings.TrimPrefix(err.Error(), "json: "))
		}
		entries = append(entries, e)
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, inputErrorf("%s: %v", path, err)
	}
	at := func(err error) error {
		p := tally.Problems(err)[0]
		var i int
		if _, scanErr := fmt.Sscanf(p.Field, "log[%d]", &i); scanErr == nil && i < len(lines) {
			field := p.Field[strings.Index(p.Field, "]")+1:]
			return inputErrorf("%s:%d: %s: %s", path, lines[i], strings.TrimPrefix(field, "."), p.Message)
		}
		return inputErrorf("%s: %v", path, err)
	}
	if _, err := tally.VerifyChain(entries); err != nil {
		return nil, at(err)
	}
	count, err := tally.Replay(c, entries)
	if err != nil {
		return nil, at(err)
	}
	return count, nil
}
