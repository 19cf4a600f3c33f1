package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/minipush/minipush/sender/internal/storage"
)

// The Lua scripts. Each app script gets KEYS[1] = the app's key base
// "<prefix>:{<app>}:" and touches only keys that start with it: one hash
// slot. Rules every script keeps (Redis never rolls a script back):
//
//   - check everything first, write after; an error reply after a write
//     would leave half a change;
//   - a write script starts with "#!lua" (no flags): Redis refuses it
//     whole while it is out of memory, instead of failing a write in the
//     middle; a read script says "#!lua flags=no-writes" and runs even
//     then.
//
// Key layout per app (docs/redis.md has the full table):
//
//	m:<id>        hash   a message: b (its fixed fields as JSON), k (its queue member), s status,
//	                     q seq, n next attempt ms, c claims (the fence), r retries, u updated ms,
//	                     bid, pm platform msgid, lc last code, le last error, rs reason, a attempts (JSON lines)
//	due           zset   queued and retrying messages by due time (member: %016x seq + id)
//	lease         zset   sending messages by lease end
//	all, st:<s>   zset   ids by seq: every message, and per status (List, newest first)
//	counts        hash   messages per status (Counts)
//	b:<id>, bm:<id>, bc:<id>   a broadcast (j JSON, n recipients, f fanned out, v group version,
//	                     after fan-out position), its messages by seq, its counts per status
//	fanout        zset   group broadcasts still fanning out, by creation time
//	blist         zset   every broadcast (score 0, member storage.BroadcastKey: 13-digit created ms, '-', id):
//	                     GET /v1/broadcasts walks it newest first by ZREVRANGEBYLEX
//	ik:<kind>:<key>, ikage     idempotency keys (fp, ref, at) and their ages
//	g:<name>, gm:<v>, gver, gstaging, gretired   groups: the head (v, size, at), members of a version
//	rc:<msgid>    hash   a platform receipt
//	e:<id>, ek:<key>, epending, eproc   platform events
//	c:<user>\x00<template>, cidx          the consent ledger
//	held          set    messages the app's pause put back (field h of m:<id>): a resume makes them due
//	pz            hash   the app's stored pause (until, reason, code, message, since)
//	gidx          zset   the app's group names (GET /v1/groups)
//	dd:<key>, fc:<key>   hash   campaign rules: a dedup entry (m, u) and a frequency-cap count (n, u)
//	                     (admit; docs/campaigns.md); a message's held reason and duplicate_of are its
//	                     fields hr and dof
//	wh:<id>       hash   a result-webhook delivery (<message id>.<n>; m:<id> field wn counts them):
//	                     m, ak, e event, ms/rs/lc the message's status/reason/code, s status, a attempts,
//	                     n next attempt ms, w window ms, c created ms, u updated ms, q score, l attempts (JSON lines)
//	whdue         zset   pending deliveries by due time
//	whall, whst:<s>      zset   deliveries by score (created ms × 1000 + a counter), all and per status
//	whseq         string the score counter
//	pmm:<msgid>   string the message a platform msgid names, kept for messages with a webhook (receipts)
const prelude = `
local base = KEYS[1]
-- a message's fields as read for answers, in this order (decode: msgFields)
local FIELDS = {'b', 's', 'q', 'n', 'c', 'r', 'u', 'bid', 'pm', 'lc', 'le', 'rs', 'k', 'hr', 'dof'}
-- ARGV slots of one new message: id, member, status, seq, next, updated, body, ikey, fp, bid, retries, pm, lc, le,
-- held reason, admission (JSON, '' for none: campaign rules, admit below)
local NF = 16

local function mismatch(a, b) return a and b and a ~= '' and b ~= '' and a ~= b end

-- picks: whether a message with reason rs, last code lc and body b matches
-- the conditions Selection and Filter share: reason rsn, code, recipient to
-- ('' for any), created in [cfrom, cto) (ms; 0 for no bound).
local function picks(rs, lc, b, rsn, code, to, cfrom, cto)
  if (rsn ~= '' and rs ~= rsn) or (code ~= '' and lc ~= code) then return false end
  if to == '' and cfrom == 0 and cto == 0 then return true end
  local body = cjson.decode(b)
  if to ~= '' and body.to ~= to then return false end
  return (cfrom == 0 or body.created >= cfrom) and (cto == 0 or body.created < cto)
end

-- stmove moves message id (seq, broadcast bid or false) from status from
-- (nil: a new message) to status to in the status indexes and counts.
local function stmove(id, seq, bid, from, to)
  if from == to then return end
  if from then
    redis.call('ZREM', base .. 'st:' .. from, id)
    redis.call('HINCRBY', base .. 'counts', from, -1)
    if bid then redis.call('HINCRBY', base .. 'bc:' .. bid, from, -1) end
  end
  redis.call('ZADD', base .. 'st:' .. to, seq, id)
  redis.call('HINCRBY', base .. 'counts', to, 1)
  if bid then redis.call('HINCRBY', base .. 'bc:' .. bid, to, 1) end
end

-- insert writes the new message whose NF fields start at a[i].
local function insert(a, i)
  local id, member, st, seq, nxt = a[i], a[i+1], a[i+2], a[i+3], a[i+4]
  local f = {'b', a[i+6], 'k', member, 's', st, 'q', seq, 'n', nxt, 'c', 0, 'r', a[i+10], 'u', a[i+5]}
  local bid = a[i+9]
  if bid == '' then bid = false else f[#f+1] = 'bid'; f[#f+1] = bid end
  if a[i+11] ~= '' then f[#f+1] = 'pm'; f[#f+1] = a[i+11] end
  if a[i+12] ~= '' then f[#f+1] = 'lc'; f[#f+1] = a[i+12] end
  if a[i+13] ~= '' then f[#f+1] = 'le'; f[#f+1] = a[i+13] end
  if a[i+14] and a[i+14] ~= '' then f[#f+1] = 'hr'; f[#f+1] = a[i+14] end
  redis.call('HSET', base .. 'm:' .. id, unpack(f))
  redis.call('ZADD', base .. 'all', seq, id)
  if bid then redis.call('ZADD', base .. 'bm:' .. bid, seq, id) end
  stmove(id, seq, bid, nil, st)
  if st == 'queued' or st == 'retrying' then
    redis.call('ZADD', base .. 'due', nxt, member)
  elseif st == 'sending' then
    redis.call('ZADD', base .. 'lease', 0, member) -- no lease: due for a claim at once
  end
end

local function msg(id) return redis.call('HMGET', base .. 'm:' .. id, unpack(FIELDS)) end

-- unhold clears message id's held mark (it was put back by the app's pause).
local function unhold(id)
  redis.call('HDEL', base .. 'm:' .. id, 'h')
  redis.call('SREM', base .. 'held', id)
end

-- Result webhooks. SCOPE is set by the scripts that change a message's
-- status from their ARGV: '' (no webhook in this app), '*' (every message
-- of the app) or the JSON-encoded names of the API keys with a webhook,
-- one per line.
local SCOPE = ''
local function hooked(id)
  if SCOPE == '' then return false end
  if SCOPE == '*' then return true end
  local b = redis.call('HGET', base .. 'm:' .. id, 'b')
  if not b then return false end
  for k in string.gmatch(SCOPE, '[^\n]+') do
    if string.find(b, '"akey":' .. k, 1, true) and cjson.encode(cjson.decode(b).akey) == k then return true end
  end
  return false
end
local function whmove(did, q, from, to)
  if from then redis.call('ZREM', base .. 'whst:' .. from, did) end
  redis.call('ZADD', base .. 'whst:' .. to, q, did)
end
-- whevent writes message id's next webhook event (ev) into the outbox,
-- due at now (ms), with the message's status st, reason rs and code lc.
local function whevent(id, ev, st, rs, lc, now)
  local key = base .. 'm:' .. id
  local n = redis.call('HINCRBY', key, 'wn', 1)
  local did = id .. '.' .. n
  local q = string.format('%.0f', tonumber(now) * 1000 + redis.call('INCR', base .. 'whseq') % 1000)
  local ak = ''
  local b = redis.call('HGET', key, 'b')
  if b then ak = cjson.decode(b).akey or '' end
  redis.call('HSET', base .. 'wh:' .. did, 'm', id, 'ak', ak, 'e', ev, 'ms', st, 'rs', rs or '', 'lc', lc or '',
    's', 'pending', 'a', 0, 'n', now, 'w', now, 'c', now, 'u', now, 'q', q)
  redis.call('ZADD', base .. 'whdue', now, did)
  redis.call('ZADD', base .. 'whall', q, did)
  whmove(did, q, nil, 'pending')
end

-- cancelOne ends waiting message id cancelled at now; false when its
-- status (st) is not one to cancel.
local function cancelOne(id, st, member, seq, bid, now)
  if st ~= 'queued' and st ~= 'retrying' then return false end
  local key = base .. 'm:' .. id
  redis.call('ZREM', base .. 'due', member)
  redis.call('HSET', key, 's', 'cancelled', 'rs', 'cancelled', 'u', now)
  unhold(id)
  stmove(id, seq, bid, st, 'cancelled')
  if hooked(id) then whevent(id, 'message.cancelled', 'cancelled', 'cancelled', redis.call('HGET', key, 'lc'), now) end
  return true
end

-- redriveOne puts dead letter id back in the queue at now with a fresh
-- retry budget; false when its status is not one to redrive.
local function redriveOne(id, st, member, seq, bid, now)
  if st ~= 'failed' and st ~= 'rejected' and st ~= 'cancelled' then return false end
  local key = base .. 'm:' .. id
  redis.call('HSET', key, 's', 'queued', 'r', 0, 'n', now, 'u', now)
  redis.call('HDEL', key, 'rs')
  unhold(id)
  redis.call('ZADD', base .. 'due', now, member)
  stmove(id, seq, bid, st, 'queued')
  return true
end

-- admit applies the campaign rules of the new message whose NF fields
-- start at a[i] (docs/campaigns.md): a live dedup entry dd:<key> whose
-- message exists makes it a duplicate; else the first slot whose counters
-- fc:<key> all have room is taken (none: frequency_cap) and counted, and
-- the dedup entry is set to it. It changes the message's status, next
-- attempt and held reason in a, and answers the fields insert does not
-- write (reason, duplicate_of). Times are strings of Unix ms; the keys'
-- TTLs only collect garbage (a day past their end): liveness is decided
-- by the stored end against the admission's clock.
local DAY = 86400000
local function admit(a, i)
  local ad = cjson.decode(a[i+15])
  local at = tonumber(ad.at)
  local dk = ad.dk or ''
  if dk ~= '' then
    local e = redis.call('HMGET', base .. 'dd:' .. dk, 'm', 'u')
    if e[1] and tonumber(e[2]) > at and redis.call('EXISTS', base .. 'm:' .. e[1]) == 1 then
      a[i+2] = 'rejected'
      return {'rs', 'duplicate', 'dof', e[1]}
    end
  end
  local slots = ad.slots or {}
  if #slots > 0 then
    local pick = nil
    for _, s in ipairs(slots) do
      local room = true
      for _, c in ipairs(s.c or {}) do
        local v = redis.call('HMGET', base .. 'fc:' .. c.k, 'n', 'u')
        if v[1] and tonumber(v[2]) > at and tonumber(v[1]) >= tonumber(c.l) then room = false; break end
      end
      if room then pick = s; break end
    end
    if not pick then
      a[i+2] = 'rejected'
      return {'rs', 'frequency_cap'}
    end
    a[i+4] = pick.due
    a[i+14] = pick.held or ''
    for _, c in ipairs(pick.c or {}) do
      local key = base .. 'fc:' .. c.k
      local v = redis.call('HMGET', key, 'n', 'u')
      if v[1] and tonumber(v[2]) > at then redis.call('HINCRBY', key, 'n', 1) else redis.call('HSET', key, 'n', 1) end
      redis.call('HSET', key, 'u', c.u)
      redis.call('PEXPIRE', key, math.max(tonumber(c.u) - at, 0) + DAY)
    end
  end
  if dk ~= '' then
    local key = base .. 'dd:' .. dk
    redis.call('HSET', key, 'm', a[i], 'u', ad.du)
    redis.call('PEXPIRE', key, math.max(tonumber(ad.du) - at, 0) + DAY)
  end
  return {}
end

-- admitted is what admission made of the new message x whose NF fields
-- start at a[i] (extra: admit's answer), for the caller's metrics:
-- {x, status, next, held reason, reason, duplicate_of}.
local function admitted(x, a, i, extra)
  local rs, dof = '', ''
  if #extra > 0 then rs = extra[2]; dof = extra[4] or '' end
  return {x, a[i+2], tostring(a[i+4]), a[i+14] or '', rs, dof}
end

-- idempotency keys of a kind (message, broadcast, group)
local function getkey(kind, key)
  local v = redis.call('HMGET', base .. 'ik:' .. kind .. ':' .. key, 'fp', 'ref')
  return v[1], v[2]
end
local function setkey(kind, key, fp, ref, now)
  redis.call('HSET', base .. 'ik:' .. kind .. ':' .. key, 'fp', fp, 'ref', ref, 'at', now)
  redis.call('ZADD', base .. 'ikage', now, kind .. ':' .. key)
end
`

// Scripts by name.
var scriptSrc = map[string]string{
	// enqueue: ARGV now, then per request its message count and NF per
	// message. Requests are checked and written one after the other, each
	// all or none: a request whose key or id is refused changes nothing
	// and does not stop the others (it answers {'ERR', reason}). A request
	// answers one entry per message: 0 stored, j (a number) the same key
	// as its message j, {id, fields} of the first message of a key
	// already taken, or {'ADM', status, next, held reason, reason,
	// duplicate_of} stored after its admission (campaign rules) decided.
	"enqueue": `
local now = ARGV[1]
local function one(i, n)
  local plan, firstOf, ids = {}, {}, {}
  for m = 1, n do
    local k = i + (m - 1) * NF
    local id, ikey, fp = ARGV[k], ARGV[k+7], ARGV[k+8]
    plan[m] = 0
    if ikey ~= '' then
      local j = firstOf[ikey]
      if j then
        if mismatch(ARGV[i + (j - 1) * NF + 8], fp) then return nil, 'MISMATCH ' .. ikey end
        plan[m] = j
      else
        local kfp, ref = getkey('message', ikey)
        if ref then
          if mismatch(kfp, fp) then return nil, 'MISMATCH ' .. ikey end
          if redis.call('EXISTS', base .. 'm:' .. ref) == 1 then plan[m] = ref end
        end
        if plan[m] == 0 then firstOf[ikey] = m end
      end
    end
    if plan[m] == 0 then
      if ids[id] or redis.call('EXISTS', base .. 'm:' .. id) == 1 then
        return nil, 'CONFLICT message ' .. id .. ' exists'
      end
      ids[id] = true
    end
  end
  local out = {}
  for m = 1, n do
    local k = i + (m - 1) * NF
    local p = plan[m]
    if p == 0 then
      local extra = nil
      if ARGV[k+15] ~= '' then extra = admit(ARGV, k) end
      insert(ARGV, k)
      if extra and #extra > 0 then redis.call('HSET', base .. 'm:' .. ARGV[k], unpack(extra)) end
      if ARGV[k+7] ~= '' then setkey('message', ARGV[k+7], ARGV[k+8], ARGV[k], now) end
      out[m] = 0
      if extra then
        local rs, dof = '', ''
        if #extra > 0 then rs = extra[2]; dof = extra[4] or '' end
        out[m] = {'ADM', ARGV[k+2], tostring(ARGV[k+4]), ARGV[k+14], rs, dof}
      end
    elseif type(p) == 'number' then
      out[m] = p
    else
      out[m] = {p, msg(p)}
    end
  end
  return out
end
local res = {}
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local out, err = one(i + 1, n)
  if out then res[#res+1] = out else res[#res+1] = {'ERR', err} end
  i = i + 1 + n * NF
end
return res
`,
	// claim: ARGV now, until, limit, updated, hold (1: expired leases are
	// held back, see claimPulse). Leases the due messages and the expired
	// leases, oldest due first (ties: the older message). Answers fence,
	// id, fields per message.
	"claim": `
local now, untl, n, upd = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local due = redis.call('ZRANGE', base .. 'due', '-inf', now, 'BYSCORE', 'LIMIT', 0, n, 'WITHSCORES')
local exp = {}
if ARGV[5] ~= '1' then
  exp = redis.call('ZRANGE', base .. 'lease', '-inf', now, 'BYSCORE', 'LIMIT', 0, n, 'WITHSCORES')
end
local out = {}
local i, j = 1, 1
while #out < 3 * n and (i <= #due or j <= #exp) do
  local fromDue
  if i > #due then fromDue = false
  elseif j > #exp then fromDue = true
  else
    local ds, es = tonumber(due[i+1]), tonumber(exp[j+1])
    fromDue = ds < es or (ds == es and due[i] < exp[j])
  end
  local member
  if fromDue then member = due[i]; i = i + 2; redis.call('ZREM', base .. 'due', member)
  else member = exp[j]; j = j + 2 end
  local id = string.sub(member, 17)
  local key = base .. 'm:' .. id
  local v = redis.call('HMGET', key, 's', 'q', 'bid')
  if not v[1] then
    redis.call('ZREM', base .. 'lease', member) -- a queue entry without its message: drop it
  else
    local fence = redis.call('HINCRBY', key, 'c', 1)
    redis.call('HSET', key, 's', 'sending', 'u', upd)
    redis.call('ZADD', base .. 'lease', untl, member)
    stmove(id, v[2], v[3], v[1], 'sending')
    out[#out+1] = fence
    out[#out+1] = id
    out[#out+1] = msg(id)
  end
end
return out
`,
	// record: ARGV the app's webhook scope (SCOPE), then per outcome 12
	// fields: id, fence, status, next, retry (0/1), pm, lc, le, updated,
	// reason, attempts (JSON lines or ''), held (0/1). Each applies only while its message is sending under
	// that fence. Answers per outcome 'OK', {'LOST', status, claims} or
	// {'ERR', reason}.
	"record": `
local function one(i)
  local id = ARGV[i]
  local key = base .. 'm:' .. id
  local v = redis.call('HMGET', key, 's', 'c', 'k', 'q', 'bid', 'a')
  if not v[1] then return {'ERR', 'NOTFOUND message ' .. id} end
  if v[1] ~= 'sending' or v[2] ~= ARGV[i+1] then return {'LOST', v[1], v[2]} end
  local st, member = ARGV[i+2], v[3]
  redis.call('ZREM', base .. 'lease', member)
  if st == 'queued' or st == 'retrying' then redis.call('ZADD', base .. 'due', ARGV[i+3], member) end
  redis.call('HSET', key, 's', st, 'n', ARGV[i+3], 'u', ARGV[i+8])
  local opt = {'pm', ARGV[i+5], 'lc', ARGV[i+6], 'le', ARGV[i+7], 'rs', ARGV[i+9]}
  for x = 1, #opt, 2 do
    if opt[x+1] == '' then redis.call('HDEL', key, opt[x]) else redis.call('HSET', key, opt[x], opt[x+1]) end
  end
  if ARGV[i+4] ~= '0' then redis.call('HINCRBY', key, 'r', ARGV[i+4]) end
  if ARGV[i+10] ~= '' then redis.call('HSET', key, 'a', (v[6] or '') .. ARGV[i+10]) end
  if ARGV[i+11] == '1' then
    redis.call('HSET', key, 'h', 1)
    redis.call('SADD', base .. 'held', id)
  else
    unhold(id)
  end
  stmove(id, v[4], v[5], 'sending', st)
  if (st == 'delivered' or st == 'failed' or st == 'rejected') and hooked(id) then
    whevent(id, 'message.' .. st, st, ARGV[i+9], ARGV[i+6], ARGV[i+8])
    if ARGV[i+5] ~= '' then redis.call('SET', base .. 'pmm:' .. ARGV[i+5], id) end
  end
  return 'OK'
end
SCOPE = ARGV[1]
local res = {}
for i = 2, #ARGV, 12 do res[#res+1] = one(i) end
return res
`,
	// redrive: ARGV id, now.
	"redrive": `
local id, now = ARGV[1], ARGV[2]
local v = redis.call('HMGET', base .. 'm:' .. id, 's', 'k', 'q', 'bid')
if not v[1] then return redis.error_reply('NOTFOUND message ' .. id) end
if not redriveOne(id, v[1], v[2], v[3], v[4] or false, now) then return redis.error_reply('CONFLICT status ' .. v[1]) end
return msg(id)
`,
	// cancel: ARGV id, now, webhook scope.
	"cancel": `
local id, now = ARGV[1], ARGV[2]
SCOPE = ARGV[3]
local v = redis.call('HMGET', base .. 'm:' .. id, 's', 'k', 'q', 'bid')
if not v[1] then return redis.error_reply('NOTFOUND message ' .. id) end
if not cancelOne(id, v[1], v[2], v[3], v[4] or false, now) then return redis.error_reply('CONFLICT status ' .. v[1]) end
return msg(id)
`,
	// matching: ARGV index, op (cancel or redrive), now, want, budget,
	// cursor ('(seq' or '-inf'), statuses (comma separated), reason, code,
	// created from, created to (ms; 0: none), webhook scope. Scans index by seq from
	// cursor and applies op to the messages that match, until want did or
	// budget entries were scanned. Answers {changed, last seq scanned,
	// exhausted (0/1)}.
	"matching": `
local idx, op, now, want, budget = base .. ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local cursor, rsn, code, cfrom, cto = ARGV[6], ARGV[8], ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])
SCOPE = ARGV[12]
local allowed = {}
for st in string.gmatch(ARGV[7], '[^,]+') do allowed[st] = true end
local changed, scanned = 0, 0
while true do
  local page = redis.call('ZRANGE', idx, cursor, '+inf', 'BYSCORE', 'LIMIT', 0, 256, 'WITHSCORES')
  if #page == 0 then return {changed, cursor, 1} end
  for i = 1, #page, 2 do
    local id = page[i]
    cursor = '(' .. page[i+1]
    scanned = scanned + 1
    local v = redis.call('HMGET', base .. 'm:' .. id, 's', 'k', 'q', 'bid', 'rs', 'lc', 'b')
    local ok = v[1] and allowed[v[1]] and picks(v[5], v[6], v[7], rsn, code, '', cfrom, cto)
    if ok then
      local done
      if op == 'cancel' then done = cancelOne(id, v[1], v[2], v[3], v[4] or false, now)
      else done = redriveOne(id, v[1], v[2], v[3], v[4] or false, now) end
      if done then changed = changed + 1 end
      if changed >= want then return {changed, cursor, 0} end
    end
  end
  if #page < 512 then return {changed, cursor, 1} end
  if scanned >= budget then return {changed, cursor, 0} end
end
`,
	// pauseApp: ARGV until, reason, code, message, since. Stores the
	// app's pause unless one reaching later is stored.
	"pauseApp": `
local u = redis.call('HGET', base .. 'pz', 'until')
if u and tonumber(u) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', base .. 'pz', 'until', ARGV[1], 'reason', ARGV[2], 'code', ARGV[3], 'message', ARGV[4], 'since', ARGV[5])
return 1
`,
	// resumeApp: ARGV now. Ends the app's pause — the stored one and the
	// shared limiter's — and makes the messages it held due at now.
	// Answers how many.
	"resumeApp": `
local now = ARGV[1]
redis.call('DEL', base .. 'pz', base .. 'pause')
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', base .. 'held')) do
  local key = base .. 'm:' .. id
  local v = redis.call('HMGET', key, 's', 'k')
  if v[1] == 'queued' or v[1] == 'retrying' then
    redis.call('ZADD', base .. 'due', now, v[2])
    redis.call('HSET', key, 'n', now, 'u', now)
    n = n + 1
  end
  redis.call('HDEL', key, 'h')
end
redis.call('DEL', base .. 'held')
return n
`,
	// createList: ARGV bid, json, recipients, ikey, fp, now, then NF per
	// message. Answers {'ok', what admission made of each ruled message
	// (admitted)} or {'dup', broadcast fields}.
	"createList": `
local bid, ikey, fp, now = ARGV[1], ARGV[4], ARGV[5], ARGV[6]
if ikey ~= '' then
  local kfp, ref = getkey('broadcast', ikey)
  if ref then
    if mismatch(kfp, fp) then return redis.error_reply('MISMATCH ' .. ikey) end
    local h = redis.call('HGETALL', base .. 'b:' .. ref)
    if #h > 0 then return {'dup', h} end
  end
end
if redis.call('EXISTS', base .. 'b:' .. bid) == 1 then return redis.error_reply('CONFLICT broadcast ' .. bid .. ' exists') end
local n = (#ARGV - 6) / NF
local ids = {}
for m = 1, n do
  local id = ARGV[7 + (m - 1) * NF]
  if ids[id] or redis.call('EXISTS', base .. 'm:' .. id) == 1 then
    return redis.error_reply('CONFLICT message ' .. id .. ' exists')
  end
  ids[id] = true
end
redis.call('HSET', base .. 'b:' .. bid, 'j', ARGV[2], 'n', ARGV[3], 'f', n)
redis.call('ZADD', base .. 'blist', 0, string.format('%013d-%s', cjson.decode(ARGV[2]).created, bid))
if ikey ~= '' then setkey('broadcast', ikey, fp, bid, now) end
local adm = {}
for m = 1, n do
  local k = 7 + (m - 1) * NF
  local extra = nil
  if ARGV[k+15] ~= '' then extra = admit(ARGV, k) end
  insert(ARGV, k)
  if extra and #extra > 0 then redis.call('HSET', base .. 'm:' .. ARGV[k], unpack(extra)) end
  if extra then adm[#adm+1] = admitted(m, ARGV, k, extra) end
end
return {'ok', adm}
`,
	// createGroup: ARGV bid, json, group, ikey, fp, now, created. Answers
	// {'ok', recipients} or {'dup', broadcast fields}.
	"createGroup": `
local bid, group, ikey, fp, now = ARGV[1], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if ikey ~= '' then
  local kfp, ref = getkey('broadcast', ikey)
  if ref then
    if mismatch(kfp, fp) then return redis.error_reply('MISMATCH ' .. ikey) end
    local h = redis.call('HGETALL', base .. 'b:' .. ref)
    if #h > 0 then return {'dup', h} end
  end
end
if redis.call('EXISTS', base .. 'b:' .. bid) == 1 then return redis.error_reply('CONFLICT broadcast ' .. bid .. ' exists') end
local g = redis.call('HMGET', base .. 'g:' .. group, 'v', 'size')
if not g[1] then return redis.error_reply('NOTFOUND group ' .. group) end
if tonumber(g[2]) == 0 then return redis.error_reply('CONFLICT group ' .. group .. ' has no members') end
redis.call('HSET', base .. 'b:' .. bid, 'j', ARGV[2], 'n', g[2], 'f', 0, 'v', g[1], 'after', '')
redis.call('ZADD', base .. 'fanout', ARGV[7], bid)
redis.call('ZADD', base .. 'blist', 0, string.format('%013d-%s', tonumber(ARGV[7]), bid))
if ikey ~= '' then setkey('broadcast', ikey, fp, bid, now) end
return {'ok', tonumber(g[2])}
`,
	// fanout: ARGV bid, limit, updated, due, body prefix, body suffix,
	// then limit queue members (%016x seq + a reserved id), then — with
	// campaign rules — the position the caller read the members from and,
	// per member, its next attempt, held reason and admission (admit).
	// Creates the next messages of group broadcast bid and moves its
	// position past them. Answers {created, broadcasts still fanning out
	// in this app, what admission made of each ruled message (admitted)};
	// {-1, …} when the position moved since the caller read
	// the members (another instance's step): nothing written.
	"fanout": `
local bid, limit = ARGV[1], tonumber(ARGV[2])
local bkey = base .. 'b:' .. bid
local b = redis.call('HMGET', bkey, 'v', 'after')
if not b[2] then return {0, redis.call('ZCARD', base .. 'fanout')} end
local ruled = #ARGV > 6 + limit
if ruled and b[2] ~= ARGV[7 + limit] then return {-1, redis.call('ZCARD', base .. 'fanout')} end
local lo = '-'
if b[2] ~= '' then lo = '(' .. b[2] end
local ms = redis.call('ZRANGE', base .. 'gm:' .. b[1], lo, '+', 'BYLEX', 'LIMIT', 0, limit)
local adm = {}
local own = {}
if #ms > 0 and redis.call('EXISTS', base .. 'gd:' .. b[1]) == 1 then
  own = redis.call('HMGET', base .. 'gd:' .. b[1], unpack(ms))
end
for x, to in ipairs(ms) do
  local member = ARGV[6 + x]
  local tail = ARGV[6]
  if own[x] then tail = ',"md":' .. own[x] .. ARGV[6] end
  local rec = {string.sub(member, 17), member, 'queued', tonumber(string.sub(member, 1, 16), 16), ARGV[4], ARGV[3],
    ARGV[5] .. cjson.encode(to) .. tail, '', '', bid, 0, '', '', '', '', ''}
  local extra = nil
  if ruled then
    local k = 7 + limit + (x - 1) * 3
    rec[5], rec[15], rec[16] = ARGV[k + 1], ARGV[k + 2], ARGV[k + 3]
    if rec[16] ~= '' then extra = admit(rec, 1) end
  end
  insert(rec, 1)
  if extra and #extra > 0 then redis.call('HSET', base .. 'm:' .. rec[1], unpack(extra)) end
  if extra then adm[#adm+1] = admitted(x, rec, 1, extra) end
end
if #ms == limit then
  redis.call('HSET', bkey, 'after', ms[#ms])
else
  redis.call('HDEL', bkey, 'after')
  redis.call('ZREM', base .. 'fanout', bid)
end
redis.call('HINCRBY', bkey, 'f', #ms)
return {#ms, redis.call('ZCARD', base .. 'fanout'), adm}
`,
	// stageGroup: ARGV now. A new group version, staging.
	"stageGroup": `
local v = redis.call('INCR', base .. 'gver')
redis.call('ZADD', base .. 'gstaging', ARGV[1], v)
return v
`,
	// commitGroup: ARGV name, version, ikey, fp, app, at (RFC 3339), now,
	// report (a CSV audience's JSON, '' for none). Points the group at the
	// version. Answers {'ok', size} or {'dup', the first write's answer}.
	"commitGroup": `
local name, v, ikey, fp, now, rep = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[7], ARGV[8]
if ikey ~= '' then
  local kfp, ref = getkey('group', ikey)
  if ref then
    if mismatch(kfp, fp) then return redis.error_reply('MISMATCH ' .. ikey) end
    return {'dup', ref}
  end
end
local size = redis.call('ZCARD', base .. 'gm:' .. v)
local old = redis.call('HGET', base .. 'g:' .. name, 'v')
redis.call('HSET', base .. 'g:' .. name, 'v', v, 'size', size, 'at', now)
if rep ~= '' then
  redis.call('HSET', base .. 'g:' .. name, 'rep', rep)
else
  redis.call('HDEL', base .. 'g:' .. name, 'rep')
end
redis.call('ZADD', base .. 'gidx', 0, name)
redis.call('ZREM', base .. 'gstaging', v)
if old then redis.call('ZADD', base .. 'gretired', old, old) end
if ikey ~= '' then
  setkey('group', ikey, fp, cjson.encode({app = ARGV[5], name = name, size = size, at = ARGV[6]}), now)
end
return {'ok', size}
`,
	// retireGroup: ARGV version. A staging version that will not be used.
	"retireGroup": `
redis.call('ZREM', base .. 'gstaging', ARGV[1])
redis.call('ZADD', base .. 'gretired', ARGV[1], ARGV[1])
return 1
`,
	// deleteGroup: ARGV name, ikey, fp, ref, now. Answers 'ok' or 'dup'.
	"deleteGroup": `
local name, ikey, fp = ARGV[1], ARGV[2], ARGV[3]
if ikey ~= '' then
  local kfp, ref = getkey('group', ikey)
  if ref then
    if mismatch(kfp, fp) then return redis.error_reply('MISMATCH ' .. ikey) end
    return 'dup'
  end
end
local v = redis.call('HGET', base .. 'g:' .. name, 'v')
if not v then return redis.error_reply('NOTFOUND group ' .. name) end
redis.call('DEL', base .. 'g:' .. name)
redis.call('ZREM', base .. 'gidx', name)
redis.call('ZADD', base .. 'gretired', v, v)
if ikey ~= '' then setkey('group', ikey, fp, ARGV[4], ARGV[5]) end
return 'ok'
`,
	// sweepKeys: ARGV before (ms), limit. Deletes the oldest keys
	// recorded before before; answers how many.
	"sweepKeys": `
local ks = redis.call('ZRANGE', base .. 'ikage', '-inf', '(' .. ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[2])
for _, k in ipairs(ks) do redis.call('DEL', base .. 'ik:' .. k) end
if #ks > 0 then redis.call('ZREM', base .. 'ikage', unpack(ks)) end
return #ks
`,
	// sweepGroups: ARGV limit, stale (ms). Retires staging versions not
	// written since stale (their PUT died), then deletes up to limit
	// members of the oldest retired version no fan-out reads (and the
	// version, once empty: +1). Answers how many records it removed.
	"sweepGroups": `
local limit = tonumber(ARGV[1])
for _, v in ipairs(redis.call('ZRANGE', base .. 'gstaging', '-inf', '(' .. ARGV[2], 'BYSCORE')) do
  redis.call('ZREM', base .. 'gstaging', v)
  redis.call('ZADD', base .. 'gretired', v, v)
end
local used = {}
for _, bid in ipairs(redis.call('ZRANGE', base .. 'fanout', 0, -1)) do
  local v = redis.call('HGET', base .. 'b:' .. bid, 'v')
  if v then used[v] = true end
end
for _, v in ipairs(redis.call('ZRANGE', base .. 'gretired', 0, -1)) do
  if not used[v] then
    local key = base .. 'gm:' .. v
    local n = redis.call('ZCARD', key)
    if n > limit then
      redis.call('ZREMRANGEBYRANK', key, 0, limit - 1)
      return limit
    end
    redis.call('DEL', key, base .. 'gd:' .. v)
    redis.call('ZREM', base .. 'gretired', v)
    return n + 1
  end
end
return 0
`,
	// admit: ARGV user, per-user interval ms (0: none), emission interval
	// µs (0: no rate), burst tolerance µs, max wait µs, now ms (the
	// caller's clock: pauses are on it). The pause, then the user's
	// interval (a key that expires), then a GCRA on Redis's own clock
	// (TIME: one clock for every instance), reserving the slot when the
	// wait fits. Answers {admitted, wait µs, retry in ms, paused}.
	"admit": `
local now = tonumber(ARGV[6])
local p = redis.call('GET', base .. 'pause')
if p and tonumber(p) > now then return {0, 0, tonumber(p) - now, 1} end
local ukey = false
if ARGV[2] ~= '0' and ARGV[1] ~= '' then
  ukey = base .. 'ui:' .. ARGV[1]
  local ttl = redis.call('PTTL', ukey)
  if ttl > 0 then return {0, 0, ttl, 0} end
end
local wait = 0
local T = tonumber(ARGV[3])
if T > 0 then
  local t = redis.call('TIME')
  local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local tat = tonumber(redis.call('GET', base .. 'gcra') or '0')
  if tat < us then tat = us end
  wait = tat - tonumber(ARGV[4]) - us
  if wait < 0 then wait = 0 end
  if wait > tonumber(ARGV[5]) then return {0, 0, math.ceil(wait / 1000), 0} end
  redis.call('SET', base .. 'gcra', string.format('%.0f', tat + T), 'PX', math.ceil((tat + T - us) / 1000) + 1000)
end
if ukey then redis.call('SET', ukey, 1, 'PX', tonumber(ARGV[2]) + math.ceil(wait / 1000)) end
return {1, wait, 0, 0}
`,
	// pause: ARGV until ms (the caller's clock), ttl ms. Pauses the app
	// until then unless it is paused longer already.
	"pause": `
local p = redis.call('GET', base .. 'pause')
if not p or tonumber(p) < tonumber(ARGV[1]) then redis.call('SET', base .. 'pause', ARGV[1], 'PX', ARGV[2]) end
return 1
`,
	// putEvent: ARGV id, dedupe key, seq, json. Answers {'ok'} or {'dup',
	// the stored event's fields}.
	"putEvent": `
local id, dk, seq = ARGV[1], ARGV[2], ARGV[3]
local first = redis.call('GET', base .. 'ek:' .. dk)
if first then
  local h = redis.call('HGETALL', base .. 'e:' .. first)
  if #h > 0 then return {'dup', h} end
end
if redis.call('EXISTS', base .. 'e:' .. id) == 1 then return redis.error_reply('CONFLICT event ' .. id .. ' exists') end
redis.call('HSET', base .. 'e:' .. id, 'j', ARGV[4], 'q', seq, 'dk', dk, 'p', 0)
redis.call('SET', base .. 'ek:' .. dk, id)
redis.call('ZADD', base .. 'epending', seq, id)
return {'ok'}
`,
	// pruneMessages: ARGV status, before (ms), limit. Deletes up to limit
	// messages of that (final) status last changed before, oldest seq
	// first, reading the status index a window at a time (at most 8
	// windows: a message changed long after its creation stays until its
	// time comes, and does not make one call read the whole index), with
	// their attempts (in the message's hash), receipt, status and
	// broadcast indexes and counts. Answers the deleted ids (their global
	// mid: keys are the caller's to drop).
	"pruneMessages": `
local st, before, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local from = 0
for w = 1, 8 do
  local ids = redis.call('ZRANGE', base .. 'st:' .. st, from, from + limit - 1)
  if #ids == 0 then break end
  from = from + #ids
  for _, id in ipairs(ids) do
    local v = redis.call('HMGET', base .. 'm:' .. id, 's', 'u', 'bid', 'pm', 'wn')
    if v[1] == st and tonumber(v[2]) < before then
      for n = 1, tonumber(v[5] or '0') do
        local did = id .. '.' .. n
        local ws = redis.call('HGET', base .. 'wh:' .. did, 's')
        if ws then
          redis.call('DEL', base .. 'wh:' .. did)
          redis.call('ZREM', base .. 'whall', did)
          redis.call('ZREM', base .. 'whdue', did)
          redis.call('ZREM', base .. 'whst:' .. ws, did)
        end
      end
      if v[4] and v[5] then redis.call('DEL', base .. 'pmm:' .. v[4]) end
      redis.call('DEL', base .. 'm:' .. id)
      redis.call('ZREM', base .. 'all', id)
      redis.call('ZREM', base .. 'st:' .. st, id)
      redis.call('HINCRBY', base .. 'counts', st, -1)
      if v[3] then
        redis.call('ZREM', base .. 'bm:' .. v[3], id)
        redis.call('HINCRBY', base .. 'bc:' .. v[3], st, -1)
      end
      if v[4] then redis.call('DEL', base .. 'rc:' .. v[4]) end
      out[#out + 1] = id
      from = from - 1 -- the window moved down by the one removed
      if #out >= limit then return out end
    end
  end
end
return out
`,
	// pruneEvents: ARGV before (ms), limit. Answers the pruned ids.
	"pruneEvents": `
local ids = redis.call('ZRANGE', base .. 'eproc', '-inf', '(' .. ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[2])
for _, id in ipairs(ids) do
  local dk = redis.call('HGET', base .. 'e:' .. id, 'dk')
  if dk and redis.call('GET', base .. 'ek:' .. dk) == id then redis.call('DEL', base .. 'ek:' .. dk) end
  redis.call('DEL', base .. 'e:' .. id)
end
if #ids > 0 then redis.call('ZREM', base .. 'eproc', unpack(ids)) end
return ids
`,
	// receipt: ARGV platform msgid, status, error code, error status, at
	// (ms), webhook scope. Stores the receipt and, when it names a
	// delivered message with a webhook, its event.
	"receipt": `
local pm, at = ARGV[1], ARGV[5]
redis.call('HSET', base .. 'rc:' .. pm, 's', ARGV[2], 'ec', ARGV[3], 'es', ARGV[4], 'at', at)
SCOPE = ARGV[6]
if SCOPE == '' then return 0 end
local id = redis.call('GET', base .. 'pmm:' .. pm)
if not id then return 0 end
local v = redis.call('HMGET', base .. 'm:' .. id, 's', 'rs')
if v[1] ~= 'delivered' or not hooked(id) then return 0 end
whevent(id, 'message.receipt', 'delivered', v[2], ARGV[3], at)
return 1
`,
	// whclaim: ARGV now, until, limit. Leases the due pending deliveries
	// until until; answers their ids and fields.
	"whclaim": `
local ids = redis.call('ZRANGE', base .. 'whdue', '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, did in ipairs(ids) do
  redis.call('ZADD', base .. 'whdue', ARGV[2], did)
  redis.call('HSET', base .. 'wh:' .. did, 'n', ARGV[2], 'u', ARGV[1])
  out[#out+1] = did
  out[#out+1] = redis.call('HGETALL', base .. 'wh:' .. did)
end
return out
`,
	// whrecord: ARGV id, status, next (ms), now (ms), attempt (JSON
	// without its number: the script numbers it, "{\"n\":N," prepended).
	"whrecord": `
local key = base .. 'wh:' .. ARGV[1]
local v = redis.call('HMGET', key, 's', 'q', 'l')
if not v[1] then return redis.error_reply('NOTFOUND webhook delivery ' .. ARGV[1]) end
local n = redis.call('HINCRBY', key, 'a', 1)
redis.call('HSET', key, 's', ARGV[2], 'n', ARGV[3], 'u', ARGV[4], 'l', (v[3] or '') .. '{"n":' .. n .. ',' .. ARGV[5] .. '\n')
if ARGV[2] == 'pending' then redis.call('ZADD', base .. 'whdue', ARGV[3], ARGV[1])
else redis.call('ZREM', base .. 'whdue', ARGV[1]) end
if v[1] ~= ARGV[2] then whmove(ARGV[1], v[2], v[1], ARGV[2]) end
return n
`,
	// whredeliver: ARGV id, now. A failed delivery pending again.
	"whredeliver": `
local key = base .. 'wh:' .. ARGV[1]
local v = redis.call('HMGET', key, 's', 'q')
if not v[1] then return redis.error_reply('NOTFOUND webhook delivery ' .. ARGV[1]) end
if v[1] ~= 'failed' then return redis.error_reply('CONFLICT status ' .. v[1]) end
redis.call('HSET', key, 's', 'pending', 'n', ARGV[2], 'w', ARGV[2], 'u', ARGV[2])
redis.call('ZADD', base .. 'whdue', ARGV[2], ARGV[1])
whmove(ARGV[1], v[2], 'failed', 'pending')
return 1
`,
}

// Read-only scripts: run while Redis is out of memory, and on replicas.
var readSrc = map[string]string{
	// get: ARGV id. Answers {fields + attempts, receipt} or {}.
	"get": `
local key = base .. 'm:' .. ARGV[1]
local m = redis.call('HMGET', key, 'b', 's', 'q', 'n', 'c', 'r', 'u', 'bid', 'pm', 'lc', 'le', 'rs', 'k', 'hr', 'dof', 'a')
if not m[1] then return {} end
local rc = {}
if m[9] then rc = redis.call('HGETALL', base .. 'rc:' .. m[9]) end
return {m, rc}
`,
	// list: ARGV index, max ('(seq' or '+inf'), want, status, receipt,
	// budget, reason, recipient, created from, created to (ms; 0: none).
	// Scans the index newest first from max, keeping the messages that
	// match, until want match or budget entries were scanned. Answers
	// {last seq scanned, exhausted (0/1), entries scanned, then seq, id,
	// fields, receipt per match}.
	"list": `
local idx, cursor, want, fst, frc, budget = base .. ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], tonumber(ARGV[6])
local rsn, to, cfrom, cto = ARGV[7], ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10])
local out = {cursor, 0, 0}
local scanned, found = 0, 0
while true do
  local page = redis.call('ZRANGE', idx, cursor, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 256, 'WITHSCORES')
  if #page == 0 then out[2] = 1; return out end
  for i = 1, #page, 2 do
    local id, seq = page[i], page[i+1]
    scanned = scanned + 1
    out[1], out[3] = '(' .. seq, scanned
    local m = msg(id)
    local ok = m[1] and (fst == '' or m[2] == fst) and picks(m[12], m[10], m[1], rsn, '', to, cfrom, cto)
    local rc = {}
    if ok and m[9] then rc = redis.call('HGETALL', base .. 'rc:' .. m[9]) end
    if ok and frc ~= '' then
      ok = false
      for x = 1, #rc, 2 do if rc[x] == 's' and rc[x+1] == frc then ok = true end end
    end
    if ok then
      out[#out+1] = seq; out[#out+1] = id; out[#out+1] = m; out[#out+1] = rc
      found = found + 1
      if found >= want then return out end
    end
  end
  cursor = out[1]
  if #page < 512 then out[2] = 1; return out end -- a short page is the index's end
  if scanned >= budget then return out end
end
`,
	// broadcast: answers {broadcast fields, counts}.
	"broadcast": `
return {redis.call('HGETALL', base .. 'b:' .. ARGV[1]), redis.call('HGETALL', base .. 'bc:' .. ARGV[1])}
`,
	// group: ARGV name, after, limit. Answers {} or {head fields, members}.
	"group": `
local g = redis.call('HGETALL', base .. 'g:' .. ARGV[1])
if #g == 0 then return {} end
local v
for i = 1, #g, 2 do if g[i] == 'v' then v = g[i+1] end end
local ms = {}
local limit = tonumber(ARGV[3])
if limit > 0 then
  local lo = '-'
  if ARGV[2] ~= '' then lo = '(' .. ARGV[2] end
  ms = redis.call('ZRANGE', base .. 'gm:' .. v, lo, '+', 'BYLEX', 'LIMIT', 0, limit)
end
return {g, ms}
`,
	// groups: ARGV after, limit. Answers name, size, at per group, by name.
	"groups": `
local lo = '-'
if ARGV[1] ~= '' then lo = '(' .. ARGV[1] end
local out = {}
for _, name in ipairs(redis.call('ZRANGE', base .. 'gidx', lo, '+', 'BYLEX', 'LIMIT', 0, tonumber(ARGV[2]))) do
  local g = redis.call('HMGET', base .. 'g:' .. name, 'size', 'at')
  if g[1] then out[#out+1] = name; out[#out+1] = g[1]; out[#out+1] = g[2] end
end
return out
`,
	// pendingEvents: ARGV limit. Answers seq, fields per event, oldest first.
	"pendingEvents": `
local out = {}
local ids = redis.call('ZRANGE', base .. 'epending', 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
for i = 1, #ids, 2 do
  out[#out+1] = ids[i+1]
  out[#out+1] = redis.call('HGETALL', base .. 'e:' .. ids[i])
end
return out
`,
	// whget: ARGV ids. Answers the fields of each ({} when missing).
	"whget": `
local out = {}
for i = 1, #ARGV do out[i] = redis.call('HGETALL', base .. 'wh:' .. ARGV[i]) end
return out
`,
	// whlist: ARGV index, max score (inclusive), limit. Answers id,
	// fields per delivery, highest score first.
	"whlist": `
local ids = redis.call('ZRANGE', base .. ARGV[1], ARGV[2], '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, did in ipairs(ids) do
  out[#out+1] = did
  out[#out+1] = redis.call('HGETALL', base .. 'wh:' .. did)
end
return out
`,
	// whcounts: answers the pending and failed deliveries.
	"whcounts": `
return {redis.call('ZCARD', base .. 'whst:pending'), redis.call('ZCARD', base .. 'whst:failed')}
`,
	// msgwh: ARGV message id. Answers how many webhook events it had.
	"msgwh": `
return tonumber(redis.call('HGET', base .. 'm:' .. ARGV[1], 'wn') or '0')
`,
}

// Global scripts: one key each, no prelude.
var globalSrc = map[string]string{
	// claimPulse: KEYS claims. ARGV gap, grace (ms). Notes a claim on
	// Redis's clock (written at most every gap/4, so an idle deployment
	// does not write at every poll). When the last noted claim is more
	// than gap ago (Redis was away, or every instance was), that is an
	// interruption: answers, in ms, how much longer expired leases are
	// held back (grace after the interruption's end), 0 when they are not.
	"claimPulse": `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gap, grace = tonumber(ARGV[1]), tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'last', 'resumed')
local last, resumed = tonumber(v[1]), tonumber(v[2]) or 0
if last and (now - last > gap or now < last - gap) then
  resumed = now
  redis.call('HSET', KEYS[1], 'last', now, 'resumed', now)
elseif not last or now - last >= gap / 4 then
  redis.call('HSET', KEYS[1], 'last', now)
end
if now - resumed < grace then return grace - (now - resumed) end
return 0
`,
	// deleteToken: KEYS token. Deletes it while it still holds ARGV[1].
	"deleteToken": `
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`,
	// unlock: KEYS lock. Deletes it while ARGV[1] holds it.
	"unlock": `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`,
	// admitFetch: KEYS fetch times. ARGV now, limit (0: none), window,
	// keep. Records a fetch at now unless limit fetches fall inside the
	// window: then answers the time the oldest leaves it.
	"admitFetch": `
local now, limit, window, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - keep))
if limit > 0 then
  local inside = redis.call('ZRANGE', KEYS[1], '(' .. (now - window), '+inf', 'BYSCORE', 'WITHSCORES')
  if #inside / 2 >= limit then return {0, tonumber(inside[2]) + window} end
end
redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[5])
redis.call('PEXPIRE', KEYS[1], keep)
return {1, 0}
`,
}

// scripts holds the loaded scripts.
type scripts struct {
	app    map[string]*goredis.Script
	global map[string]*goredis.Script
}

func newScripts() *scripts {
	sc := &scripts{app: map[string]*goredis.Script{}, global: map[string]*goredis.Script{}}
	for name, body := range scriptSrc {
		sc.app[name] = goredis.NewScript("#!lua\n" + prelude + body)
	}
	for name, body := range readSrc {
		sc.app[name] = goredis.NewScript("#!lua flags=no-writes\n" + prelude + body)
	}
	for name, body := range globalSrc {
		sc.global[name] = goredis.NewScript("#!lua\n" + body)
	}
	return sc
}

// run runs app script name on app's slot (EVALSHA, EVAL when Redis does
// not have it: after a restart its script cache is empty).
func (s *Store) run(ctx context.Context, app, name string, args ...any) *goredis.Cmd {
	return s.sc.app[name].Run(ctx, s.c, []string{s.appBase(app)}, args...)
}

// write runs a write script whose success the API acknowledges: with
// wait_replicas, followed on its connection by WAIT.
func (s *Store) write(ctx context.Context, app, name string, args ...any) (any, error) {
	if s.cfg.WaitReplicas <= 0 {
		v, err := s.run(ctx, app, name, args...).Result()
		return v, s.done(err)
	}
	sc := s.sc.app[name]
	keys := []string{s.appBase(app)}
	for attempt := 0; ; attempt++ {
		pipe := s.c.Pipeline()
		var cmd *goredis.Cmd
		if attempt == 0 {
			cmd = sc.EvalSha(ctx, pipe, keys, args...)
		} else {
			cmd = sc.Eval(ctx, pipe, keys, args...)
		}
		w := s.acked(ctx, pipe)
		_, err := pipe.Exec(ctx)
		if attempt == 0 && err != nil && isNoScript(cmd.Err()) {
			continue
		}
		if err := cmd.Err(); err != nil {
			return nil, s.done(err)
		}
		if err != nil {
			return nil, s.done(err)
		}
		// The write is made; whether it is safe is the WAIT's answer.
		s.health.OK(time.Now())
		return cmd.Val(), s.ackErr(w)
	}
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// scriptErr turns a script's error reply into the storage errors.
func scriptErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var re goredis.Error
	if errors.As(err, &re) {
		if e := replyErr(op, err.Error()); e != nil {
			return e
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// replyErr maps a script's refusal ("CONFLICT …", "MISMATCH …",
// "NOTFOUND …") to the storage error; nil for another text.
func replyErr(op, msg string) error {
	for _, e := range []struct {
		prefix string
		err    error
	}{{"CONFLICT ", storage.ErrConflict}, {"MISMATCH ", storage.ErrIdempotencyMismatch}, {"NOTFOUND ", storage.ErrNotFound}} {
		if detail, ok := strings.CutPrefix(msg, e.prefix); ok {
			return fmt.Errorf("%s: %s: %w", op, detail, e.err)
		}
	}
	return nil
}
