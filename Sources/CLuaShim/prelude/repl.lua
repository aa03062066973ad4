-- The REPL's side of the prelude (`esrun repl`): compiling and running a chunk typed at the
-- prompt in the host phase, pretty printing values with sorted keys, diffing states, and the
-- names tab completion offers. Everything here runs inside the host's protected calls; the
-- REPL gets plain text back.
local P, S = ...
local json_decode, host_call = P.json_decode, P.host_call
local env, base, engine, registry, registry_order = S.env, S.base, S.engine, S.registry, S.registry_order
local ERR_MT, RO_TAG, EVENT_MT, HANDLE_MT = S.ERR_MT, S.RO_TAG, S.EVENT_MT, S.HANDLE_MT
local type, ipairs, next, tostring, error, pcall = type, ipairs, next, tostring, error, pcall
local rawget, rawset, rawequal, setmetatable = rawget, rawset, rawequal, setmetatable
local sfind, smatch, sfmt, ssub = S.sfind, S.smatch, string.format, string.sub
local tsort, tconcat, tpack = table.sort, table.concat, table.pack

local real_load, dgetmt, dgetinfo = load, debug.getmetatable, debug.getinfo
local sgsub = string.gsub
local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return then true until while")
    :gmatch("%a+") do
  KEYWORDS[w] = true
end
local WIDTH, MAX_DEPTH, MAX_ITEMS = 72, 12, 200
local recording -- commands run by the chunk being evaluated: { {aggregate, key, command, events}, ... }

local function is_name(k) return type(k) == "string" and smatch(k, "^[%a_][%w_]*$") ~= nil and not KEYWORDS[k] end

local function quote(s) return (sgsub(sfmt("%q", s), "\\\n", "\\n")) end

local RANK = { number = 1, string = 2, boolean = 3 }
local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    local ra, rb = RANK[ta] or 4, RANK[tb] or 4
    if ra ~= rb then return ra < rb end
    return ta < tb
  end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return (not a) and b end
  return sfmt("%p", a) < sfmt("%p", b)
end

-- Keys of `t` (raw, no metamethods): the array part 1..n, then the others sorted.
local function sorted_keys(t)
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  local rest = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then rest[#rest + 1] = k end
  end
  tsort(rest, key_less)
  return n, rest
end

local function key_text(k)
  if is_name(k) then return k end
  if type(k) == "string" then return "[" .. quote(k) .. "]" end
  return "[" .. tostring(k) .. "]"
end

local render
local function render_special(v, mt, indent, depth, seen)
  if mt == EVENT_MT then
    return rawget(v, "aggregate") .. "." .. rawget(v, "type") .. render(rawget(v, "data"), indent, depth, seen)
  elseif mt == ERR_MT then
    local where = rawget(v, "where")
    return "<error " .. tostring(v) .. (where and (" at " .. tostring(where)) or "") .. ">"
  end
  local ok, text = pcall(tostring, v)
  return ok and tostring(text) or "<table whose __tostring failed>"
end

function render(v, indent, depth, seen)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "function" then
    local info = dgetinfo(v, "S")
    if info.what == "C" then return "<builtin function>" end
    return "<function " .. info.short_src .. ":" .. info.linedefined .. ">"
  end
  if t ~= "table" then return tostring(v) end
  local mt = dgetmt(v)
  if mt ~= nil and mt ~= P.array_mt and rawget(mt, "__tostring") ~= nil then
    return render_special(v, mt, indent, depth, seen)
  end
  if mt ~= nil and rawget(mt, "__metatable") == RO_TAG and type(rawget(mt, "__index")) == "table" then
    v = rawget(mt, "__index") -- a read-only library view: show what it reads
  end
  if seen[v] then return "<cycle>" end
  if depth >= MAX_DEPTH then return "{...}" end
  seen[v] = true
  local n, rest = sorted_keys(v)
  local items, total = {}, 0
  local inner = indent .. "  "
  for i = 1, n do
    if #items >= MAX_ITEMS then break end
    items[#items + 1] = render(rawget(v, i), inner, depth + 1, seen)
  end
  for _, k in ipairs(rest) do
    if #items >= MAX_ITEMS then break end
    items[#items + 1] = key_text(k) .. " = " .. render(rawget(v, k), inner, depth + 1, seen)
  end
  seen[v] = nil
  local more = n + #rest - #items
  if more > 0 then items[#items + 1] = "... (" .. more .. " more)" end
  if #items == 0 then return "{}" end
  local multiline = false
  for _, s in ipairs(items) do
    total = total + #s + 2
    if sfind(s, "\n", 1, true) then multiline = true end
  end
  if not multiline and total + #indent <= WIDTH then return "{ " .. tconcat(items, ", ") .. " }" end
  return "{\n" .. inner .. tconcat(items, ",\n" .. inner) .. ",\n" .. indent .. "}"
end

local function pretty(v) return render(v, "", 0, {}) end

-- Lines describing how `b` differs from `a`: "  path: old -> new", "+ path = v", "- path = v".
local function diff(a, b, path, out)
  if type(a) == "table" and type(b) == "table" and dgetmt(a) == dgetmt(b) then
    local keys, seen = {}, {}
    for k in next, a do keys[#keys + 1] = k; seen[k] = true end
    for k in next, b do if not seen[k] then keys[#keys + 1] = k end end
    tsort(keys, key_less)
    for _, k in ipairs(keys) do
      local sub = (path == "" and is_name(k)) and k or path .. (is_name(k) and ("." .. k) or key_text(k))
      local x, y = rawget(a, k), rawget(b, k)
      if x == nil then out[#out + 1] = "+ " .. sub .. " = " .. pretty(y)
      elseif y == nil then out[#out + 1] = "- " .. sub .. " = " .. pretty(x)
      else diff(x, y, sub, out) end
    end
    return out
  end
  if a ~= b or math.type(a) ~= math.type(b) then
    out[#out + 1] = "  " .. (path == "" and "(state)" or path) .. ": " .. pretty(a) .. " -> " .. pretty(b)
  end
  return out
end

local function expose_aggregates()
  for _, name in ipairs(registry_order) do
    if rawget(env, name) == nil and rawget(base, name) == nil then rawset(env, name, registry[name].agg) end
  end
end

-- Once per REPL: aggregates become globals and commands run through handles are recorded.
function engine.repl_setup()
  expose_aggregates()
  local index = HANDLE_MT.__index
  HANDLE_MT.__index = function(h, k)
    local v = index(h, k)
    if type(v) ~= "function" then return v end
    return function(...)
      local events = v(...)
      if recording then recording[#recording + 1] = { aggregate = h.aggregate, key = h.key, command = k, events = events } end
      return events
    end
  end
end

local function describe_command(c, out)
  local handle = c.aggregate .. "(" .. quote(c.key) .. "):" .. c.command
  local events = c.events or {}
  local r = host_call("state", { aggregate = c.aggregate, key = c.key })
  if #events == 0 then
    out[#out + 1] = handle .. ": no events, still at version " .. tostring(r.version)
  else
    out[#out + 1] = handle .. ": committed " .. #events .. (#events == 1 and " event" or " events")
    for _, e in ipairs(events) do
      out[#out + 1] = "  v" .. tostring(e.version) .. " " .. tostring(e.type) .. " " .. pretty(e.data)
    end
  end
  out[#out + 1] = "  state at v" .. tostring(r.version) .. ": " .. sgsub(pretty(r.state), "\n", "\n  ")
end

-- Compiles `src` ("return <src>" first, like lua's REPL), runs it and renders what it did.
-- Returns "incomplete" when the chunk needs more lines, else "ok" and the text to print.
function engine.repl_eval(src)
  if ssub(src, 1, 1) == "=" then src = "return " .. ssub(src, 2) end
  -- As an expression, the values are packed inside the chunk: a tail call would drop the
  -- chunk's frame, and with it the stdin:line that errors of driving calls report.
  local fn = real_load("local __repl_pack = ... return __repl_pack(" .. src .. "\n)", "@stdin", "t", env)
  local expression = fn ~= nil
  if fn == nil then
    local err
    fn, err = real_load(src, "@stdin", "t", env)
    if fn == nil then
      if sfind(err, "<eof>", -5, true) then return "incomplete", "" end
      error(setmetatable({ kind = "script", code = "syntax", message = err }, ERR_MT), 0)
    end
  end
  recording = {}
  local results
  if expression then results = fn(tpack) else results = tpack(fn()) end
  local commands = recording
  recording = nil
  expose_aggregates()
  local out = {}
  for _, c in ipairs(commands) do describe_command(c, out) end
  local shown = {}
  for i = 1, results.n do
    local v = results[i]
    local skip = false
    for _, c in ipairs(commands) do if rawequal(c.events, v) then skip = true end end
    if not skip then shown[#shown + 1] = pretty(v) end
  end
  if #shown > 0 then out[#out + 1] = tconcat(shown, "\t") end
  return "ok", tconcat(out, "\n")
end

function engine.repl_render_json(text) return pretty(json_decode(text)) end

function engine.repl_diff_json(a, b)
  local lines = diff(json_decode(a), json_decode(b), "", {})
  if #lines == 0 then return "  (no change)" end
  return tconcat(lines, "\n")
end

-- Names for tab completion: globals when `path` is "", else the fields of the table at
-- the dotted `path` ("string", "json"). Raw reads only: no script code runs.
function engine.repl_names(path)
  local names, seen = {}, {}
  local function add(t)
    if type(t) ~= "table" then return end
    for k in next, t do
      if type(k) == "string" and not seen[k] and is_name(k) then seen[k] = true; names[#names + 1] = k end
    end
  end
  local function fields(t)
    add(t)
    local mt = dgetmt(t)
    if mt ~= nil and type(rawget(mt, "__index")) == "table" then add(rawget(mt, "__index")) end
  end
  if path == "" then
    add(env)
    add(base)
  else
    local v = env
    for part in (path .. "."):gmatch("([^.]*)%.") do
      if type(v) ~= "table" then v = nil break end
      local next_v = rawget(v, part)
      if next_v == nil and rawequal(v, env) then next_v = rawget(base, part) end
      if next_v == nil then
        local mt = dgetmt(v)
        local idx = mt and rawget(mt, "__index")
        if type(idx) == "table" then next_v = rawget(idx, part) end
      end
      v = next_v
    end
    if type(v) == "table" then fields(v) end
  end
  tsort(names)
  return setmetatable(names, P.array_mt)
end
