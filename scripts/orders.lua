-- Several aggregates in one script: an order with lines, and stock that an order reserves.
-- The driver coordinates them (reserve stock, then add the line), as a process manager would.
local Order = aggregate("Order", {
  initial = function() return { status = "open", lines = {}, total = 0 } end,
})
local Stock = aggregate("Stock", {
  snapshot_every = 20,
  initial = function() return { on_hand = 0, reserved = 0 } end,
})

Order:event("LineAdded", { sku = "string", qty = "integer", price = "integer" })
Order:event("LineRemoved", { sku = "string" })
Order:event("Placed", { total = "integer" })
Order:event("Cancelled", { reason = "string" })

Stock:event("Received", { qty = "integer" })
Stock:event("Reserved", { qty = "integer", order = "string" })
Stock:event("Released", { qty = "integer", order = "string" })

local MAX_LINES = 20

local function must_be_open(state)
  if state.status ~= "open" then fault("not_open", "the order is " .. state.status) end
end

function Order.handle.add_line(state, cmd)
  must_be_open(state)
  if type(cmd.sku) ~= "string" or cmd.sku == "" then fault("bad_sku", "a line needs a sku") end
  if math.type(cmd.qty) ~= "integer" or cmd.qty < 1 then fault("bad_qty", "qty must be a positive integer") end
  if math.type(cmd.price) ~= "integer" or cmd.price < 0 then fault("bad_price", "price is integer cents") end
  if #state.lines >= MAX_LINES then fault("too_many_lines", "an order holds at most " .. MAX_LINES .. " lines") end
  return Order.LineAdded{ sku = cmd.sku, qty = cmd.qty, price = cmd.price }
end

function Order.handle.remove_line(state, cmd)
  must_be_open(state)
  for _, line in ipairs(state.lines) do
    if line.sku == cmd.sku then return Order.LineRemoved{ sku = cmd.sku } end
  end
  fault("no_such_line", "the order has no line for " .. tostring(cmd.sku))
end

function Order.handle.place(state)
  must_be_open(state)
  if #state.lines == 0 then fault("empty_order", "an empty order cannot be placed") end
  return Order.Placed{ total = state.total }
end

function Order.handle.cancel(state, cmd)
  must_be_open(state)
  return Order.Cancelled{ reason = cmd.reason or "cancelled by customer" }
end

function Order.replay.LineAdded(state, ev)
  state.lines[#state.lines + 1] = { sku = ev.sku, qty = ev.qty, price = ev.price }
  state.total = state.total + ev.qty * ev.price
end

function Order.replay.LineRemoved(state, ev)
  for i, line in ipairs(state.lines) do
    if line.sku == ev.sku then
      state.total = state.total - line.qty * line.price
      table.remove(state.lines, i)
      return
    end
  end
end

function Order.replay.Placed(state) state.status = "placed" end
function Order.replay.Cancelled(state) state.status = "cancelled" end

function Stock.handle.receive(state, cmd)
  if math.type(cmd.qty) ~= "integer" or cmd.qty < 1 then fault("bad_qty", "qty must be a positive integer") end
  return Stock.Received{ qty = cmd.qty }
end

function Stock.handle.reserve(state, cmd)
  local available = state.on_hand - state.reserved
  if cmd.qty > available then
    fault("out_of_stock", "only " .. available .. " available, " .. cmd.qty .. " asked")
  end
  return Stock.Reserved{ qty = cmd.qty, order = cmd.order }
end

function Stock.handle.release(state, cmd)
  if cmd.qty > state.reserved then fault("not_reserved", "only " .. state.reserved .. " reserved") end
  return Stock.Released{ qty = cmd.qty, order = cmd.order }
end

function Stock.replay.Received(state, ev) state.on_hand = state.on_hand + ev.qty end
function Stock.replay.Reserved(state, ev) state.reserved = state.reserved + ev.qty end
function Stock.replay.Released(state, ev) state.reserved = state.reserved - ev.qty end

return { Order = Order, Stock = Stock }
