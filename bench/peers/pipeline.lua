-- wrk script for pipelined plaintext, as TechEmpower runs it: each connection sends DEPTH
-- requests back to back (`wrk ... -s pipeline.lua URL -- 16`) before reading the answers.
-- done() is bench/wrk_report.lua's (one WRK_JSON line), loaded from beside this file's parent.
init = function(args)
  local depth = tonumber(args[1]) or 1
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format()
  end
  req = table.concat(r)
end

request = function()
  return req
end

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
dofile(here .. "/../wrk_report.lua")
