-- The Lua side of `esrun test` and `esrun verify`: `scenario(name, {...})` for spec files, the
-- seed's JSON scenarios, and a structural diff of JSON-like values. Scenarios are normalized
-- here into plain data (commands and event data as JSON text) that the Swift spec runner
-- decodes; nothing of the spec state runs during a scenario.
local P, S = ...
local cap, json_encode, json_decode = P.cap, P.json_encode, P.json_decode
local raise, base, engine, is_event, make_event = S.raise, S.base, S.engine, S.is_event, S.make_event
local aggregate_def = S.def
local M_HOST = S.M_HOST
local type, pairs, ipairs, next, tostring, pcall = type, pairs, ipairs, next, tostring, pcall
local rawget, rawlen, setmetatable, getmetatable = rawget, rawlen, setmetatable, getmetatable
local smatch, ssub, tsort = S.smatch, string.sub, table.sort

local spec_on, spec_list, spec_names = false, {}, {}

local function render(v)
  if v == nil then return "nothing" end
  local ok, text = pcall(json_encode, v)
  if not ok then text = tostring(v) end
  if #text > 120 then text = ssub(text, 1, 117) .. "..." end
  return text
end

-- A JSON array: keys 1..n, or an empty table carrying the array marker.
local function is_array(t)
  if getmetatable(t) == "json array" then return true end
  local n = rawlen(t)
  if n == 0 then return false end
  for k in next, t do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local function join(path, k)
  if type(k) == "string" and smatch(k, "^[%a_][%w_]*$") then return path .. "." .. k end
  return path .. "[" .. render(k) .. "]"
end

local MAX_LINES = 40
-- Appends "path: la <a>, lb <b>" lines for every difference between a and b.
-- partial: only the keys present in `a` (at every object level) are compared.
local function diff(a, b, path, partial, la, lb, out)
  if #out >= MAX_LINES then return end
  local ta, tb = type(a), type(b)
  if ta == "table" and tb == "table" then
    local ea, eb = next(a) == nil, next(b) == nil
    if ea and eb then return end
    local aa, ab = is_array(a), is_array(b)
    if (aa or ea) and (ab or eb) then
      local na, nb = rawlen(a), rawlen(b)
      if na ~= nb then out[#out + 1] = path .. ": " .. la .. " " .. na .. " items, " .. lb .. " " .. nb .. " items" end
      for i = 1, math.max(na, nb) do diff(rawget(a, i), rawget(b, i), path .. "[" .. i .. "]", partial, la, lb, out) end
      return
    end
    if not aa and not ab then
      local keys, seen = {}, {}
      for k in next, a do keys[#keys + 1] = k; seen[k] = true end
      if not partial then
        for k in next, b do if not seen[k] then keys[#keys + 1] = k end end
      end
      tsort(keys, function(x, y) return tostring(x) < tostring(y) end)
      for _, k in ipairs(keys) do diff(rawget(a, k), rawget(b, k), join(path, k), partial, la, lb, out) end
      return
    end
  elseif a == b and math.type(a) == math.type(b) then
    return
  end
  local ra, rb = render(a), render(b)
  if ra == rb and math.type(a) ~= math.type(b) then
    ra, rb = ra .. " (" .. tostring(math.type(a)) .. ")", rb .. " (" .. tostring(math.type(b)) .. ")"
  end
  out[#out + 1] = path .. ": " .. la .. " " .. ra .. ", " .. lb .. " " .. rb
end

local function finish(out)
  if #out >= MAX_LINES then out[#out + 1] = "... (more differences not shown)" end
  return setmetatable(out, P.array_mt)
end

-- diff(a, b, root, partial, la, lb) -> lines; a and b arrive decoded from JSON.
function engine.diff(a, b, root, partial, la, lb)
  local out = {}
  diff(a, b, root, partial ~= 0, la, lb, out)
  return finish(out)
end

-- Expected events ({type, data?}) against committed ones ({type, data}).
function engine.diff_events(expected, actual)
  local out = {}
  for i = 1, math.max(#expected, #actual) do
    local e, a = expected[i], actual[i]
    if e == nil then
      out[#out + 1] = "unexpected event " .. i .. ": " .. a.type .. " " .. render(a.data)
    elseif a == nil then
      out[#out + 1] = "missing event " .. i .. ": " .. e.type .. (e.data ~= nil and " " .. render(e.data) or "")
    elseif e.type ~= a.type then
      out[#out + 1] = "event " .. i .. ": expected " .. e.type .. ", got " .. a.type .. " " .. render(a.data)
    elseif e.data ~= nil then
      diff(e.data, a.data, "event " .. i .. " " .. e.type, false, "expected", "got", out)
    end
  end
  return finish(out)
end

local function bad(name, message)
  raise("invalid", "bad_scenario", "scenario '" .. tostring(name) .. "': " .. message, 3)
end

local function encode(name, what, v)
  local ok, text = pcall(json_encode, v)
  if not ok then bad(name, what .. " cannot be encoded as JSON: " .. tostring(text)) end
  return text
end

local function agg_of(name, agg)
  if agg == nil or type(agg) == "string" then return agg end
  local ok, d = pcall(rawget, agg, "__def")
  if ok and type(d) == "table" then return d.name end
  bad(name, "aggregate must be an aggregate or its name")
end

-- "increment" | { "increment", { by = 2 }, fault = "code", meta = {...} } | { command =, args =, ... }
local function command_step(name, item)
  if type(item) == "string" then return { command = item, args = "{}" } end
  if type(item) ~= "table" then bad(name, "a command is a name or { \"command\", { args } }, not a " .. type(item)) end
  local command, args = rawget(item, 1) or item.command, rawget(item, 2) or item.args or {}
  if type(command) ~= "string" then bad(name, "a command needs a name: { \"increment\", { by = 1 } }") end
  if type(args) ~= "table" then bad(name, "arguments of " .. command .. " must be a table") end
  if item.fault ~= nil and type(item.fault) ~= "string" then bad(name, "fault must be a fault code") end
  return { command = command, args = encode(name, "arguments of " .. command, args),
    meta = item.meta ~= nil and encode(name, "meta", item.meta) or nil, fault = item.fault }
end

local function given_step(name, agg, item)
  if is_event[item] then
    if agg ~= nil and item.aggregate ~= agg then
      bad(name, "given event " .. item.aggregate .. "." .. item.type .. " is not an event of " .. agg)
    end
    return { event = item.type, data = encode(name, "event data", item.data) }
  end
  return command_step(name, item)
end

local function expected_events(name, list)
  if type(list) ~= "table" then bad(name, "expect_events must be a list of events") end
  local out = {}
  for i, e in ipairs(list) do
    if is_event[e] then out[i] = { type = e.type, data = e.data }
    elseif type(e) == "string" then out[i] = { type = e }
    elseif type(e) == "table" and type(e.type) == "string" then out[i] = { type = e.type, data = e.data }
    else bad(name, "expect_events[" .. i .. "] must be an event, an event type name or { type =, data = }") end
  end
  return encode(name, "expect_events", setmetatable(out, P.array_mt))
end

local FIELDS = { aggregate = true, key = true, inherit = true, given = true, given_commands = true, when = true,
  expect_events = true, expect_fault = true, expect_state = true, partial = true }

function base.scenario(name, def)
  cap("scenario", M_HOST)
  if not spec_on then raise("invalid", "not_a_spec", "scenario() is available in spec files run by esrun test", 2) end
  if type(name) ~= "string" or name == "" then raise("invalid", "bad_scenario", "scenario(name, {...}) needs a name", 2) end
  if spec_names[name] then bad(name, "defined twice") end
  if type(def) ~= "table" then bad(name, "needs a table: scenario(name, { aggregate = ..., when = ... })") end
  for k in pairs(def) do
    if not FIELDS[k] then
      bad(name, "unknown field '" .. tostring(k) .. "' (aggregate, key, inherit, given, given_commands, when, "
        .. "expect_events, expect_fault, expect_state, partial)")
    end
  end
  local agg = agg_of(name, def.aggregate)
  if def.inherit ~= nil and type(def.inherit) ~= "string" then bad(name, "inherit names another scenario") end
  if def.expect_fault ~= nil and type(def.expect_fault) ~= "string" then bad(name, "expect_fault is a fault code") end
  local given = setmetatable({}, P.array_mt)
  for _, item in ipairs(def.given or {}) do given[#given + 1] = given_step(name, agg, item) end
  for _, item in ipairs(def.given_commands or {}) do given[#given + 1] = command_step(name, item) end
  local s = { name = name, aggregate = agg, inherit = def.inherit, location = P.where(2), given = given,
    key = def.key ~= nil and tostring(def.key) or nil, partial = def.partial == true,
    when = def.when ~= nil and command_step(name, def.when) or nil, expect_fault = def.expect_fault,
    expect_events = def.expect_events ~= nil and expected_events(name, def.expect_events) or nil,
    expect_state = def.expect_state ~= nil and encode(name, "expect_state", def.expect_state) or nil }
  spec_names[name] = true
  spec_list[#spec_list + 1] = s
end

-- Starts reading a spec file: scenario() works until spec_scenarios(); `module` (the domain) is
-- required first, so the spec's own require of it returns the same aggregates.
function engine.spec_begin(module)
  spec_on, spec_list, spec_names = true, {}, {}
  if module ~= "" then base.require(module) end
end

function engine.spec_scenarios()
  spec_on = false
  return setmetatable(spec_list, P.array_mt)
end

-- The seed's JSON shape: { "name": { "aggregate", "inherit"?, "commands": [{type, data, error?}], "expect"? } }.
function engine.spec_from_json(text, display)
  local ok, doc = pcall(json_decode, text)
  if not ok then raise("invalid", "bad_spec", display .. ": " .. tostring(doc), 1) end
  if type(doc) ~= "table" or is_array(doc) then
    raise("invalid", "bad_spec", display .. ": a JSON spec is an object mapping scenario names to scenarios", 1)
  end
  local names = {}
  for name in next, doc do names[#names + 1] = name end
  tsort(names)
  local out = setmetatable({}, P.array_mt)
  for _, name in ipairs(names) do
    local s = doc[name]
    if type(s) ~= "table" or is_array(s) then bad(name, "must be an object") end
    local given = setmetatable({}, P.array_mt)
    for i, e in ipairs(s.given or {}) do
      if type(e) ~= "table" or type(e.type) ~= "string" then bad(name, "given[" .. i .. "] needs a type") end
      given[#given + 1] = { event = e.type, data = encode(name, "event data", e.data or {}) }
    end
    for i, c in ipairs(s.commands or {}) do
      if type(c) ~= "table" or type(c.type) ~= "string" then bad(name, "commands[" .. i .. "] needs a type") end
      if c.error ~= nil and type(c.error) ~= "string" then bad(name, "commands[" .. i .. "].error is a fault code") end
      given[#given + 1] = { command = c.type, args = encode(name, "command data", c.data or {}), fault = c.error }
    end
    out[#out + 1] = { name = name, aggregate = s.aggregate, inherit = s.inherit,
      key = s.key ~= nil and tostring(s.key) or nil, location = display,
      given = given, partial = true, expect_state = s.expect ~= nil and encode(name, "expect", s.expect) or nil }
  end
  return out
end

-- Checks a given event against the registry (declared type, field types); returns its schema version.
function engine.spec_check_event(agg, type_name, data)
  local d = aggregate_def(agg)
  local ev = d.events[type_name]
  if ev == nil then
    raise("invalid", "undeclared_event", agg .. " has no event type '" .. tostring(type_name) .. "'", 1)
  end
  return make_event(d, ev, data).schema
end
