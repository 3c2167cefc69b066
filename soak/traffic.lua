-- Mixed traffic for the soak (soak/soak.mjs): each request is a line of SOAK_POOL, chosen at
-- random, and carries what it deserves. One connection per wrk thread, so a thread's responses
-- come back in the order of its requests and each is checked against the request that caused it.
--
-- SOAK_POOL lines, tab-separated:
--   class  method  path  status  code  needs_keys  authorization  x-bot-id  x-junk
-- `code` is the `code` the refusal body must carry ("-": none); `needs_keys` 1 means a 503
-- ERR_JWKS_UNAVAILABLE is also right while SOAK_ALLOW_503 is 1 (no good keys were ever loaded);
-- "-" for a header means none. Header values are bytes (the pool holds some that are not UTF-8). SOAK_DELAY_MS paces each connection (bounded load).
-- done() prints one line: SOAK_RESULT followed by flat JSON.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  pool = {}
  for line in io.lines(os.getenv("SOAK_POOL")) do
    local f = split(line)
    local headers = {}
    if f[7] ~= "-" then headers["authorization"] = f[7] end
    if f[8] ~= "-" then headers["x-bot-id"] = f[8] end
    if f[9] and f[9] ~= "-" then headers["x-junk"] = f[9] end
    table.insert(pool, {
      class = f[1], status = tonumber(f[4]), code = f[5], needs_keys = f[6] == "1",
      request = wrk.format(f[2], f[3], headers),
    })
  end
  allow_503 = os.getenv("SOAK_ALLOW_503") == "1"
  pause = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
  -- Flat tables only: wrk copies them across threads (nested ones are not supported).
  counts = {}   -- "class|status" -> n
  wrong = {}    -- "class|status|code seen" -> n
  current = nil
end

function request()
  current = pool[math.random(#pool)]
  return current.request
end

function delay()
  return pause
end

local function bump(t, key)
  t[key] = (t[key] or 0) + 1
end

function response(status, headers, body)
  local entry = current
  if entry == nil then return end
  bump(counts, entry.class .. "|" .. status)
  local seen = body and body:match('"code":"([A-Z_0-9]+)"') or "-"
  local right = status == entry.status and (entry.code == "-" or seen == entry.code)
  if not right and allow_503 and entry.needs_keys and status == 503 then
    right = seen == "ERR_JWKS_UNAVAILABLE"
  end
  if not right then
    bump(wrong, entry.class .. "|" .. status .. "|" .. seen)
  end
  current = nil
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

local function json_object(t)
  local parts = {}
  for k, v in pairs(t) do
    table.insert(parts, json_string(tostring(k)) .. ":" .. tostring(v))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local all_counts, all_wrong = {}, {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("counts") or {}) do all_counts[k] = (all_counts[k] or 0) + v end
    for k, v in pairs(thread:get("wrong") or {}) do all_wrong[k] = (all_wrong[k] or 0) + v end
  end
  local errors = summary.errors
  io.write("SOAK_RESULT {",
    '"requests":', summary.requests, ",",
    '"duration_us":', summary.duration, ",",
    '"socket_errors":', errors.connect + errors.read + errors.write + errors.timeout, ",",
    '"timeouts":', errors.timeout, ",",
    '"p50_us":', latency:percentile(50), ",",
    '"p99_us":', latency:percentile(99), ",",
    '"p999_us":', latency:percentile(99.9), ",",
    '"max_us":', latency.max, ",",
    '"counts":', json_object(all_counts), ",",
    '"wrong":', json_object(all_wrong), "}\n")
end
