-- `esrun check`'s warnings about replay code that can carry state between replays:
-- `engine.describe` gains, per aggregate, the warnings of `P.replay_warnings` (captures.c)
-- for `initial`, every replay function and every upcaster.
local P, S = ...
local env, base, engine, registry = S.env, S.base, S.engine, S.registry
local type, pairs, ipairs, setmetatable, tsort = type, pairs, ipairs, setmetatable, table.sort

local describe = engine.describe

local function replay_warnings(d)
  local allowed = { [env] = true, [base] = true }
  local out = {}
  local function add(fn, label)
    if type(fn) == "function" then
      for _, w in ipairs(P.replay_warnings(fn, label, allowed)) do out[#out + 1] = w end
    end
  end
  add(d.initial, "initial of " .. d.name)
  local names = {}
  for en in pairs(d.replay) do names[#names + 1] = en end
  tsort(names)
  for _, en in ipairs(names) do add(d.replay[en], "replay of " .. d.name .. "." .. en) end
  for _, en in ipairs(d.event_order) do
    local upcast, from = d.events[en].upcast, {}
    for v in pairs(upcast) do from[#from + 1] = v end
    tsort(from)
    for _, v in ipairs(from) do add(upcast[v], "upcaster of " .. d.name .. "." .. en .. " from version " .. v) end
  end
  return setmetatable(out, P.array_mt)
end

function engine.describe()
  local out = describe()
  for _, a in ipairs(out) do a.warnings = replay_warnings(registry[a.name]) end
  return out
end
