-- The engine's side of the prelude: functions the Swift engine calls through `esr_invoke`
-- (describe, initial, handle, replayers) and the driving API of driver scripts
-- (`Counter("c1"):increment{}`, `history`, `state`).
local P, S = ...
local cap, json_encode, json_decode, set_phase, host_call = P.cap, P.json_encode, P.json_decode, P.set_phase, P.host_call
local raise, base, hooks, registry, registry_order = S.raise, S.base, S.hooks, S.registry, S.registry_order
local AGG_MT, is_event, copy, readonly = S.AGG_MT, S.is_event, S.copy, S.readonly
local M_HOST, M_HANDLE, HANDLE, REPLAY = S.M_HOST, S.M_HANDLE, S.HANDLE, S.REPLAY
local type, pairs, ipairs, next, tostring, pcall = type, pairs, ipairs, next, tostring, pcall
local rawget, rawset, rawlen, setmetatable, getmetatable = rawget, rawset, rawlen, setmetatable, getmetatable
local sfmt, tsort, tunpack, tpack, tconcat = string.format, table.sort, table.unpack, table.pack, table.concat
local math_random = math.random

local engine = {}

local function seal(d)
  local s = d.sealed
  if s then return s end
  -- labels for error messages, built once per name
  local function labels(prefix)
    return setmetatable({}, { __index = function(t, k)
      local label = prefix .. d.name .. "." .. tostring(k)
      t[k] = label
      return label
    end })
  end
  s = { replayers = {}, commands = {}, handler_labels = labels("handler "), replay_labels = labels("replay of ") }
  for name, fn in pairs(d.handle) do s.commands[name] = fn end
  for _, name in ipairs(d.event_order) do
    local ev = d.events[name]
    local fn = d.replay[name]
    if fn ~= nil and ev.version > 1 then
      local inner, version, upcast, agg = fn, ev.version, ev.upcast, d.name
      fn = function(state, data, schema)
        schema = schema or version
        while schema < version do
          local up = upcast[schema]
          if up == nil then
            raise("script", "missing_upcast", agg .. "." .. name .. " has no upcaster from version " .. schema, 1)
          end
          data = up(data) or data
          schema = schema + 1
        end
        return inner(state, data)
      end
    end
    s.replayers[name] = fn
    -- stored events of a former name replay through this type's upcast chain
    for _, old in ipairs(ev.renamed_from) do
      s.replayers[old] = fn
      s.replay_labels[old] = s.replay_labels[name] .. " (stored as " .. old .. ")"
    end
  end
  d.sealed = s
  return s
end

local function def(name)
  local d = registry[name]
  if d == nil then raise("invalid", "unknown_aggregate", "no aggregate named " .. tostring(name), 1) end
  return d
end

-- called with (result, display) after a main script ran: nothing to record yet
function engine.main_loaded() end

function engine.describe()
  local out = {}
  for _, name in ipairs(registry_order) do
    local d = registry[name]
    local s = seal(d)
    local commands = {}
    for c in pairs(s.commands) do commands[#commands + 1] = c end
    tsort(commands)
    local events, fp = {}, { "initial", d.initial or false }
    for _, en in ipairs(d.event_order) do
      local ev = d.events[en]
      local fields = {}
      for k, f in pairs(ev.fields or {}) do fields[k] = f.kind .. (f.optional and "?" or "") end
      local upcasters = {}
      for from in pairs(ev.upcast) do upcasters[#upcasters + 1] = from end
      tsort(upcasters)
      events[#events + 1] = { name = en, fields = ev.fields and fields or nil, version = ev.version,
        upcasters = setmetatable(upcasters, P.array_mt), replay = d.replay[en] ~= nil,
        renamed_from = setmetatable({ tunpack(ev.renamed_from) }, P.array_mt) }
      fp[#fp + 1] = "replay " .. en
      fp[#fp + 1] = d.replay[en] or false
      fp[#fp + 1] = "version"
      fp[#fp + 1] = ev.version
      for _, from in ipairs(upcasters) do
        fp[#fp + 1] = "upcast " .. from
        fp[#fp + 1] = ev.upcast[from]
      end
      for _, old in ipairs(ev.renamed_from) do fp[#fp + 1] = "renamed from " .. old end
    end
    local stray = {}
    for en in pairs(d.replay) do if not d.events[en] then stray[#stray + 1] = en end end
    tsort(stray)
    local ignored = {}
    for en in pairs(d.ignore) do ignored[#ignored + 1] = en end
    tsort(ignored)
    out[#out + 1] = { name = name, snapshot_every = d.snapshot_every, fingerprint = P.fingerprint(fp),
      commands = setmetatable(commands, P.array_mt), events = setmetatable(events, P.array_mt),
      undeclared_replays = setmetatable(stray, P.array_mt), ignored = setmetatable(ignored, P.array_mt),
      append_hooks = hooks.count(d, "on_append"), load_hooks = hooks.count(d, "on_load") }
  end
  return setmetatable(out, P.array_mt)
end

function engine.identity(x) return x end

function engine.on_load(name, key, events) hooks.run_load(def(name), key, events) end

function engine.initial(name)
  local d = def(name)
  local init, state = d.initial
  if type(init) == "function" then
    set_phase(REPLAY, "initial of " .. name)
    state = init()
    if state == nil then state = {} end
  elseif type(init) == "table" then
    state = copy(init)
  else
    state = {}
  end
  if type(state) ~= "table" then
    raise("script", "bad_initial", "initial of " .. name .. " must return a table, not a " .. type(state), 1)
  end
  return state
end

function engine.replayers(name) return seal(def(name)).replayers end

local function ignore_event() return nil end
function engine.missing_replay(name, type_name)
  local d = def(name)
  if d.ignore[type_name] then return ignore_event end
  if d.events[type_name] == nil then
    raise("script", "unknown_event", name .. " has a stored event of type '" .. type_name
      .. "' that the script does not declare (declare it, or list it in ignore = {...})", 1)
  end
  raise("script", "missing_replay", name .. " has no replay function for event type '" .. type_name
    .. "' (define " .. name .. ".replay." .. type_name .. ")", 1)
end

-- ctx for handlers: per-command data plus functions that work only while the handler runs.
local CTX_FUNCS = {
  now = function() cap("ctx.now", M_HANDLE); return P.now_ms() end,
  uuid = function() cap("ctx.uuid", M_HANDLE); return P.uuid() end,
  random = function(...) cap("ctx.random", M_HANDLE); return math_random(...) end,
  log = function(...)
    cap("ctx.log", M_HANDLE)
    local parts = tpack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    host_call("log", { message = tconcat(parts, " ", 1, parts.n), where = P.where(1) })
  end,
}
local CTX_MT = { __index = CTX_FUNCS, __metatable = "ctx" }

local MAX_EVENTS = 100000
function engine.set_max_events(n) MAX_EVENTS = n end

-- Runs a command: decide (handler), validate, then replay the new events onto the
-- state through their JSON form, exactly as a later rehydration will see them.
function engine.handle(name, state, command, args, key, version, meta, want_state, snapshot_every, meta_base)
  local d = def(name)
  local s = seal(d)
  if type(args) ~= "table" then raise("invalid", "bad_args", "command arguments must be a JSON object", 1) end
  local fn = s.commands[command]
  if fn == nil then
    raise("invalid", "unknown_command", name .. " has no command '" .. tostring(command) .. "'", 1)
  end
  local ctx = setmetatable({ key = key, version = version, meta = meta or {} }, CTX_MT)
  set_phase(HANDLE, s.handler_labels[command], fn)
  local out = fn(readonly(state), args, ctx)
  local list
  if out == nil then
    list = {}
  elseif is_event[out] then
    list = { out }
  elseif type(out) == "table" and getmetatable(out) == nil then
    list = out
  else
    raise("invalid", "bad_result", "handler must return an event, a list of events or nothing, not "
      .. (type(out) == "table" and "a table that is not an event" or "a " .. type(out)), 1)
  end
  local n = rawlen(list)
  if n > MAX_EVENTS then
    raise("invalid", "too_many_events", "a command may emit at most " .. MAX_EVENTS .. " events, this one emitted " .. n, 1)
  end
  for k in next, list do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      raise("invalid", "bad_result", "handler must return a list of events (found key " .. tostring(k) .. ")", 1)
    end
  end
  local events = {}
  for i = 1, n do
    local e = list[i]
    if not is_event[e] then
      raise("invalid", "bad_result", "item " .. i .. " of the handler's result is not an event (build events with "
        .. name .. ".EventType{...})", 1)
    end
    if e.aggregate ~= name then
      raise("invalid", "foreign_event", "handler of " .. name .. " emitted " .. e.aggregate .. "." .. e.type, 1)
    end
    local ok, text = pcall(json_encode, e.data)
    if not ok then
      raise("invalid", "bad_event_data", "event " .. name .. "." .. e.type .. " cannot be stored: " .. tostring(text), 1)
    end
    -- the event itself carries its encoding to the host (no table per event)
    rawset(e, "json", text)
    events[i] = e
  end
  -- on_append hooks: metadata per event, or a refusal (before replay: the state is untouched)
  local hook_meta = meta_base and hooks.run_append(d, command, ctx, events, meta_base) or ""
  local replayers = s.replayers
  for i = 1, n do
    local e = events[i]
    local f = replayers[e.type] or engine.missing_replay(name, e.type)
    set_phase(REPLAY, s.replay_labels[e.type], d.replay[e.type])
    local r = f(state, json_decode(e.json), e.schema)
    if type(r) == "table" then state = r
    elseif r ~= nil then
      raise("script", "bad_replay_result", "a replay function must return the new state table or nothing, not a " .. type(r), 1)
    end
  end
  local snapshot_due = snapshot_every > 0 and (version + n) // snapshot_every > version // snapshot_every
  if want_state == 0 and not snapshot_due then return events, state, nil, nil, hook_meta end
  -- a state JSON cannot hold (sparse keys, say) fails neither the command nor the snapshot quietly
  local ok, text = pcall(json_encode, state)
  if ok then return events, state, text, nil, hook_meta end
  return events, state, nil, tostring(text), hook_meta
end

-- Driving API (host phase): calls into the Swift engine.
local HANDLE_MT = {}
HANDLE_MT.__index = function(h, k)
  if k == "state" then
    cap("reading aggregates", M_HOST)
    return host_call("state", { aggregate = h.aggregate, key = h.key }).state
  end
  if k == "version" then
    -- the stream's version needs no state (a state that cannot be encoded still has one)
    cap("reading aggregates", M_HOST)
    return host_call("version", { aggregate = h.aggregate, key = h.key })
  end
  if type(k) ~= "string" then return nil end
  return function(self, args, opts)
    cap("running commands", M_HOST)
    if self ~= h then
      raise("invalid", "bad_call", "call commands with a colon: " .. h.aggregate .. "(\"" .. h.key .. "\"):" .. k .. "{...}", 2)
    end
    if args ~= nil and type(args) ~= "table" then raise("invalid", "bad_args", "command arguments must be a table", 2) end
    opts = opts or {}
    return host_call("execute", { aggregate = h.aggregate, key = h.key, command = k, args = json_encode(args or {}),
      expected_version = opts.expected_version, meta = opts.meta ~= nil and json_encode(opts.meta) or nil })
  end
end
HANDLE_MT.__metatable = "aggregate handle"
HANDLE_MT.__tostring = function(h) return h.aggregate .. "(" .. sfmt("%q", h.key) .. ")" end

AGG_MT.__call = function(agg, key)
  cap("driving aggregates", M_HOST)
  if type(key) ~= "string" and math.type(key) ~= "integer" then
    raise("invalid", "bad_key", "an aggregate key must be a string", 2)
  end
  return setmetatable({ aggregate = rawget(agg, "__def").name, key = tostring(key) }, HANDLE_MT)
end

local function agg_name(agg)
  if type(agg) == "string" then return agg end
  local ok, d = pcall(rawget, agg, "__def")
  if ok and type(d) == "table" then return d.name end
  raise("invalid", "bad_aggregate", "expected an aggregate", 3)
end

function base.history(agg, key)
  cap("history", M_HOST)
  return host_call("history", { aggregate = agg_name(agg), key = tostring(key) })
end

function base.state(agg, key, version)
  cap("state", M_HOST)
  local r = host_call("state", { aggregate = agg_name(agg), key = tostring(key), at = version })
  return r.state
end

S.engine, S.def, S.HANDLE_MT = engine, def, HANDLE_MT
