-- A driver script: esrun scripts/demo.lua (events go to ./esrun.db unless --db or --memory).
local Counter = require("counter")
local Account = require("bank")
local shop = require("orders")

-- Counter: increments until the domain says stop.
local c = Counter("demo")
local before = c.version
for _ = 1, 3 do
  local ok, err = pcall(function() return c:increment{ by = 5 } end)
  if not ok then print("counter refused: " .. tostring(err)) break end
end
print(("counter 'demo' went from version %d to %d, count = %d"):format(before, c.version, c.state.count))

-- Bank: one account per run, so the demo can run again on the same database.
local id = "acct-" .. os.time() .. "-" .. math.floor(os.clock() * 1e6)
local acct = Account(id)
acct:open{ owner = "Ada", overdraft = 10000 }
acct:deposit{ amount = 25000, reference = "salary" }
acct:withdraw{ amount = 30000, reference = "rent" }
local ok, err = pcall(function() acct:withdraw{ amount = 6000 } end)
print("overdraft rule: " .. (ok and "allowed" or err.code .. " (" .. err.message .. ")"))
print(("account %s balance: %d cents after %d events"):format(id, acct.state.balance, acct.version))
for _, e in ipairs(history(Account, id)) do
  print(("  v%d %-9s %s"):format(e.version, e.type, json.encode(e.data)))
end

-- Orders and stock: two aggregates in one script, coordinated here.
local sku = "tea"
local stock = shop.Stock(sku)
if stock.state.on_hand - stock.state.reserved < 2 then stock:receive{ qty = 10 } end
local order = shop.Order("order-" .. id)
stock:reserve{ qty = 2, order = order.key }
order:add_line{ sku = sku, qty = 2, price = 450 }
order:place{}
print(("order %s placed: total %d cents; stock of %s: %d on hand, %d reserved"):format(
  order.key, order.state.total, sku, stock.state.on_hand, stock.state.reserved))
