-- Projections (read models): `projection(name, { initial = ..., on = { Type = fn } })`, their
-- registry entries for the engine, and `engine.project`, which runs a page of the global feed
-- through one projection in the replay phase and returns the view changes. Views are documents
-- keyed by strings: `view:get`, `view:put`, `view:delete`, `view:update`.
local P, S = ...
local cap, json_encode, json_decode, set_phase, host_call = P.cap, P.json_encode, P.json_decode, P.set_phase, P.host_call
local raise, env, base, engine, check_name = S.raise, S.env, S.base, S.engine, S.check_name
local registry, registry_order = S.registry, S.registry_order
local M_LOAD, M_HOST, REPLAY = S.M_LOAD, S.M_HOST, S.REPLAY
local type, pairs, ipairs, tostring, error, pcall = type, pairs, ipairs, tostring, error, pcall
local rawget, setmetatable, getmetatable = rawget, setmetatable, getmetatable
local sfind, smatch, sfmt = S.sfind, S.smatch, string.format
local tsort, tunpack, tconcat = table.sort, table.unpack, table.concat

local projections, projection_order = {}, {}
local PROJ_MT, Projection = {}, {}
local utf8_len = utf8.len
local EVENT_KEY = "^[A-Za-z_][A-Za-z0-9_]*%.[A-Z][A-Za-z0-9_]*$"
local BARE_EVENT_KEY = "^[A-Z][A-Za-z0-9_]*$"

local function pdef(p)
  local d = type(p) == "table" and rawget(p, "__def")
  if not d then raise("invalid", "not_projection", "expected a projection (use P:on with a colon)", 3) end
  return d
end

local function wire(d, key, fn, level)
  if type(key) ~= "string" or not (smatch(key, BARE_EVENT_KEY) or smatch(key, EVENT_KEY)) then
    raise("invalid", "bad_event_name", "projection " .. d.name .. " handles " .. sfmt("%q", tostring(key))
      .. ": name an event type (Deposited) or an aggregate's event type (Account.Deposited)", level + 1)
  end
  if type(fn) ~= "function" then
    raise("invalid", "bad_handler", "projection " .. d.name .. " handler for " .. key .. " must be a function", level + 1)
  end
  d.on[key] = fn
  d.sealed = nil
end

function Projection.on(p, key, fn)
  cap("wiring projections", M_LOAD | M_HOST)
  wire(pdef(p), key, fn, 2)
  return p
end

PROJ_MT.__index = Projection
PROJ_MT.__newindex = function(p)
  raise("invalid", "read_only", "projection " .. rawget(p, "__def").name .. " is wired with :on(type, fn)", 2)
end
PROJ_MT.__tostring = function(p) return "projection " .. rawget(p, "__def").name end
PROJ_MT.__metatable = "projection"

function base.projection(name, opts)
  cap("projection", M_LOAD | M_HOST)
  check_name("projection", name, "^[A-Za-z_][A-Za-z0-9_]*$", "must be an identifier")
  if projections[name] then raise("invalid", "duplicate_projection", "projection " .. name .. " is already defined", 2) end
  opts = opts or {}
  if type(opts) ~= "table" then raise("invalid", "bad_options", "projection options must be a table", 2) end
  for k in pairs(opts) do
    if k ~= "initial" and k ~= "on" then
      raise("invalid", "bad_option", "unknown projection option '" .. tostring(k) .. "' (initial, on)", 2)
    end
  end
  local initial = opts.initial
  if initial ~= nil and type(initial) ~= "function" and type(initial) ~= "table" then
    raise("invalid", "bad_option", "initial must be a function(key) returning a new document, or a table", 2)
  end
  if opts.on ~= nil and type(opts.on) ~= "table" then
    raise("invalid", "bad_option", "on must map event types to functions(view, event, meta)", 2)
  end
  local d = { name = name, initial = initial, on = {} }
  for key, fn in pairs(opts.on or {}) do wire(d, key, fn, 2) end
  projections[name] = d
  projection_order[#projection_order + 1] = name
  return setmetatable({ __def = d }, PROJ_MT)
end

-- Which stored events reach which handler: "Aggregate.StoredType" -> entry. A bare type
-- name matches that type in every aggregate that declares it; a qualified one wins over it.
-- Former names (renamed_from) lead to the same handler, and old schemas are upcast first.
local function pseal(d)
  local s = d.sealed
  if s and s.revision == S.registry_revision then return s end
  s = { revision = S.registry_revision, match = {}, unknown = {} }
  local keys = {}
  for key in pairs(d.on) do keys[#keys + 1] = key end
  tsort(keys, function(a, b)
    local qa, qb = sfind(a, ".", 1, true) ~= nil, sfind(b, ".", 1, true) ~= nil
    if qa ~= qb then return qb end -- bare names first, so qualified ones overwrite them
    return a < b
  end)
  for _, key in ipairs(keys) do
    local agg_name, type_name = smatch(key, "^(.-)%.(.+)$")
    if agg_name == nil then type_name = key end
    local found = false
    for _, an in ipairs(registry_order) do
      local ad = registry[an]
      local ev = (agg_name == nil or agg_name == an) and ad.events[type_name]
      if ev then
        found = true
        local entry = { fn = d.on[key], ev = ev, aggregate = an,
          label = "projection " .. d.name .. " on " .. an .. "." .. type_name }
        s.match[an .. "." .. type_name] = entry
        for _, old in ipairs(ev.renamed_from) do s.match[an .. "." .. old] = entry end
      end
    end
    if not found then s.unknown[#s.unknown + 1] = key end
  end
  -- by aggregate, then stored type: the feed loop looks up without building "A.T" per event
  s.by_aggregate = {}
  for k, entry in pairs(s.match) do
    local an, tn = smatch(k, "^(.-)%.(.+)$")
    local types = s.by_aggregate[an] or {}
    types[tn] = entry
    s.by_aggregate[an] = types
  end
  d.sealed = s
  return s
end

local function upcast(entry, data, schema)
  local ev = entry.ev
  while schema < ev.version do
    local up = ev.upcast[schema]
    if up == nil then
      raise("script", "missing_upcast", entry.aggregate .. "." .. ev.name .. " has no upcaster from version " .. schema, 1)
    end
    set_phase(REPLAY, "upcaster of " .. entry.aggregate .. "." .. ev.name, up)
    data = up(data) or data
    schema = schema + 1
  end
  return data
end

function engine.describe_projections()
  local out = {}
  for _, name in ipairs(projection_order) do
    local d = projections[name]
    local s = pseal(d)
    local stored, handled = {}, {}
    for k in pairs(s.match) do stored[#stored + 1] = k end
    tsort(stored)
    for k in pairs(d.on) do handled[#handled + 1] = k end
    tsort(handled)
    local fp = { "projection", name, "initial", d.initial or false }
    for _, k in ipairs(handled) do
      fp[#fp + 1] = "on " .. k
      fp[#fp + 1] = d.on[k]
    end
    for _, k in ipairs(stored) do
      local ev = s.match[k].ev
      fp[#fp + 1] = "reads " .. k .. " as " .. s.match[k].aggregate .. "." .. ev.name .. " version"
      fp[#fp + 1] = ev.version
      for from = 1, ev.version - 1 do
        fp[#fp + 1] = "upcast " .. from
        fp[#fp + 1] = ev.upcast[from] or false
      end
    end
    -- handlers that can carry state from one event to the next (esrun check prints them)
    local warnings, allowed = {}, { [env] = true, [base] = true }
    local function warn(fn, label)
      if type(fn) == "function" then
        for _, w in ipairs(P.replay_warnings(fn, label, allowed)) do warnings[#warnings + 1] = w end
      end
    end
    warn(d.initial, "initial of projection " .. name)
    for _, k in ipairs(handled) do warn(d.on[k], "projection " .. name .. " on " .. k) end
    out[#out + 1] = { name = name, fingerprint = P.fingerprint(fp), handles = setmetatable(handled, P.array_mt),
      warnings = setmetatable(warnings, P.array_mt),
      events = setmetatable(stored, P.array_mt), unknown_events = setmetatable({ tunpack(s.unknown) }, P.array_mt) }
  end
  return setmetatable(out, P.array_mt)
end

local function view_key(name, key, level)
  if math.type(key) == "integer" then key = tostring(key) end
  -- the key rule of InputRules.checkKey (Swift), kept equal by the input-rules test:
  -- 1 to 512 bytes of UTF-8, no control characters, no U+FFFD
  if type(key) ~= "string" or key == "" or #key > 512 or sfind(key, "[\0-\31\127]") or not utf8_len(key)
      or sfind(key, "\239\191\189", 1, true) then
    raise("invalid", "bad_view_key", "view keys of " .. name
      .. " are 1 to 512 bytes of UTF-8 without control characters or U+FFFD, not "
      .. (type(key) == "string" and sfmt("%q", key) or type(key)), level + 1)
  end
  return key
end

-- The views of one engine.project call: reads go to the store once per key, writes stay
-- here (as JSON text, so a document read back is always a fresh table) until the engine
-- commits them with the page's checkpoint. Each event's handler gets a view object of its
-- own that closes when the handler returns: keeping one for later fails the same way
-- whatever the page size.
local function make_views(d)
  local name = d.name
  local reads, writes, order = {}, {}, {}
  local current = nil
  local function text_of(key)
    local t = writes[key]
    if t == nil then
      t = reads[key]
      if t == nil then
        t = host_call("view_get", key) or false
        reads[key] = t
      end
    end
    return t
  end
  local function check(self, level)
    if getmetatable(self) ~= "view" then
      raise("invalid", "bad_call", "call view methods with a colon: view:get(key)", level + 1)
    end
    if self ~= current then
      raise("invalid", "view_closed", "a view of " .. name .. " is only usable while the handler it was given to runs",
        level + 1)
    end
  end
  local function put(key, doc, level)
    if doc == nil then
      raise("invalid", "bad_document", "view:put(" .. sfmt("%q", key) .. ", nil): use view:delete(key)", level + 1)
    end
    local ok, text = pcall(json_encode, doc)
    if not ok then
      raise("invalid", "bad_document", "the document for " .. name .. "[" .. sfmt("%q", key) .. "] cannot be stored: "
        .. tostring(text), level + 1)
    end
    if writes[key] == nil then order[#order + 1] = key end
    writes[key] = text
  end
  local function get(key)
    local t = text_of(key)
    if t then return json_decode(t) end
    local init = d.initial
    if type(init) == "function" then return init(key) end
    if type(init) == "table" then return json_decode(json_encode(init)) end
    return nil
  end
  local methods = {
    get = function(self, key)
      check(self, 2)
      return get(view_key(name, key, 2))
    end,
    put = function(self, key, doc)
      check(self, 2)
      put(view_key(name, key, 2), doc, 2)
    end,
    delete = function(self, key)
      check(self, 2)
      key = view_key(name, key, 2)
      if writes[key] == nil then order[#order + 1] = key end
      writes[key] = false
    end,
    update = function(self, key, fn)
      check(self, 2)
      key = view_key(name, key, 2)
      if type(fn) ~= "function" then raise("invalid", "bad_call", "view:update(key, fn) needs a function", 2) end
      local doc = get(key)
      local r = fn(doc)
      if r ~= nil then doc = r end
      if doc == nil then
        raise("invalid", "bad_document", "view:update(" .. sfmt("%q", key)
          .. "): the function left no document (use view:delete)", 2)
      end
      put(key, doc, 2)
      return doc
    end,
  }
  local VIEW_MT = { __index = methods, __newindex = function()
    raise("invalid", "read_only", "the view is changed with view:put(key, doc) and view:delete(key)", 2)
  end, __metatable = "view", __tostring = function() return "view " .. name end }
  local views = {}
  function views.open()
    current = setmetatable({}, VIEW_MT)
    return current
  end
  function views.close() current = nil end
  function views.changes()
    current = nil
    local parts = {}
    for i = 1, #order do
      local key = order[i]
      local t = writes[key]
      parts[i] = #key .. ":" .. (t and #t or -1) .. ":" .. key .. (t or "")
    end
    return tconcat(parts)
  end
  return views
end

-- Runs the events (decoded feed rows: p, a, k, v, t, s, d, m, r) through projection `name`;
-- returns the view changes as "<key length>:<document length or -1>:<key><document>" records.
function engine.project(name, events)
  local d = projections[name]
  if d == nil then raise("invalid", "unknown_projection", "no projection named " .. tostring(name), 1) end
  local s = pseal(d)
  local views = make_views(d)
  local by_aggregate = s.by_aggregate
  local ok, err = pcall(function()
    for i = 1, #events do
      local e = events[i]
      local types = by_aggregate[e.a]
      local entry = types and types[e.t]
      if entry then
        local data = e.d
        if e.s < entry.ev.version then data = upcast(entry, data, e.s) end
        local meta = e.m
        if type(meta) ~= "table" or getmetatable(meta) ~= nil then meta = {} end
        meta.position, meta.aggregate, meta.key, meta.version = e.p, e.a, e.k, e.v
        meta.type, meta.stored_type, meta.schema, meta.recorded_at = entry.ev.name, e.t, e.s, e.r
        set_phase(REPLAY, entry.label, entry.fn)
        entry.fn(views.open(), data, meta)
        views.close()
      end
    end
  end)
  if not ok then
    views.close()
    error(err, 0)
  end
  return views.changes()
end
