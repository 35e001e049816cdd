-- wrk script: a fixed mix of what the site sends (search box, filters, paging, as-you-type,
-- suggestions, the page itself, articles, related, topics). Every request is valid: any
-- non-2xx answer during the load test is a failure.
local paths = {
  "/api/search?q=astrocytes",
  "/api/search?q=brain+fog",
  "/api/search?q=multiple+sclerosis+relapse&topic=Relapses",
  "/api/search?q=%22optic+neuritis%22",
  "/api/search?q=remyelin*&sort=date",
  "/api/search?q=ms+fatigue&page=2&per_page=5",
  "/api/search?q=ocrelizumb",
  "/api/search?q=title:microglia+-mice",
  "/api/search?q=vitamin+d&since=2024-01-01&until=2026-12-31",
  "/api/search?q=rem&partial=1&per_page=6",
  "/api/search?q=nerve+coa&partial=1&per_page=6",
  "/api/suggest?q=astro",
  "/api/suggest?q=rel",
  "/?q=walking+problems",
  "/?q=myelin&topic=Remyelination&year=2025",
  "/api/articles/astrocytes-two-faces",
  "/api/articles/astrocytes-two-faces/related",
  "/api/topics",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
