-- wrk's script for the HTTP workloads: POSTs {"by":1} to one counter, or round-robin over
-- ESRUN_KEYS counters from a per-thread offset; `done` prints one line the bench parses.
wrk.method = "POST"
wrk.body = '{"by":1}'
wrk.headers["Content-Type"] = "application/json"
local keys = tonumber(os.getenv("ESRUN_KEYS") or "1")
local threads, counter = 0, 0
function setup(thread) thread:set("offset", threads * 7919); threads = threads + 1 end
if keys > 1 then
  function request()
    counter = counter + 1
    return wrk.format(nil, "/Counter/k" .. ((counter + offset) % keys) .. "/increment")
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("ESRUN requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
