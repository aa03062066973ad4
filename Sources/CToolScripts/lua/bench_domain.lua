-- The domain `esrun bench` runs: counters without and with snapshots, and a replay-heavy aggregate.
local function define(name, every)
  local A = aggregate(name, { snapshot_every = every, initial = function() return { count = 0 } end })
  A:event('Incremented', { by = 'integer' })
  function A.handle.increment(state, cmd) return A.Incremented{ by = cmd.by or 1 } end
  function A.replay.Incremented(state, ev) state.count = state.count + ev.by end
end
define('Counter', 0)
define('Snapped', 100)
local Heavy = aggregate('Heavy', { snapshot_every = 0, initial = function() return { total = 0 } end })
Heavy:event('Incremented', { by = 'integer' })
function Heavy.replay.Incremented(state, ev)
  local t = state.total
  for i = 1, 100 do t = (t + i * ev.by) % 1000003 end
  state.total = t
end
-- One command that emits `n` events (the emitting-commands workload).
local Burst = aggregate('Burst', { snapshot_every = 0, initial = function() return { count = 0 } end })
Burst:event('Incremented', { by = 'integer' })
function Burst.handle.burst(state, cmd)
  local out = {}
  for i = 1, cmd.n do out[i] = Burst.Incremented{ by = 1 } end
  return out
end
function Burst.replay.Incremented(state, ev) state.count = state.count + ev.by end
-- Small deposits on many accounts (the storage-footprint workload): 26 bytes of data per event.
local Account = aggregate('Account', { snapshot_every = 0, initial = function() return { balance = 0 } end })
Account:event('Deposited', { amount = 'integer', memo = 'string' })
function Account.handle.deposit(state, cmd) return Account.Deposited{ amount = 100, memo = 'ab' } end
function Account.replay.Deposited(state, ev) state.balance = state.balance + ev.amount end
