-- Argo CD health check for ObservabilityStack (observability.vigil.dev), in Lua 5.1 as Argo
-- CD runs it. Install it under argocd-cm:
--   resource.customizations.health.observability.vigil.dev_ObservabilityStack: |
--     <this file>
-- Healthy: Vigil has seen the latest spec, applied everything, and every collector pod is
-- ready. Degraded: Vigil cannot go on without a change (Stalled=True: a refused spec, a
-- missing Secret, an object that is not the stack's, collector pods refused by admission).
-- Progressing: anything else.
local hs = {status = "Progressing", message = "waiting for Vigil to reconcile the stack"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.metadata ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "Vigil has not reconciled the latest spec yet"
  return hs
end
local cond = {}
for _, c in ipairs(obj.status.conditions) do
  cond[c.type] = c
end
local function text(c)
  return (c.reason or "") .. ": " .. (c.message or "")
end
if cond.Stalled ~= nil and cond.Stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = text(cond.Stalled)
  return hs
end
if cond.Ready ~= nil and cond.Ready.status == "True" then
  if cond.CollectorAvailable ~= nil and cond.CollectorAvailable.status ~= "True" then
    hs.message = text(cond.CollectorAvailable)
    return hs
  end
  hs.status = "Healthy"
  hs.message = text(cond.Ready)
  return hs
end
if cond.Ready ~= nil and cond.Ready.reason == "CollectorUnavailable" and cond.CollectorAvailable ~= nil then
  hs.message = text(cond.CollectorAvailable)
elseif cond.Ready ~= nil then
  hs.message = text(cond.Ready)
end
return hs
