package redis

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
)

// body is a message's fixed fields, stored as one JSON value (field b):
// written once, never changed, read as a whole. "to" comes last, so that
// a fan-out step builds every member's body from one prefix and suffix.
type body struct {
	App        string            `json:"app"`
	Platform   string            `json:"platform,omitempty"`
	TemplateID string            `json:"tpl"`
	Data       map[string]string `json:"data"`
	Page       string            `json:"page,omitempty"`
	Key        string            `json:"ikey,omitempty"`
	Created    int64             `json:"created"`
	SendAt     int64             `json:"sat,omitempty"`
	APIKey     string            `json:"akey,omitempty"`
	To         string            `json:"to"`
	// Own is a group member's keyword values (a CSV audience), laid over
	// Data when the message is read: the fan-out script appends them to
	// the broadcast's body as they are stored.
	Own map[string]string `json:"md,omitempty"`
}

// member is a message's entry in the due and lease sets: its seq in 16
// hex digits, then its id. Equal scores sort by member, so by seq: ties
// go to the older message.
func member(seq int64, id string) string { return fmt.Sprintf("%016x%s", seq, id) }

// newArgs appends the NF script arguments of new message m with seq.
func newArgs(args []any, m *message.Message, seq int64) ([]any, error) {
	b, err := json.Marshal(body{App: m.App, Platform: m.Platform, TemplateID: m.TemplateID, Data: m.Data, Page: m.Page,
		Key: m.IdempotencyKey, Created: toMS(m.CreatedAt), SendAt: toMS(m.SendAt), APIKey: m.APIKey, To: m.To})
	if err != nil {
		return args, fmt.Errorf("message %s: encode: %w", m.ID, err)
	}
	ad, err := admissionArg(m.Admission)
	if err != nil {
		return args, fmt.Errorf("message %s: %w", m.ID, err)
	}
	return append(args, m.ID, member(seq, m.ID), string(m.Status), seq, toMS(m.NextAttemptAt), toMS(m.UpdatedAt),
		string(b), m.IdempotencyKey, m.Fingerprint, m.BroadcastID, m.Retries, m.PlatformMsgID, m.LastCode, m.LastError,
		string(m.HeldReason), ad), nil
}

// admission is a message.Admission as the enqueue script reads it (admit
// in scripts.go); times are Unix ms in strings (Lua numbers are doubles).
type admission struct {
	At       int64  `json:"at,string"`
	DedupKey string `json:"dk,omitempty"`
	Until    int64  `json:"du,string"`
	Slots    []slot `json:"slots,omitempty"`
}

type slot struct {
	Due      int64     `json:"due,string"`
	Held     string    `json:"held,omitempty"`
	Counters []counter `json:"c,omitempty"`
}

type counter struct {
	Key   string `json:"k"`
	Limit int    `json:"l"`
	Until int64  `json:"u,string"`
}

// admissionArg encodes ad for the script ("" for none).
func admissionArg(ad *message.Admission) (string, error) {
	if ad == nil {
		return "", nil
	}
	a := admission{At: toMS(ad.At), DedupKey: ad.DedupKey, Until: toMS(ad.DedupUntil)}
	for _, s := range ad.Slots {
		sl := slot{Due: toMS(s.Due), Held: string(s.Held)}
		for _, c := range s.Counters {
			sl.Counters = append(sl.Counters, counter{Key: c.Key, Limit: c.Limit, Until: toMS(c.Until)})
		}
		a.Slots = append(a.Slots, sl)
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("encode admission: %w", err)
	}
	return string(b), nil
}

// Enqueue implements storage.Store. A message without an ID gets one
// ("msg_…"); Status defaults to queued, CreatedAt to now and NextAttemptAt
// to CreatedAt.
//
// Two round trips, shared by the calls made at the same time (group
// commit, batch.go): the first takes a seq for each message and its id in
// the global index (SET NX: a taken id is storage.ErrConflict before
// anything is written); the second is one script per app that checks the
// idempotency keys and writes each call's messages, all or none. A call
// whose messages belong to several apps is atomic per app (the API never
// makes one).
func (s *Store) Enqueue(ctx context.Context, msgs []message.Message) ([]message.Message, []bool, error) {
	if len(msgs) == 0 {
		return nil, nil, nil
	}
	if err := s.begin(ctx); err != nil {
		return nil, nil, fmt.Errorf("enqueue: %w", err)
	}
	now := s.now()
	j := &enqueueJob{ctx: ctx, now: now, out: make([]message.Message, len(msgs)), done: make(chan struct{})}
	for i := range msgs {
		m, err := normalize(msgs[i], now)
		if err != nil {
			return nil, nil, fmt.Errorf("enqueue: %w", err)
		}
		j.out[i] = m
	}
	if !s.enq.submit(j) {
		return nil, nil, ErrClosed
	}
	<-j.done
	if j.err != nil {
		return nil, nil, j.err
	}
	return j.out, j.dup, nil
}

// enqueueJob is one Enqueue call in a batch.
type enqueueJob struct {
	ctx  context.Context
	now  time.Time
	out  []message.Message
	dup  []bool
	err  error
	done chan struct{}

	seq0   int64    // the seq of out[0]
	unused []string // ids reserved but not stored (duplicates)
}

func (j *enqueueJob) finish(err error) {
	if err != nil {
		j.err = err
	}
	close(j.done)
}

// enqueueBatch runs a batch of Enqueue calls (see Enqueue).
func (s *Store) enqueueBatch(jobs []*enqueueJob) {
	live := jobs[:0:0]
	for _, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			j.finish(fmt.Errorf("enqueue: %w", err))
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	// Round trip 1: every call's ids and seqs.
	var rs []reservation
	owner := []int{} // reservation → job
	for k, j := range live {
		for i := range j.out {
			rs = append(rs, reservation{key: s.midKey(j.out[i].ID), id: j.out[i].ID, app: j.out[i].App})
			owner = append(owner, k)
		}
	}
	seq0, taken, err := s.reserveAll(context.Background(), rs)
	if err != nil {
		for _, j := range live {
			j.finish(fmt.Errorf("enqueue: %w", err))
		}
		return
	}
	ok := live[:0:0]
	for k, j := range live {
		j.seq0 = seq0
		seq0 += int64(len(j.out))
		var mine []string
		bad := ""
		for r := range rs {
			if owner[r] != k {
				continue
			}
			if taken[r] {
				if bad == "" {
					bad = rs[r].id
				}
			} else {
				mine = append(mine, rs[r].key)
			}
		}
		if bad != "" {
			s.unreserve(mine)
			j.finish(fmt.Errorf("enqueue: id %s: %w", bad, storage.ErrConflict))
			continue
		}
		j.dup = make([]bool, len(j.out))
		ok = append(ok, j)
	}
	// Round trip 2: one script per app. A call with several apps' messages
	// is written app by app.
	type part struct {
		j   *enqueueJob
		idx []int // its messages of this app
	}
	var apps []string
	parts := map[string][]part{}
	for _, j := range ok {
		byApp := map[string][]int{}
		var order []string
		for i := range j.out {
			app := j.out[i].App
			if _, seen := byApp[app]; !seen {
				order = append(order, app)
			}
			byApp[app] = append(byApp[app], i)
		}
		for _, app := range order {
			if _, seen := parts[app]; !seen {
				apps = append(apps, app)
			}
			parts[app] = append(parts[app], part{j, byApp[app]})
		}
	}
	for _, app := range apps {
		var args []any
		args = append(args, toMS(time.Now()))
		var sent []part
		for _, p := range parts[app] {
			if p.j.err != nil {
				continue // an earlier app's part failed
			}
			mark := len(args)
			args = append(args, len(p.idx))
			var err error
			for _, i := range p.idx {
				if args, err = newArgs(args, &p.j.out[i], p.j.seq0+int64(i)); err != nil {
					break
				}
			}
			if err != nil {
				p.j.err = fmt.Errorf("enqueue: %w", err)
				args = args[:mark]
				continue
			}
			sent = append(sent, p)
		}
		if len(sent) == 0 {
			continue
		}
		v, err := s.write(context.Background(), app, "enqueue", args...)
		if err != nil {
			for _, p := range sent {
				p.j.err = scriptErr("enqueue", err)
			}
			continue
		}
		res, _ := v.([]any)
		if len(res) != len(sent) {
			for _, p := range sent {
				p.j.err = fmt.Errorf("enqueue: script answered %d results for %d calls", len(res), len(sent))
			}
			continue
		}
		for k, p := range sent {
			p.j.apply(p.idx, res[k])
		}
	}
	for _, j := range ok {
		ids := j.unused
		if j.err != nil {
			ids = ids[:0]
			for i := range j.out {
				ids = append(ids, j.out[i].ID)
			}
		}
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = s.midKey(id)
		}
		s.unreserve(keys)
		j.finish(nil)
	}
}

// apply reads one call's answer for its messages idx.
func (j *enqueueJob) apply(idx []int, r any) {
	res, _ := r.([]any)
	if len(res) == 2 && res[0] == "ERR" {
		if j.err = replyErr("enqueue", str(res[1])); j.err == nil {
			j.err = fmt.Errorf("enqueue: %s", str(res[1]))
		}
		return
	}
	if len(res) != len(idx) {
		j.err = fmt.Errorf("enqueue: script answered %d results for %d messages", len(res), len(idx))
		return
	}
	for k, r := range res {
		i := idx[k]
		switch r := r.(type) {
		case int64:
			if r == 0 {
				continue
			}
			// The same key as an earlier message of this call.
			j.dup[i] = true
			j.unused = append(j.unused, j.out[i].ID)
			j.out[i] = j.out[idx[r-1]]
		case []any:
			if len(r) == 6 && str(r[0]) == "ADM" {
				next, err := strconv.ParseInt(str(r[2]), 10, 64)
				if err != nil {
					j.err = fmt.Errorf("enqueue: admission of %s: next %q: %w", j.out[i].ID, str(r[2]), err)
					return
				}
				m := &j.out[i]
				m.Status, m.NextAttemptAt, m.HeldReason = message.Status(str(r[1])), fromMS(next), message.HeldReason(str(r[3]))
				m.Reason, m.DuplicateOf = reason.Reason(str(r[4])), str(r[5])
				continue
			}
			first, err := decodeMsg(str(r[0]), r[1], false)
			if err != nil {
				j.err = fmt.Errorf("enqueue: %w", err)
				return
			}
			j.dup[i] = true
			j.unused = append(j.unused, j.out[i].ID)
			j.out[i] = first
		}
	}
}

// reservation is one id put into a global index (a message's or a
// broadcast's) for its app.
type reservation struct {
	key, id, app string
}

// reserve takes nseq seqs and puts every reservation into its index, in
// one pipeline, and answers the first seq. An id already in its index is
// storage.ErrConflict, and nothing stays reserved.
func (s *Store) reserve(ctx context.Context, rs []reservation, nseq int) (int64, error) {
	seq0, taken, err := s.reserveSeqs(ctx, rs, nseq)
	if err != nil {
		return 0, err
	}
	var mine []string
	bad := ""
	for i, r := range rs {
		if taken[i] {
			if bad == "" {
				bad = r.id
			}
		} else {
			mine = append(mine, r.key)
		}
	}
	if bad != "" {
		s.unreserve(mine)
		return 0, fmt.Errorf("id %s: %w", bad, storage.ErrConflict)
	}
	return seq0, nil
}

// reserveAll is reserve for a batch: one seq per reservation, and which
// ids were taken already (the others are reserved).
func (s *Store) reserveAll(ctx context.Context, rs []reservation) (int64, []bool, error) {
	return s.reserveSeqs(ctx, rs, len(rs))
}

func (s *Store) reserveSeqs(ctx context.Context, rs []reservation, nseq int) (int64, []bool, error) {
	var apps []string
	for _, r := range rs {
		if !slices.Contains(apps, r.app) {
			apps = append(apps, r.app)
		}
	}
	pipe := s.c.Pipeline()
	for _, app := range apps {
		if err := checkApp(app); err != nil {
			return 0, nil, err
		}
		s.announce(pipe, ctx, app)
	}
	var seq *goredis.IntCmd
	if nseq > 0 {
		seq = pipe.IncrBy(ctx, s.seqKey(), int64(nseq))
	}
	sets := make([]*goredis.BoolCmd, len(rs))
	for i, r := range rs {
		sets[i] = pipe.SetNX(ctx, r.key, r.app, 0)
	}
	_, err := pipe.Exec(ctx)
	taken := make([]bool, len(rs))
	var mine []string
	for i, c := range sets {
		if c.Val() {
			mine = append(mine, rs[i].key)
		} else {
			taken[i] = true
		}
	}
	if err != nil && !errors.Is(err, goredis.Nil) {
		s.unreserve(mine) // some may have been set before the failure
		return 0, nil, s.done(err)
	}
	s.health.OK(time.Now())
	for _, app := range apps {
		s.markAnnounced(app)
	}
	for i, r := range rs {
		if !taken[i] && r.key == s.midKey(r.id) {
			s.idApp.put(r.id, r.app)
		}
	}
	if seq == nil {
		return 0, taken, nil
	}
	return seq.Val() - int64(nseq) + 1, taken, nil
}

// unreserve deletes index entries this call made but did not use (best
// effort: a leftover entry only makes its id unusable and Get answer
// ErrNotFound, as it should).
func (s *Store) unreserve(keys []string) {
	if len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	pipe := s.c.Pipeline()
	for _, k := range keys { // one key per command: they may live on different nodes
		pipe.Del(ctx, k)
	}
	_, _ = pipe.Exec(ctx)
}

// Get implements storage.Store: the message with its attempts, oldest
// first, and its receipt.
func (s *Store) Get(ctx context.Context, id string) (message.Message, error) {
	if err := s.begin(ctx); err != nil {
		return message.Message{}, err
	}
	app, err := s.appOf(ctx, id)
	if err != nil {
		return message.Message{}, fmt.Errorf("get message %s: %w", id, err)
	}
	v, err := s.run(ctx, app, "get", id).Result()
	if err != nil {
		return message.Message{}, fmt.Errorf("get message %s: %w", id, classify(err))
	}
	res, _ := v.([]any)
	if len(res) != 2 {
		return message.Message{}, fmt.Errorf("get message %s: %w", id, storage.ErrNotFound)
	}
	m, err := decodeMsg(id, res[0], true)
	if err != nil {
		return message.Message{}, fmt.Errorf("get message %s: %w", id, err)
	}
	m.Receipt, err = decodeReceipt(res[1])
	if err != nil {
		return message.Message{}, fmt.Errorf("get message %s: %w", id, err)
	}
	return m, nil
}

// Redrive implements storage.Store.
func (s *Store) Redrive(ctx context.Context, id string, now time.Time) (message.Message, error) {
	if err := s.begin(ctx); err != nil {
		return message.Message{}, err
	}
	app, err := s.appOf(ctx, id)
	if err != nil {
		return message.Message{}, fmt.Errorf("redrive message %s: %w", id, err)
	}
	v, err := s.write(ctx, app, "redrive", id, toMS(now))
	if err != nil {
		return message.Message{}, scriptErr("redrive", err)
	}
	return decodeMsg(id, v, false)
}

// Counts implements storage.Store: each app's counts are kept by the
// scripts that change a status, so this is one HGETALL per app.
func (s *Store) Counts(ctx context.Context) (map[message.Status]int, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	apps, err := s.appList(ctx)
	if err != nil {
		return nil, fmt.Errorf("count messages: %w", err)
	}
	counts := zeroCounts()
	pipe := s.c.Pipeline()
	cmds := make([]*goredis.MapStringStringCmd, len(apps))
	for i, app := range apps {
		cmds[i] = pipe.HGetAll(ctx, s.appBase(app)+"counts")
	}
	if _, err := pipe.Exec(ctx); err != nil && len(apps) > 0 {
		return nil, fmt.Errorf("count messages: %w", classify(err))
	}
	for _, c := range cmds {
		addCounts(counts, c.Val())
	}
	return counts, nil
}

func zeroCounts() map[message.Status]int {
	counts := make(map[message.Status]int, len(message.Statuses))
	for _, st := range message.Statuses {
		counts[st] = 0
	}
	return counts
}

func addCounts(counts map[message.Status]int, h map[string]string) {
	for st, v := range h {
		n, _ := strconv.Atoi(v)
		counts[message.Status(st)] += n
	}
}

// listBudget bounds how many index entries one list script scans before
// it answers (with what it found so far), so that a sparse filter never
// holds Redis for long.
const listBudget = 5000

// List implements storage.Store. Pages are in insertion order (the global
// seq), newest first; next is "" on the last page. The index scanned is
// the narrowest the filter allows — a broadcast's messages, an app's
// messages of one status, an app's messages — and what it does not
// select (a status within a broadcast, a receipt) is checked message by
// message in the script. Without an app, every app's index is read and
// merged by seq.
func (s *Store) List(ctx context.Context, f storage.Filter) ([]message.Message, string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, "", err
	}
	limit := storage.PageSize(f.Limit)
	max := "+inf"
	if f.Cursor != "" {
		seq, ok := decodeCursor(f.Cursor)
		if !ok {
			return nil, "", fmt.Errorf("list messages: cursor %q: %w", f.Cursor, storage.ErrNotFound)
		}
		max = "(" + strconv.FormatInt(seq, 10)
	}
	var (
		apps  []string
		index = "all"
		fst   = string(f.Status)
	)
	switch {
	case f.BroadcastID != "":
		app, err := s.c.Get(ctx, s.bidKey(f.BroadcastID)).Result()
		if errors.Is(err, goredis.Nil) || (err == nil && f.App != "" && app != f.App) {
			return []message.Message{}, "", nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("list messages: %w", classify(err))
		}
		apps, index = []string{app}, "bm:"+f.BroadcastID
	case f.App != "":
		apps = []string{f.App}
		if fst != "" {
			index, fst = "st:"+fst, ""
		}
	default:
		var err error
		if apps, err = s.appList(ctx); err != nil {
			return nil, "", fmt.Errorf("list messages: %w", err)
		}
		if fst != "" {
			index, fst = "st:"+fst, ""
		}
	}
	items, more, cut, err := s.merge(ctx, apps, index, max, limit+1, listConds{
		status: fst, receipt: string(f.Receipt), reason: string(f.Reason), to: f.To,
		from: toMS(f.CreatedFrom), until: toMS(f.CreatedTo),
	})
	if err != nil {
		return nil, "", fmt.Errorf("list messages: %w", err)
	}
	out := make([]message.Message, 0, min(len(items), limit))
	for _, it := range items[:min(len(items), limit)] {
		out = append(out, it.m)
	}
	switch {
	case len(items) > limit:
		return out, encodeCursor(items[limit-1].seq), nil
	case cut > 0:
		// The walk reached storage.ListExamined: continue below it.
		return out, encodeCursor(cut), nil
	case !more:
		return out, "", nil
	}
	return out, encodeCursor(items[len(items)-1].seq), nil
}

// listConds are what the list script checks message by message.
type listConds struct {
	status, receipt, reason, to string
	from, until                 int64 // ms, 0: none
}

type listed struct {
	seq int64
	m   message.Message
}

// appScan is one app's progress through its index.
type appScan struct {
	app       string
	cursor    string // '(seq' below which nothing was scanned yet
	exhausted bool
	buf       []listed // matches not yet merged, newest first
}

// merge reads want matches, newest first, from index in every app, and
// reports whether more may follow. Once the apps' scans have examined
// storage.ListExamined entries it scans no further: cut (0 when it did
// not stop so) is then the seq every app was scanned down to, and out
// holds the matches above it.
func (s *Store) merge(ctx context.Context, apps []string, index, top string, want int, c listConds) (out []listed, more bool, cut int64, err error) {
	scans := make([]*appScan, len(apps))
	for i, app := range apps {
		scans[i] = &appScan{app: app, cursor: top}
	}
	examined := 0
	for len(out) < want {
		// Fill every app that has nothing buffered and more to scan
		// (every one of them, so each has a cursor to cut at).
		var fill []*appScan
		for _, sc := range scans {
			if len(sc.buf) == 0 && !sc.exhausted {
				fill = append(fill, sc)
			}
		}
		if cut == 0 {
			budget := min(listBudget, max(256, (storage.ListExamined-examined)/max(1, len(fill))))
			for _, sc := range fill {
				n, err := s.scan(ctx, sc, index, want-len(out), budget, c)
				if err != nil {
					return nil, false, 0, err
				}
				examined += n
			}
			if examined >= storage.ListExamined {
				cut = cutAt(scans)
			}
		}
		// The newest buffered match is next unless an app not yet scanned
		// as deep may still hold a newer one.
		var best *appScan
		for _, sc := range scans {
			if len(sc.buf) > 0 && (best == nil || sc.buf[0].seq > best.buf[0].seq) {
				best = sc
			}
		}
		if cut > 0 {
			// No more scanning: every app was scanned down to the cut
			// (inclusive), so what is buffered there and above is
			// complete; the next call starts below it.
			if best == nil || best.buf[0].seq < cut {
				return out, true, cut, nil
			}
			out = append(out, best.buf[0])
			best.buf = best.buf[1:]
			continue
		}
		if best == nil {
			if allExhausted(scans) {
				return out, false, 0, nil
			}
			continue
		}
		blocked := false
		for _, sc := range scans {
			if len(sc.buf) == 0 && !sc.exhausted && cursorAbove(sc.cursor, best.buf[0].seq) {
				blocked = true
			}
		}
		if blocked {
			continue
		}
		out = append(out, best.buf[0])
		best.buf = best.buf[1:]
	}
	more = !allExhausted(scans)
	for _, sc := range scans {
		more = more || len(sc.buf) > 0
	}
	return out, more, 0, nil
}

// cutAt is the seq every app's scan reached (the highest cursor of the
// scans not exhausted; 0 when all are): nothing above it is left to scan.
func cutAt(scans []*appScan) int64 {
	var cut int64
	for _, sc := range scans {
		if sc.exhausted {
			continue
		}
		c, _ := strconv.ParseInt(strings.TrimPrefix(sc.cursor, "("), 10, 64)
		cut = max(cut, c)
	}
	return cut
}

func allExhausted(scans []*appScan) bool {
	for _, sc := range scans {
		if !sc.exhausted || len(sc.buf) > 0 {
			return false
		}
	}
	return true
}

// cursorAbove reports whether a scan stopped at cursor may still find
// entries newer than seq.
func cursorAbove(cursor string, seq int64) bool {
	if cursor == "+inf" {
		return true
	}
	c, _ := strconv.ParseInt(strings.TrimPrefix(cursor, "("), 10, 64)
	return c-1 > seq
}

// scan runs one list script on sc's app.
// It answers how many index entries the script examined.
func (s *Store) scan(ctx context.Context, sc *appScan, index string, want, budget int, c listConds) (int, error) {
	v, err := s.run(ctx, sc.app, "list", index, sc.cursor, want, c.status, c.receipt, budget,
		c.reason, c.to, c.from, c.until).Result()
	if err != nil {
		return 0, classify(err)
	}
	res, _ := v.([]any)
	if len(res) < 3 {
		return 0, errors.New("list script: short answer")
	}
	sc.cursor = str(res[0])
	sc.exhausted = res[1] == int64(1)
	for i := 3; i+3 < len(res); i += 4 {
		seq, _ := strconv.ParseInt(str(res[i]), 10, 64)
		m, err := decodeMsg(str(res[i+1]), res[i+2], false)
		if err != nil {
			return 0, err
		}
		if m.Receipt, err = decodeReceipt(res[i+3]); err != nil {
			return 0, err
		}
		sc.buf = append(sc.buf, listed{seq: seq, m: m})
	}
	return int(num(res[2])), nil
}

// A cursor is the last returned message's seq, base64url of 8 bytes,
// opaque to callers (the same shape as the SQLite backend's).
func encodeCursor(seq int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seq))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 8 {
		return 0, false
	}
	seq := int64(binary.BigEndian.Uint64(b))
	return seq, seq > 0
}

// Decoding script answers.

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func num(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// decodeMsg decodes the FIELDS of message id (with the attempts after
// them when attempts is set).
func decodeMsg(id string, v any, attempts bool) (message.Message, error) {
	f, _ := v.([]any)
	if len(f) < 13 || f[0] == nil {
		return message.Message{}, fmt.Errorf("message %s: %w", id, storage.ErrNotFound)
	}
	var b body
	if err := json.Unmarshal([]byte(str(f[0])), &b); err != nil {
		return message.Message{}, fmt.Errorf("message %s: decode: %w", id, err)
	}
	m := message.Message{ID: id, App: b.App, Platform: b.Platform, To: b.To, TemplateID: b.TemplateID, Data: message.MergeData(b.Data, b.Own),
		Page: b.Page, IdempotencyKey: b.Key, CreatedAt: fromMS(b.Created), SendAt: fromMS(b.SendAt), APIKey: b.APIKey,
		Status: message.Status(str(f[1])), NextAttemptAt: fromMS(num(f[3])), Retries: int(num(f[5])),
		UpdatedAt: fromMS(num(f[6])), BroadcastID: str(f[7]), PlatformMsgID: str(f[8]), LastCode: str(f[9]),
		LastError: str(f[10]), Reason: reason.Reason(str(f[11]))}
	if len(f) > 14 {
		m.HeldReason, m.DuplicateOf = message.HeldReason(str(f[13])), str(f[14])
	}
	if attempts && len(f) > 15 {
		for _, line := range strings.Split(str(f[15]), "\n") {
			if line == "" {
				continue
			}
			var a attempt
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				return message.Message{}, fmt.Errorf("message %s: decode attempt: %w", id, err)
			}
			kind := message.AttemptKind(a.Kind)
			if kind == "" {
				kind = message.KindSend
			}
			m.Attempts = append(m.Attempts, message.Attempt{At: fromMS(a.At), Kind: kind, Outcome: message.Outcome(a.Outcome),
				Code: a.Code, Message: a.Message, Reason: reason.Reason(a.Reason), LatencyMS: a.LatencyMS})
		}
	}
	return m, nil
}

// attempt is one line of a message's attempts (field a). A line without
// a kind is a send.
type attempt struct {
	At        int64   `json:"at"`
	Kind      string  `json:"kind,omitempty"`
	Outcome   string  `json:"outcome"`
	Code      string  `json:"code,omitempty"`
	Message   string  `json:"message,omitempty"`
	Reason    string  `json:"rs,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
}

// pairs decodes a flat HGETALL answer.
func pairs(v any) map[string]string {
	a, _ := v.([]any)
	out := make(map[string]string, len(a)/2)
	for i := 0; i+1 < len(a); i += 2 {
		out[str(a[i])] = str(a[i+1])
	}
	return out
}

func decodeReceipt(v any) (*message.Receipt, error) {
	h := pairs(v)
	if len(h) == 0 {
		return nil, nil
	}
	at, _ := strconv.ParseInt(h["at"], 10, 64)
	return &message.Receipt{Status: message.ReceiptStatus(h["s"]), ErrorCode: h["ec"], ErrorStatus: h["es"], At: fromMS(at)}, nil
}

// toMS stores a time; the zero time is 0.
func toMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS reads a stored time; 0 is the zero time.
func fromMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// ms truncates t to what the store keeps.
func ms(t time.Time) time.Time { return fromMS(toMS(t)) }

// normalize fills a new message's defaults and rounds its times, as every
// backend does (storage.Store.Enqueue).
func normalize(m message.Message, now time.Time) (message.Message, error) {
	if m.ID == "" {
		m.ID = message.NewID("msg_", now)
	}
	if err := checkApp(m.App); err != nil {
		return m, fmt.Errorf("message %s: %w", m.ID, err)
	}
	if m.Status == "" {
		m.Status = message.StatusQueued
	}
	if !m.Status.Valid() {
		return m, fmt.Errorf("message %s: invalid status %q", m.ID, m.Status)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = m.CreatedAt
	}
	m.CreatedAt, m.UpdatedAt, m.NextAttemptAt, m.SendAt = ms(m.CreatedAt), ms(m.UpdatedAt), ms(m.NextAttemptAt), ms(m.SendAt)
	m.Attempts, m.Reason, m.Receipt, m.DuplicateOf = nil, "", nil, ""
	return m, nil
}
