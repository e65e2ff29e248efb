-- wrk script of bench/pages.py: counts responses whose status is not 200 (a redirect to the sign-in page
-- would otherwise pass for a fast signed-in page) and prints the count at the end as "not_200 N".
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_200 = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_200 = not_200 + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_200")
  end
  io.write(string.format("not_200 %d\n", total))
end
