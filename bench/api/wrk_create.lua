-- wrk script for bench/api's create case: POST /posts with a JSON body, a different title (and
-- author, cycling through the 50 seeded ones) on every request. With BENCH_TOKEN set, each request
-- carries `Authorization: Bearer <token>`. Reports through bench/wrk_report.lua's done() (path in
-- WRK_REPORT_LUA), the same WRK_JSON line as every other bench.
local token = os.getenv("BENCH_TOKEN")
local n = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

request = function()
  n = n + 1
  local body = string.format(
    '{"author":%d,"title":"Bench post %d","body":"Written by wrk, request %d: a short post body of a realistic size for a mobile client."}',
    (n % 50) + 1, n, n)
  return wrk.format(nil, nil, nil, body)
end

dofile(os.getenv("WRK_REPORT_LUA"))
