"""The pages people use: the collector workspace, the operations dashboard, the policy view
(signed in, under /app) and the debtors' portal (a signed link, under /portal). Server-rendered
with Jinja2; htmx (vendored in static/) for the parts that change in place."""
