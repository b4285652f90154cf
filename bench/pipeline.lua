-- wrk script: send 16 requests per round trip (HTTP pipelining).
local depth = 16
init = function(args)
  local r = {}
  for i = 1, depth do r[i] = wrk.format(nil, wrk.path) end
  req = table.concat(r)
end
request = function() return req end
