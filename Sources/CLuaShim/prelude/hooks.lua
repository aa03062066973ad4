-- Store hooks for script authors: `on_append(fn)` adds metadata to a command's events or
-- refuses them (handle phase, after the handler, before replay), `on_load(fn)` checks loaded
-- events (replay phase: pure). Both exist script-wide and per aggregate (`A:on_append(fn)`,
-- `A:on_load(fn)`); the script-wide ones run first, each list in registration order.
local P, S = ...
local cap, json_encode, json_decode, set_phase = P.cap, P.json_encode, P.json_decode, P.set_phase
local raise, base, Aggregate, def_of = S.raise, S.base, S.Aggregate, S.def_of
local M_LOAD, M_HOST, HANDLE, REPLAY = S.M_LOAD, S.M_HOST, S.HANDLE, S.REPLAY
local type, ipairs, tostring, pcall, rawset, tconcat = type, ipairs, tostring, pcall, rawset, table.concat

local hooks = { on_append = {}, on_load = {} }
local ENGINE_KEYS = { "command", "command_id", "script_version" }

local function add(list, what, fn)
  if type(fn) ~= "function" then raise("invalid", "bad_hook", what .. " needs a function", 3) end
  list[#list + 1] = fn
end

function base.on_append(fn)
  cap("on_append", M_LOAD | M_HOST)
  add(hooks.on_append, "on_append", fn)
end

function base.on_load(fn)
  cap("on_load", M_LOAD | M_HOST)
  add(hooks.on_load, "on_load", fn)
end

function Aggregate.on_append(agg, fn)
  cap("on_append", M_LOAD | M_HOST)
  local d = def_of(agg)
  d.on_append = d.on_append or {}
  add(d.on_append, d.name .. ":on_append", fn)
  return agg
end

function Aggregate.on_load(agg, fn)
  cap("on_load", M_LOAD | M_HOST)
  local d = def_of(agg)
  d.on_load = d.on_load or {}
  add(d.on_load, d.name .. ":on_load", fn)
  return agg
end

function hooks.count(d, which)
  return #hooks[which] + (d[which] and #d[which] or 0)
end

local function each(d, which, f)
  for _, fn in ipairs(hooks[which]) do f(fn) end
  for _, fn in ipairs(d[which] or {}) do f(fn) end
end

-- Runs the on_append hooks over copies of the events, each with a meta table that starts
-- as the engine's (`meta_base`: command, ids, script version, the caller's members).
-- Returns each event's metadata as JSON object text, one a line.
function hooks.run_append(d, command, ctx, events, meta_base)
  local n = #events
  if n == 0 then return "" end
  local label = "on_append hook of " .. d.name .. "." .. command
  local views = {}
  for i = 1, n do
    local e = events[i]
    views[i] = { type = e.type, schema = e.schema, data = json_decode(e.json), meta = json_decode(meta_base) }
  end
  rawset(ctx, "aggregate", d.name)
  rawset(ctx, "command", command)
  each(d, "on_append", function(fn)
    set_phase(HANDLE, label, fn)
    fn(views, ctx)
  end)
  local base_meta = json_decode(meta_base)
  local out = {}
  for i = 1, n do
    local v = views[i]
    if type(v) ~= "table" or type(v.meta) ~= "table" then
      raise("invalid", "bad_meta", label .. ": event " .. i .. " lost its meta table (hooks may not remove events)", 1)
    end
    local m = v.meta
    for _, k in ipairs(ENGINE_KEYS) do
      if m[k] ~= base_meta[k] then raise("invalid", "reserved_meta", label .. " may not change meta." .. k, 1) end
    end
    if m.event_id ~= nil then raise("invalid", "reserved_meta", label .. " may not set meta.event_id", 1) end
    local ok, text = pcall(json_encode, m)
    if not ok then
      raise("invalid", "bad_meta", label .. ": meta of event " .. i .. " cannot be stored: " .. tostring(text), 1)
    end
    out[i] = text
  end
  return tconcat(out, "\n")
end

-- Runs the on_load hooks over events read from the store ({type, version, schema, data}).
function hooks.run_load(d, key, events)
  local ctx = { aggregate = d.name, key = key }
  local label = "on_load hook of " .. d.name
  each(d, "on_load", function(fn)
    set_phase(REPLAY, label, fn)
    fn(events, ctx)
  end)
end

S.hooks = hooks
