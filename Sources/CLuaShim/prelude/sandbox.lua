-- The sandbox: read-only library copies, phase-checked capabilities, the global
-- environment scripts run in. P holds the C primitives, S what the prelude's chunks
-- share (C puts the error metatable in S.ERR_MT before the first chunk runs).
local P, S = ...
local ERR_MT = S.ERR_MT
-- phases (esr.h) and their bits in cap masks
S.HANDLE, S.REPLAY = 2, 3
local M_LOAD, M_HOST = 1, 2
S.M_LOAD, S.M_HOST, S.M_HANDLE = M_LOAD, M_HOST, 4
local cap, forbidden, context = P.cap, P.forbidden, P.context
local type, pairs, ipairs, next, select, tostring, tonumber = type, pairs, ipairs, next, select, tostring, tonumber
local error, rawget, rawset, rawequal, rawlen, pcall = error, rawget, rawset, rawequal, rawlen, pcall
local setmetatable, getmetatable = setmetatable, getmetatable
local tsort, tunpack, tpack = table.sort, table.unpack, table.pack
local real_print, io_write, io_read = print, io.write, io.read
local os_time, os_clock, os_date, os_getenv = os.time, os.clock, os.date, os.getenv
local co_create, co_close, co_status = coroutine.create, coroutine.close, coroutine.status
local RO_TAG = "read-only table"

-- The prelude's own matching uses the originals, taken before the guards replace them.
S.sfind, S.smatch = string.find, string.match
P.install_guards(string, table)
-- Decoded empty arrays share this metatable: scripts may see it but not change it.
P.array_mt.__metatable = "json array"

ERR_MT.__tostring = function(e)
  return tostring(rawget(e, "kind")) .. ": " .. tostring(rawget(e, "code")) .. ": " .. tostring(rawget(e, "message"))
end
ERR_MT.__metatable = "error"

-- Raises an error value {kind, code, message}; the message starts with where it happened.
local function raise(kind, code, message, level)
  error(setmetatable({ kind = kind, code = code, message = context((level or 1) + 1) .. ": " .. message }, ERR_MT), 0)
end

-- A read-only view of `t`: reads go through, writes raise, metatable hidden.
local function freeze(name, t)
  return setmetatable({}, {
    __index = t,
    __newindex = function(_, k)
      raise("forbidden", "read_only", "cannot change " .. name .. "." .. tostring(k) .. ": library tables are read-only", 2)
    end,
    __pairs = function() return next, t, nil end,
    __len = function() return #t end,
    __metatable = RO_TAG,
  })
end

-- A copy of library `lib` holding only `allowed` (all when nil); `denied` names raise a clear error.
local function library(name, lib, allowed, denied)
  local copy = {}
  for k, v in pairs(lib) do
    if allowed == nil or allowed[k] then copy[k] = v end
  end
  setmetatable(copy, { __index = function(_, k)
    local why = denied and denied[k]
    if why then forbidden(name .. "." .. tostring(k), why) end
    return nil
  end })
  return copy
end

local NO_SYSTEM = "in esrun scripts (they cannot touch files, processes or the network)"
local string_lib = library("string", string, nil, { dump = "in esrun scripts (no bytecode)" })
string_lib.dump = nil
local math_lib = library("math", math, nil, {
  random = "in esrun scripts: use ctx.random() in a command handler (replay must be deterministic)",
  randomseed = "in esrun scripts",
})
math_lib.random, math_lib.randomseed = nil, nil
local table_lib = library("table", table)
local utf8_lib = library("utf8", utf8)

local function host_only(name, fn)
  return function(...)
    cap(name, M_HOST)
    return fn(...)
  end
end
local os_lib = library("os", {}, nil, setmetatable({}, { __index = function() return NO_SYSTEM end }))
os_lib.time = host_only("os.time", os_time)
os_lib.clock = host_only("os.clock", os_clock)
os_lib.date = host_only("os.date", os_date)
os_lib.getenv = host_only("os.getenv", os_getenv)
local io_lib = library("io", {}, nil, setmetatable({}, { __index = function() return NO_SYSTEM end }))
io_lib.write = function(...)
  cap("io.write", M_HOST)
  io_write(...)
  return io_lib
end
io_lib.read = host_only("io.read", io_read)

local function print(...)
  cap("print", M_LOAD | M_HOST)
  return real_print(...)
end

-- coroutines: resume carries the limit hook into the coroutine (limits.c)
local resume = P.resume
local co_lib = library("coroutine", coroutine)
co_lib.resume = resume
co_lib.wrap = function(f)
  local co = co_create(f)
  return function(...)
    local r = tpack(resume(co, ...))
    if r[1] then return tunpack(r, 2, r.n) end
    if co_status(co) == "dead" then co_close(co) end
    error(r[2], 0)
  end
end

local json_lib = { encode = P.json_encode, decode = P.json_decode }

-- The string metatable's __index becomes the sandbox copy; getmetatable("") shows a read-only view.
local string_ro = freeze("string", string_lib)
do
  local smt = getmetatable("")
  smt.__index = string_lib
  smt.__metatable = string_ro
end

-- pairs in a fixed order. Lua seeds string hashing per state, so raw `next` order differs
-- between Lua states (workers, nodes, restarts): replay code whose result depends on it
-- would fold the same events into different states. Keys go numbers first (by value),
-- then booleans, then strings (byte order), then anything else in `next` order.
local KEY_RANK = { number = 1, boolean = 2, string = 3 }
local function key_before(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (KEY_RANK[ta] or 4) < (KEY_RANK[tb] or 4) end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return b and not a end
  return false
end
local function ordered_keys(t)
  local keys, n, ascending, last = {}, 0, true, 0
  for k in next, t do
    n = n + 1
    keys[n] = k
    -- a sequence comes out of the array part in order: no sort needed
    if ascending then
      if math.type(k) == "integer" and k > last then last = k else ascending = false end
    end
  end
  if not ascending and n > 1 then tsort(keys, key_before) end
  return keys
end
-- Iterates `t` (raw) in key order; `wrap` may transform values (read-only views).
local function ordered_iter(t, wrap)
  local keys, i = ordered_keys(t), 0
  return function()
    while true do
      i = i + 1
      local k = keys[i]
      if k == nil then return nil end
      local v = rawget(t, k)
      if v ~= nil then
        if wrap then v = wrap(v) end
        return k, v
      end
    end
  end
end
local function ordered_pairs(t)
  local f, s, c = pairs(t)  -- honours __pairs (and raises for non-tables, as pairs does)
  if f ~= next or type(t) ~= "table" then return f, s, c end
  return ordered_iter(t), t, nil
end
S.ordered_iter = ordered_iter

local env = {}
local base = {
  _VERSION = _VERSION,
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = ordered_pairs, pcall = pcall, xpcall = xpcall,
  rawequal = rawequal, rawget = rawget, rawlen = rawlen, select = select, tonumber = tonumber,
  tostring = tostring, type = type, getmetatable = getmetatable,
  print = print,
  string = string_ro, table = freeze("table", table_lib), math = freeze("math", math_lib),
  utf8 = freeze("utf8", utf8_lib), coroutine = freeze("coroutine", co_lib),
  os = freeze("os", os_lib), io = freeze("io", io_lib), json = freeze("json", json_lib),
  _G = env,
}

base.setmetatable = function(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    raise("forbidden", "__gc", "__gc metamethods are not available in esrun scripts", 2)
  end
  -- a __metatable field protects it (library tables, read-only views, JSON arrays): say so at the caller's line
  local protected = type(t) == "table" and getmetatable(t)
  if protected ~= nil and protected ~= false and type(protected) ~= "table" then
    raise("forbidden", "read_only", "cannot change a protected metatable", 2)
  end
  return setmetatable(t, mt)
end

base.rawset = function(t, k, v)
  if getmetatable(t) == RO_TAG then
    raise("forbidden", "read_only", "cannot change a read-only table", 2)
  end
  if rawequal(t, env) then cap("writing global '" .. tostring(k) .. "'", M_LOAD | M_HOST) end
  return rawset(t, k, v)
end

local DENIED_GLOBALS = {
  load = "in esrun scripts (no code compiled at run time)",
  loadstring = "in esrun scripts (no code compiled at run time)",
  dofile = NO_SYSTEM, loadfile = NO_SYSTEM,
  debug = "in esrun scripts", package = "in esrun scripts (use require for sibling modules)",
  collectgarbage = "in esrun scripts (the host manages memory)",
}
setmetatable(base, { __index = function(_, k)
  local why = DENIED_GLOBALS[k]
  if why then forbidden(k, why) end
  return nil
end })

setmetatable(env, {
  __index = base,
  __newindex = function(t, k, v)
    cap("writing global '" .. tostring(k) .. "'", M_LOAD | M_HOST)
    rawset(t, k, v)
  end,
  __metatable = "globals",
})

S.raise, S.RO_TAG, S.env, S.base = raise, RO_TAG, env, base
