package redis

import goredis "github.com/redis/go-redis/v9"

// turnTTL is how long (ms) a committer that keeps losing the race for the
// log's head may hold the turn: long enough for one more script call, short
// enough that a crashed instance holds nobody up for long.
const turnTTL = 250

// appendScript appends one batch of entries, already linked in Go, to a
// contest's log, or appends nothing (DESIGN §3: the log is the truth).
//
// KEYS: record, meta, log, seen, voids, counters, turn (one {contest}
// hash tag).
// ARGV: expected seq, expected head, new head, channel, contest, token (the
// calling committer's), claim ("1": take the turn if this call is stale),
// turn TTL in ms, n, then per item: kind ("b" ballot | "v" void), ballot
// id, entry JSON, stored JSON (the seen or voids value), number of counter
// keys, the keys.
//
// Replies:
//   - error "NOTFOUND …": no such contest; "NOTOPEN <state>": not counting;
//     "BROKEN …": the log's length is not its meta's seq, so the two were not
//     written together — which the script never does, but Redis 7.0's AOF
//     loader can (see the guard below): nothing more is appended to it;
//   - {"STALE", seq, head}: the log moved on since the caller linked its
//     entries (another instance appended): nothing written but, when the
//     caller asked to claim it and nobody holds it, the turn;
//   - {"WAIT", seq, head}: another committer holds the turn: nothing
//     written;
//   - {"DUP", i, what, stored, …}: item i (1-based) is a ballot already in
//     the log (what "seen", stored its seen value), a ballot already voided
//     (what "voided", stored the void's receipt) or a void of a ballot not
//     in the log (what "nf"): nothing written;
//   - {"OK", seq}: every item written, counters moved, meta advanced, the
//     caller's turn given back, and "<contest> <seq>" published.
//
// The turn keeps the compare-and-set fair between instances. Without it a
// committer that is always busy wins every race: it sends its next batch
// the moment its reply arrives, as the loser sends its retry, and Redis
// serves the two in the same order each time. A loser that claims the turn
// is the only one that may append until its next call (or turnTTL).
//
// The length guard: Redis ≤ 7.x, loading an AOF whose last script was torn
// by a crash in the middle of a command (aof-load-truncated yes), cuts the
// file inside the script's MULTI block and keeps it open; the next script
// written after the restart then closes it, and the restart after that
// applies both — the torn batch's entries without its meta (found by the
// crash campaign; valkey fixed the loader in PR #4342). The service asks for
// aof-load-truncated no (docs/reliability.md); should a log still come back
// longer than its meta, appending to it would fork its chain, so the script
// refuses and the round stays as it is for the committee to see.
//
// The checks all come before the first write, so a refused batch leaves no
// trace. The shebang (Redis 7) makes Redis treat the script as a writer and
// refuse it up front (OOM, MISCONF, READONLY) rather than fail half-way.
var appendScript = goredis.NewScript(`#!lua
local rec = redis.call('GET', KEYS[1])
if not rec then
  return redis.error_reply('NOTFOUND no such contest')
end
local state = cjson.decode(rec)['state']
if state ~= 'open' then
  return redis.error_reply('NOTOPEN ' .. tostring(state))
end
local meta = redis.call('HMGET', KEYS[2], 'seq', 'head')
local seq = tonumber(meta[1]) or 0
local head = meta[2] or string.rep('0', 64)
local llen = redis.call('LLEN', KEYS[3])
if llen ~= seq then
  return redis.error_reply('BROKEN the log holds ' .. llen .. ' entries but its meta says seq ' .. seq)
end
local turn = redis.call('GET', KEYS[7])
if turn and turn ~= ARGV[6] then
  return {'WAIT', tostring(seq), head}
end
if tostring(seq) ~= ARGV[1] or head ~= ARGV[2] then
  if ARGV[7] == '1' and not turn then
    redis.call('SET', KEYS[7], ARGV[6], 'PX', ARGV[8])
  end
  return {'STALE', tostring(seq), head}
end
local n = tonumber(ARGV[9])
local items = {}
local inbatch = {}
local dups = {'DUP'}
local p = 10
for i = 1, n do
  local kind, id, entry, stored = ARGV[p], ARGV[p + 1], ARGV[p + 2], ARGV[p + 3]
  local nk = tonumber(ARGV[p + 4])
  local ks = {}
  for j = 1, nk do
    ks[j] = ARGV[p + 4 + j]
  end
  p = p + 5 + nk
  items[i] = {kind, id, entry, stored, ks}
  if kind == 'b' then
    local s = redis.call('HGET', KEYS[4], id)
    if s then
      dups[#dups + 1] = tostring(i); dups[#dups + 1] = 'seen'; dups[#dups + 1] = s
    end
    inbatch[id] = true
  else
    local v = redis.call('HGET', KEYS[5], id)
    if v then
      dups[#dups + 1] = tostring(i); dups[#dups + 1] = 'voided'; dups[#dups + 1] = v
    elseif not inbatch[id] and redis.call('HEXISTS', KEYS[4], id) == 0 then
      dups[#dups + 1] = tostring(i); dups[#dups + 1] = 'nf'; dups[#dups + 1] = ''
    end
  end
end
if #dups > 1 then
  return dups
end
if turn then
  redis.call('DEL', KEYS[7])
end
if n == 0 then
  return {'OK', tostring(seq)}
end
local deltas = {}
for i = 1, n do
  local it = items[i]
  redis.call('RPUSH', KEYS[3], it[3])
  local d = 1
  if it[1] == 'b' then
    redis.call('HSET', KEYS[4], it[2], it[4])
  else
    redis.call('HSET', KEYS[5], it[2], it[4])
    d = -1
  end
  for _, k in ipairs(it[5]) do
    deltas[k] = (deltas[k] or 0) + d
  end
end
for k, d in pairs(deltas) do
  if d ~= 0 then
    if redis.call('HINCRBY', KEYS[6], k, d) == 0 then
      redis.call('HDEL', KEYS[6], k)
    end
  end
end
local newseq = tostring(seq + n)
redis.call('HSET', KEYS[2], 'seq', newseq, 'head', ARGV[3], 'version', newseq)
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. newseq)
return {'OK', newseq}
`)

// countersScript reads a contest's counters and the log version they stand
// at, atomically. It is a read-only script (flags=no-writes) rather than
// MULTI/EXEC because Redis refuses every command queued in a MULTI once
// maxmemory is reached (OOM): results must stay readable while Redis
// refuses writes.
//
// KEYS: record, meta, counters. Reply: {exists (0|1), seq ("" when none),
// then the counters' fields and values}.
var countersScript = goredis.NewScript(`#!lua flags=no-writes
local out = {redis.call('EXISTS', KEYS[1]), redis.call('HGET', KEYS[2], 'seq') or ''}
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all do
  out[#out + 1] = all[i]
end
return out
`)
