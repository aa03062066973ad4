-- Scenarios for orders.lua (two aggregates): esrun test scripts/orders.lua
local shop = require("orders")
local Order, Stock = shop.Order, shop.Stock

scenario("adds a line", {
  aggregate = Order,
  when = { "add_line", { sku = "tea", qty = 2, price = 450 } },
  expect_events = { Order.LineAdded{ sku = "tea", qty = 2, price = 450 } },
  expect_state = { status = "open", total = 900, lines = { { sku = "tea", qty = 2, price = 450 } } },
})

scenario("order with two lines", {
  aggregate = Order,
  given = {
    Order.LineAdded{ sku = "tea", qty = 2, price = 450 },
    Order.LineAdded{ sku = "cake", qty = 1, price = 300 },
  },
  expect_state = { total = 1200 },
  partial = true,
})

scenario("removes a line", {
  inherit = "order with two lines",
  when = { "remove_line", { sku = "tea" } },
  expect_events = { Order.LineRemoved{ sku = "tea" } },
  expect_state = { status = "open", total = 300, lines = { { sku = "cake", qty = 1, price = 300 } } },
})

scenario("cannot remove a line it does not have", {
  inherit = "order with two lines",
  when = { "remove_line", { sku = "coffee" } },
  expect_fault = "no_such_line",
})

scenario("places an order with its total", {
  inherit = "order with two lines",
  when = "place",
  expect_events = { Order.Placed{ total = 1200 } },
  expect_state = { status = "placed" },
  partial = true,
})

scenario("a placed order is closed to changes", {
  inherit = "places an order with its total",
  when = { "add_line", { sku = "jam", qty = 1, price = 200 } },
  expect_fault = "not_open",
})

scenario("an empty order cannot be placed", {
  aggregate = Order,
  when = "place",
  expect_fault = "empty_order",
})

scenario("cancels with a default reason", {
  aggregate = Order,
  when = "cancel",
  expect_events = { Order.Cancelled{ reason = "cancelled by customer" } },
  expect_state = { status = "cancelled", total = 0, lines = {} },
})

scenario("reserves stock on hand", {
  aggregate = Stock,
  key = "tea",
  given = { Stock.Received{ qty = 10 } },
  when = { "reserve", { qty = 4, order = "o1" } },
  expect_events = { Stock.Reserved{ qty = 4, order = "o1" } },
  expect_state = { on_hand = 10, reserved = 4 },
})

scenario("refuses to reserve more than is available", {
  inherit = "reserves stock on hand",
  when = { "reserve", { qty = 7, order = "o2" } },
  expect_fault = "out_of_stock",
  expect_state = { on_hand = 10, reserved = 4 },
})

scenario("releases a reservation", {
  inherit = "reserves stock on hand",
  when = { "release", { qty = 4, order = "o1" } },
  expect_events = { "Released" },
  expect_state = { on_hand = 10, reserved = 0 },
})
