-- The projection the bench builds from the whole feed: one document per counter.
projection('Totals', { on = { ['Counter.Incremented'] = function(view, ev, meta)
  view:update(meta.key, function(d) d = d or { n = 0 }; d.n = d.n + ev.by; return d end)
end } })
