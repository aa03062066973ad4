-- The domain API: `aggregate`, `:event`, wiring, event constructors with field checks,
-- `fault`, `require`, read-only state.
local P, S = ...
local cap = P.cap
local raise, base, ERR_MT, RO_TAG, ordered_iter = S.raise, S.base, S.ERR_MT, S.RO_TAG, S.ordered_iter
local M_LOAD, M_HOST, M_HANDLE = S.M_LOAD, S.M_HOST, S.M_HANDLE
local smatch, sfmt, ssub, tunpack = S.smatch, string.format, string.sub, table.unpack
local type, pairs, ipairs, next, tostring, error, pcall = type, pairs, ipairs, next, tostring, error, pcall
local rawget, rawset, rawlen, setmetatable, getmetatable = rawget, rawset, rawlen, setmetatable, getmetatable

local registry, registry_order = {}, {}
-- Counts changes to the registry's aggregates and event types (projections re-match on it).
S.registry_revision = 0
local is_event = setmetatable({}, { __mode = "k" })
local EVENT_MT = { __metatable = "event" }
EVENT_MT.__tostring = function(e) return "event " .. e.type end

local FIELD_TYPES = { integer = true, number = true, string = true, boolean = true, table = true,
  array = true, object = true, any = true }

local function field_ok(kind, v)
  local t = type(v)
  if kind == "any" then return true
  elseif kind == "integer" then return math.type(v) == "integer"
  elseif kind == "number" then return t == "number"
  elseif kind == "array" then return t == "table" and (rawlen(v) > 0 or next(v) == nil)
  elseif kind == "object" then return t == "table"
  else return t == kind end
end

-- Deep copy that reads through read-only views and refuses cycles.
local ro_target = setmetatable({}, { __mode = "k" })
-- `path` holds the tables being copied above this one (a cycle check); it is made only when
-- a nested table is met, so a flat table (most event data) costs one new table.
local function copy(v, depth, path)
  if type(v) ~= "table" then return v end
  depth = depth or 0
  if depth > 100 then raise("invalid", "too_deep", "event data nests deeper than 100 levels", 4) end
  local src = ro_target[v] or v
  if path and path[src] then raise("invalid", "cyclic", "event data holds a cyclic table", 4) end
  local out = {}
  for k, x in next, src do
    if type(x) == "table" then
      path = path or {}
      path[src] = true
      out[k] = copy(x, depth + 1, path)
      path[src] = nil
    else
      out[k] = x
    end
  end
  if getmetatable(src) == "json array" then setmetatable(out, P.array_mt) end
  return out
end

-- Read-only views of state for handlers (nested tables are wrapped as they are read).
local RO_MT
local ro_cache = setmetatable({}, { __mode = "k" })
local function readonly(t)
  local view = ro_cache[t]
  if view == nil then
    view = setmetatable({}, RO_MT)
    ro_target[view] = t
    ro_cache[t] = view
  end
  return view
end
RO_MT = {
  __index = function(view, k)
    local v = ro_target[view][k]
    if type(v) == "table" then return readonly(v) end
    return v
  end,
  __newindex = function(_, k)
    raise("invalid", "state_read_only",
      "state is read-only in command handlers (writing field '" .. tostring(k) .. "'): change state in replay functions", 2)
  end,
  __len = function(view) return #ro_target[view] end,
  __pairs = function(view)
    return ordered_iter(ro_target[view], function(v)
      if type(v) == "table" then return readonly(v) end
      return v
    end), view, nil
  end,
  __metatable = RO_TAG,
}

local function check_name(what, name, pattern, hint)
  if type(name) ~= "string" or not smatch(name, pattern) then
    raise("invalid", "bad_name", what .. " name " .. sfmt("%q", tostring(name)) .. " " .. hint, 3)
  end
end

local Aggregate = {}
local AGG_MT = {}

local function def_of(agg)
  local d = rawget(agg, "__def")
  if d == nil then raise("invalid", "not_aggregate", "expected an aggregate (use Agg:method with a colon)", 3) end
  return d
end

function Aggregate.event(agg, name, fields, opts)
  cap("declaring events", M_LOAD | M_HOST)
  local d = def_of(agg)
  check_name("event type", name, "^[A-Z][A-Za-z0-9_]*$", "must start with an uppercase letter and hold letters, digits or _")
  if d.events[name] then raise("invalid", "duplicate_event", d.name .. " already declares event type " .. name, 2) end
  if fields ~= nil and type(fields) ~= "table" then
    raise("invalid", "bad_fields", "fields of " .. name .. " must be a table", 2)
  end
  local spec = {}
  for k, v in pairs(fields or {}) do
    local kind, optional = v, false
    if type(v) == "string" and ssub(v, -1) == "?" then kind, optional = ssub(v, 1, -2), true end
    if type(k) ~= "string" or not FIELD_TYPES[kind] then
      raise("invalid", "bad_field_type", d.name .. "." .. name .. " field " .. tostring(k) .. " has type " .. tostring(v)
        .. "; use integer, number, string, boolean, table, array, object or any (with ? when optional)", 2)
    end
    spec[k] = { kind = kind, optional = optional }
  end
  opts = opts or {}
  local version = opts.version or 1
  if math.type(version) ~= "integer" or version < 1 then
    raise("invalid", "bad_version", name .. " version must be an integer >= 1", 2)
  end
  local upcast = {}
  for from, fn in pairs(opts.upcast or {}) do
    if math.type(from) ~= "integer" or from < 1 or from >= version or type(fn) ~= "function" then
      raise("invalid", "bad_upcast", name .. ".upcast must map versions 1.." .. (version - 1) .. " to functions", 2)
    end
    upcast[from] = fn
  end
  local renamed = opts.renamed_from or {}
  if type(renamed) == "string" then renamed = { renamed } end
  if type(renamed) ~= "table" then raise("invalid", "bad_rename", name .. ".renamed_from must list former type names", 2) end
  for _, old in ipairs(renamed) do
    check_name("former event type", old, "^[A-Z][A-Za-z0-9_]*$",
      "must start with an uppercase letter and hold letters, digits or _")
    if old == name or d.events[old] or d.renamed[old] then
      raise("invalid", "duplicate_event", d.name .. " already has an event type or former name " .. old, 2)
    end
  end
  for k in pairs(opts) do
    if k ~= "version" and k ~= "upcast" and k ~= "renamed_from" then
      raise("invalid", "bad_option", "unknown event option '" .. tostring(k) .. "' (version, upcast, renamed_from)", 2)
    end
  end
  if d.renamed[name] then
    raise("invalid", "duplicate_event", d.name .. " lists " .. name .. " as a former name of " .. d.renamed[name], 2)
  end
  for _, old in ipairs(renamed) do d.renamed[old] = name end
  d.events[name] = { name = name, fields = fields ~= nil and spec or nil, version = version, upcast = upcast,
    renamed_from = { tunpack(renamed) } }
  d.event_order[#d.event_order + 1] = name
  d.sealed = nil
  S.registry_revision = S.registry_revision + 1
  return agg
end

function Aggregate.on(agg, name, fn)
  cap("wiring replay functions", M_LOAD | M_HOST)
  local d = def_of(agg)
  if type(fn) ~= "function" then raise("invalid", "bad_replay", "replay for " .. tostring(name) .. " must be a function", 2) end
  d.replay[name] = fn
  d.sealed = nil
  return agg
end

function Aggregate.command(agg, name, fn)
  cap("wiring command handlers", M_LOAD | M_HOST)
  local d = def_of(agg)
  check_name("command", name, "^[A-Za-z_][A-Za-z0-9_]*$", "must be an identifier")
  if type(fn) ~= "function" then raise("invalid", "bad_handler", "handler for " .. name .. " must be a function", 2) end
  d.handle[name] = fn
  d.sealed = nil
  return agg
end

local function make_event(d, ev, data)
  if data == nil then data = {} end
  if type(data) ~= "table" then
    raise("invalid", "bad_event", d.name .. "." .. ev.name .. " takes a table of fields, not a " .. type(data), 3)
  end
  data = copy(data)
  if ev.fields then
    for k, f in pairs(ev.fields) do
      local v = data[k]
      if v == nil then
        if not f.optional then
          raise("invalid", "missing_field", d.name .. "." .. ev.name .. " needs field '" .. k .. "' (" .. f.kind .. ")", 3)
        end
      elseif not field_ok(f.kind, v) then
        raise("invalid", "bad_field", d.name .. "." .. ev.name .. " field '" .. k .. "' must be " .. f.kind
          .. ", got " .. (math.type(v) or type(v)), 3)
      end
    end
    for k in pairs(data) do
      if ev.fields[k] == nil then
        raise("invalid", "unknown_field", d.name .. "." .. ev.name .. " has no field '" .. tostring(k) .. "'", 3)
      end
    end
  end
  local e = setmetatable({ type = ev.name, data = data, schema = ev.version, aggregate = d.name }, EVENT_MT)
  is_event[e] = true
  return e
end

AGG_MT.__index = function(agg, k)
  local m = Aggregate[k]
  if m then return m end
  local d = rawget(agg, "__def")
  local ev = d.events[k]
  if ev then return function(data) return make_event(d, ev, data) end end
  if type(k) == "string" and smatch(k, "^[A-Z]") then
    raise("invalid", "undeclared_event", d.name .. " has no event type '" .. k .. "' (declare it with " .. d.name
      .. ":event(\"" .. k .. "\", {...}))", 2)
  end
  return nil
end
AGG_MT.__newindex = function(agg, k, v)
  cap("changing an aggregate", M_LOAD | M_HOST)
  rawset(agg, k, v)
end
AGG_MT.__tostring = function(agg) return "aggregate " .. rawget(agg, "__def").name end
AGG_MT.__metatable = "aggregate"

local SNAPSHOT_DEFAULT = -1 -- the engine's default
function base.aggregate(name, opts)
  cap("aggregate", M_LOAD | M_HOST)
  check_name("aggregate", name, "^[A-Za-z_][A-Za-z0-9_]*$", "must be an identifier")
  if registry[name] then raise("invalid", "duplicate_aggregate", "aggregate " .. name .. " is already defined", 2) end
  opts = opts or {}
  if type(opts) ~= "table" then raise("invalid", "bad_options", "aggregate options must be a table", 2) end
  for k in pairs(opts) do
    if k ~= "snapshot_every" and k ~= "initial" and k ~= "ignore" then
      raise("invalid", "bad_option", "unknown aggregate option '" .. tostring(k) .. "' (snapshot_every, initial, ignore)", 2)
    end
  end
  local every = opts.snapshot_every
  if every ~= nil and (math.type(every) ~= "integer" or every < 0) then
    raise("invalid", "bad_option", "snapshot_every must be an integer >= 0", 2)
  end
  local initial = opts.initial
  if initial ~= nil and type(initial) ~= "function" and type(initial) ~= "table" then
    raise("invalid", "bad_option", "initial must be a function returning the empty state, or a table", 2)
  end
  local ignore = {}
  for _, t in ipairs(opts.ignore or {}) do ignore[t] = true end
  local d = { name = name, handle = {}, replay = {}, events = {}, event_order = {}, ignore = ignore, renamed = {},
    snapshot_every = every or SNAPSHOT_DEFAULT, initial = initial }
  local agg = setmetatable({ handle = d.handle, replay = d.replay, name = name, __def = d }, AGG_MT)
  d.agg = agg
  registry[name] = d
  registry_order[#registry_order + 1] = name
  S.registry_revision = S.registry_revision + 1
  return agg
end

function base.fault(code, message)
  cap("fault", M_LOAD | M_HOST | M_HANDLE)
  if type(code) ~= "string" or code == "" then raise("invalid", "bad_fault", "fault(code, message) needs a string code", 2) end
  error(setmetatable({ kind = "fault", code = code, message = message ~= nil and tostring(message) or code,
    where = P.where(1) }, ERR_MT), 0)
end

local loaded, LOADING = {}, {}
function base.require(name)
  cap("require", M_LOAD | M_HOST)
  if type(name) ~= "string" then raise("invalid", "bad_require", "require needs a module name", 2) end
  local v = loaded[name]
  if v == LOADING then raise("invalid", "require_cycle", "require cycle through '" .. name .. "'", 2) end
  if v ~= nil then return v end
  local ok, chunk = pcall(P.load_module, name)
  if not ok then
    if type(chunk) == "table" then error(chunk, 0) end
    raise("invalid", "require_failed", "require('" .. name .. "'): " .. tostring(chunk), 2)
  end
  loaded[name] = LOADING
  local done, r = pcall(chunk, name)
  if not done then loaded[name] = nil; error(r, 0) end
  if r == nil then r = true end
  loaded[name] = r
  return r
end

S.registry, S.registry_order, S.Aggregate, S.AGG_MT, S.def_of = registry, registry_order, Aggregate, AGG_MT, def_of
S.EVENT_MT, S.is_event, S.make_event = EVENT_MT, is_event, make_event
S.copy, S.readonly, S.check_name = copy, readonly, check_name
