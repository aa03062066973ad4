-- A bank account: amounts are integer cents; withdrawals may overdraw down to the
-- account's overdraft limit; a closed account takes no more money.
local Account = aggregate("Account", {
  snapshot_every = 50,
  initial = function() return { open = false, closed = false, balance = 0, overdraft = 0 } end,
})

Account:event("Opened", { owner = "string", overdraft = "integer" })
Account:event("Deposited", { amount = "integer", reference = "string?" })
Account:event("Withdrawn", { amount = "integer", reference = "string?" })
Account:event("Closed", { balance = "integer" })

local function positive_amount(cmd)
  local amount = cmd.amount
  if math.type(amount) ~= "integer" or amount <= 0 then
    fault("bad_amount", "amount must be a positive integer number of cents")
  end
  return amount
end

local function must_be_open(state)
  if not state.open then fault("not_open", "the account is not open") end
  if state.closed then fault("closed", "the account is closed") end
end

function Account.handle.open(state, cmd)
  if state.open then fault("already_open", "the account is already open") end
  if type(cmd.owner) ~= "string" or cmd.owner == "" then fault("bad_owner", "an account needs an owner") end
  local overdraft = cmd.overdraft or 0
  if math.type(overdraft) ~= "integer" or overdraft < 0 then
    fault("bad_overdraft", "overdraft must be a non-negative integer number of cents")
  end
  return Account.Opened{ owner = cmd.owner, overdraft = overdraft }
end

function Account.handle.deposit(state, cmd)
  must_be_open(state)
  return Account.Deposited{ amount = positive_amount(cmd), reference = cmd.reference }
end

function Account.handle.withdraw(state, cmd)
  must_be_open(state)
  local amount = positive_amount(cmd)
  if state.balance - amount < -state.overdraft then
    fault("insufficient_funds", "balance " .. state.balance .. " and overdraft " .. state.overdraft
      .. " do not cover " .. amount)
  end
  return Account.Withdrawn{ amount = amount, reference = cmd.reference }
end

function Account.handle.close(state)
  must_be_open(state)
  if state.balance < 0 then fault("negative_balance", "settle the overdraft before closing") end
  local events = {}
  if state.balance > 0 then
    events[#events + 1] = Account.Withdrawn{ amount = state.balance, reference = "closing payout" }
  end
  events[#events + 1] = Account.Closed{ balance = 0 }
  return events
end

function Account.replay.Opened(state, ev)
  state.open, state.owner, state.overdraft = true, ev.owner, ev.overdraft
end

function Account.replay.Deposited(state, ev)
  state.balance = state.balance + ev.amount
end

function Account.replay.Withdrawn(state, ev)
  state.balance = state.balance - ev.amount
end

function Account.replay.Closed(state)
  state.closed = true
end

-- A read model: what each owner holds over all their accounts, kept up to date from the
-- global feed (`esrun projection bank.lua Balances owner:alice`, GET /projections/Balances/owner:alice).
-- Deposits and withdrawals do not name the owner, so the view also keeps each account's owner.
projection("Balances", {
  initial = function() return { balance = 0, accounts = 0 } end,
  on = {
    Opened = function(view, ev, meta)
      view:put("account:" .. meta.key, { owner = ev.owner })
      view:update("owner:" .. ev.owner, function(o) o.accounts = o.accounts + 1 end)
    end,
    Deposited = function(view, ev, meta)
      local owner = view:get("account:" .. meta.key).owner
      view:update("owner:" .. owner, function(o) o.balance = o.balance + ev.amount end)
    end,
    Withdrawn = function(view, ev, meta)
      local owner = view:get("account:" .. meta.key).owner
      view:update("owner:" .. owner, function(o) o.balance = o.balance - ev.amount end)
    end,
    Closed = function(view, ev, meta)
      local owner = view:get("account:" .. meta.key).owner
      view:update("owner:" .. owner, function(o) o.accounts = o.accounts - 1 end)
    end,
  },
})

return Account
