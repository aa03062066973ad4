-- Scenarios for counter.lua: esrun test scripts/counter.lua
local Counter = require("counter")

scenario("increments by one", {
  aggregate = Counter,
  when = { "increment" },
  expect_events = { Counter.Incremented{ by = 1 } },
  expect_state = { count = 1 },
})

scenario("increments by the amount asked", {
  aggregate = Counter,
  given = { Counter.Incremented{ by = 2 } },
  when = { "increment", { by = 3 } },
  expect_events = { Counter.Incremented{ by = 3 } },
  expect_state = { count = 5 },
})

scenario("refuses a non-positive amount", {
  aggregate = Counter,
  when = { "increment", { by = 0 } },
  expect_fault = "bad_amount",
})

scenario("near the limit", {
  aggregate = Counter,
  given = { Counter.Incremented{ by = 25 } },
  given_commands = { { "increment", { by = 4 } } },
  expect_state = { count = 29 },
})

scenario("reaches the limit exactly", {
  inherit = "near the limit",
  when = { "increment", { by = 1 } },
  expect_events = { "Incremented" },
  expect_state = { count = 30 },
})

scenario("stops at the limit", {
  inherit = "reaches the limit exactly",
  when = { "increment" },
  expect_fault = "limit_reached",
  expect_state = { count = 30 },
})
