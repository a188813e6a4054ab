-- bench/soak.py's pre-warm (SOAK_PREWARM): the locustfile's reads (latest, as-of, v1 by key, v2 page, history,
-- diff) over its curves and days, as fast as the server answers, so every web process's caches reach the
-- level the soak's own rate would reach only after hours. Its data file (SOAK_PREWARM_DATA) defines keys,
-- asofs, isos and tenor. Its paths and weights copy bench/soak_locustfile.py's CurveReads (as
-- bench/read_memory.py does): change the three together.
dofile(os.getenv("SOAK_PREWARM_DATA"))
math.randomseed(os.time())
local function pick(t) return t[math.random(#t)] end
request = function()
  local r = math.random(15)
  local path
  if r <= 5 then path = "/api/v2/curves/" .. pick(keys)
  elseif r <= 8 then path = "/api/v2/curves/" .. pick(keys) .. "?asof=" .. pick(asofs)
  elseif r <= 11 then path = "/api/v1/curves?curve_key=" .. pick(keys) .. "&limit=200"
  elseif r <= 13 then path = "/api/v2/curves?iso=" .. pick(isos) .. "&limit=200"
  elseif r <= 14 then path = "/api/v2/curves/" .. pick(keys) .. "/history?tenor_label=" .. tenor
  else
    local a, b = pick(asofs), pick(asofs)
    while b == a do b = pick(asofs) end  -- two different days, as the locustfile's random.sample (a diff of
    if a > b then a, b = b, a end        -- one day with itself is a 400)
    path = "/api/v2/curves/diff?curve_key=" .. pick(keys) .. "&asof_a=" .. a .. "&asof_b=" .. b
  end
  return wrk.format(nil, path)
end
