-- The seed's counter: increments up to a limit, snapshots every 10 events.
local Counter = aggregate("Counter", {
  snapshot_every = 10,
  initial = function() return { count = 0 } end,
})

Counter:event("Incremented", { by = "integer" })

local LIMIT = 30

function Counter.handle.increment(state, cmd, ctx)
  local by = cmd.by or 1
  if math.type(by) ~= "integer" or by < 1 then
    fault("bad_amount", "increment by a positive integer")
  end
  if state.count + by > LIMIT then
    fault("limit_reached", "counter is at its limit")
  end
  return Counter.Incremented{ by = by }
end

function Counter.replay.Incremented(state, ev)
  state.count = state.count + ev.by
end

return Counter
