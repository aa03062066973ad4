-- Scenarios for bank.lua: esrun test scripts/bank.lua
local Account = require("bank")

scenario("opens an account", {
  aggregate = Account,
  when = { "open", { owner = "Ada", overdraft = 10000 } },
  expect_events = { Account.Opened{ owner = "Ada", overdraft = 10000 } },
  expect_state = { open = true, closed = false, owner = "Ada", balance = 0, overdraft = 10000 },
})

scenario("an account opens once", {
  aggregate = Account,
  given = { Account.Opened{ owner = "Ada", overdraft = 0 } },
  when = { "open", { owner = "Bob" } },
  expect_fault = "already_open",
})

scenario("open account", {
  aggregate = Account,
  given = { Account.Opened{ owner = "Ada", overdraft = 10000 }, Account.Deposited{ amount = 25000 } },
  expect_state = { balance = 25000 },
  partial = true,
})

scenario("deposits add up", {
  inherit = "open account",
  when = { "deposit", { amount = 500, reference = "gift" } },
  expect_events = { Account.Deposited{ amount = 500, reference = "gift" } },
  expect_state = { balance = 25500 },
  partial = true,
})

scenario("withdraws into the overdraft", {
  inherit = "open account",
  when = { "withdraw", { amount = 30000, reference = "rent" } },
  expect_events = { Account.Withdrawn{ amount = 30000, reference = "rent" } },
  expect_state = { balance = -5000 },
  partial = true,
})

scenario("refuses to go past the overdraft", {
  inherit = "withdraws into the overdraft",
  when = { "withdraw", { amount = 6000 } },
  expect_fault = "insufficient_funds",
  expect_state = { balance = -5000 },
  partial = true,
})

scenario("amounts are positive integer cents", {
  inherit = "open account",
  when = { "deposit", { amount = 1.5 } },
  expect_fault = "bad_amount",
})

scenario("closing pays out the balance", {
  inherit = "open account",
  when = { "close" },
  expect_events = { Account.Withdrawn{ amount = 25000, reference = "closing payout" }, Account.Closed{ balance = 0 } },
  expect_state = { open = true, closed = true, owner = "Ada", balance = 0, overdraft = 10000 },
})

scenario("a closed account takes no money", {
  inherit = "closing pays out the balance",
  when = { "deposit", { amount = 100 } },
  expect_fault = "closed",
})

scenario("an overdrawn account cannot close", {
  aggregate = Account,
  given = { Account.Opened{ owner = "Ada", overdraft = 100 }, Account.Withdrawn{ amount = 50 } },
  when = "close",
  expect_fault = "negative_balance",
})
