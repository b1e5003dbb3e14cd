-- wrk script: cycles through the requests listed in a file (one per line: METHOD<TAB>PATH<TAB>ACCEPT)
-- and prints the summary as one JSON line. Usage: wrk ... -s mix.lua URL -- requests.tsv
local requests = {}
local counter = 0
local thread_offset = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local method, path, accept = line:match("^(%S+)\t(%S+)\t(.*)$")
    if method then
      table.insert(requests, wrk.format(method, path, { ["Accept"] = accept }))
    end
  end
  file:close()
  thread_offset = math.random(0, #requests - 1)
end

function request()
  counter = counter + 1
  return requests[((counter + thread_offset) % #requests) + 1]
end

function done(summary, latency, _)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors_status": %d, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_timeout": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.timeout, latency:percentile(50), latency:percentile(99), latency.mean))
end
