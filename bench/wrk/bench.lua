-- The wrk script of bench/run.sh: sets the request from the environment and prints
-- one machine-readable result line at the end of a run.
--   BENCH_METHOD      GET or POST (default GET)
--   BENCH_BODY_BYTES  size of the request body, 0 for none (wrk adds Content-Length)
--   BENCH_CLOSE       1 to send "Connection: close" (a new connection per request)
--   BENCH_PIPELINE    requests sent in each write (default 1; 16 for TechEmpower's
--                     plaintext style); wrk counts each response
-- Output: WRK_RESULT <tab> requests <tab> duration_us <tab> p50_us <tab> p99_us
--         <tab> socket_errors (connect+read+write+timeout) <tab> status_errors

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_bytes = tonumber(os.getenv("BENCH_BODY_BYTES") or "0") or 0
if body_bytes > 0 then
  wrk.body = string.rep("x", body_bytes)
  wrk.headers["Content-Type"] = "application/octet-stream"
end
if os.getenv("BENCH_CLOSE") == "1" then
  wrk.headers["Connection"] = "close"
end

local depth = tonumber(os.getenv("BENCH_PIPELINE") or "1") or 1
if depth > 1 then
  init = function(args)
    local batch = {}
    for i = 1, depth do batch[i] = wrk.format() end
    pipelined = table.concat(batch)
  end
  request = function() return pipelined end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT\t%d\t%d\t%d\t%d\t%d\t%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
