"""Fake search engines speaking SearXNG's, Brave's and Tavily's documented wire formats.

    app = searxng_app(); app.state.results = [{"title", "url", "content"}, ...]
    with serve(app) as url: ...           # settings.searxng_url = url

- SearXNG: GET /search?q=...&format=json -> {"query", "results": [{title, url, content}]};
  without format=json: 403, as an instance that has not enabled the JSON format answers.
- Brave: GET /res/v1/web/search?q=... with X-Subscription-Token -> {"web": {"results":
  [{title, url, description}]}}; a wrong token: 401; the query "rate limit me": 429.
- Tavily: POST /search {query, max_results} with Authorization: Bearer -> {"query",
  "results": [{title, url, content, score}]}; wrong key: 401; "rate limit me": 429.
`app.state.queries` records what was searched for.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BRAVE_KEY = "brave-test-token"
TAVILY_KEY = "tvly-test-key"
RATE_LIMITED_QUERY = "rate limit me"


def _app(route: Route) -> Starlette:
    app = Starlette(routes=[route])
    app.state.results = []
    app.state.queries = []
    return app


def _hits(app: Starlette, snippet_key: str, limit: int) -> list[dict[str, Any]]:
    return [{"title": r["title"], "url": r["url"], snippet_key: r.get("content", "")}
            for r in app.state.results[:limit]]


def searxng_app() -> Starlette:
    async def search(request: Request) -> Response:
        if request.query_params.get("format") != "json":
            return Response("Forbidden", 403)
        query = request.query_params.get("q", "")
        app.state.queries.append(query)
        return JSONResponse({"query": query, "number_of_results": len(app.state.results),
                             "results": _hits(app, "content", 50), "answers": [], "suggestions": []})

    app = _app(Route("/search", search))
    return app


def brave_app() -> Starlette:
    async def search(request: Request) -> Response:
        if request.headers.get("x-subscription-token") != BRAVE_KEY:
            return JSONResponse({"type": "ErrorResponse", "error": {
                "id": "e1", "status": 401, "code": "SUBSCRIPTION_TOKEN_INVALID",
                "detail": "The provided subscription token is invalid."}}, 401)
        query = request.query_params.get("q", "")
        app.state.queries.append(query)
        if query == RATE_LIMITED_QUERY:
            return JSONResponse({"type": "ErrorResponse", "error": {
                "id": "e2", "status": 429, "code": "RATE_LIMITED", "detail": "Request rate limit exceeded."}}, 429,
                headers={"retry-after": "3"})
        count = int(request.query_params.get("count", "20"))
        return JSONResponse({"type": "search", "query": {"original": query},
                             "web": {"type": "search", "results": _hits(app, "description", count)}})

    app = _app(Route("/res/v1/web/search", search))
    return app


def tavily_app() -> Starlette:
    async def search(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TAVILY_KEY}":
            return JSONResponse({"detail": {"error": "Unauthorized: missing or invalid API key."}}, 401)
        body = await request.json()
        query = body.get("query", "")
        app.state.queries.append(query)
        if query == RATE_LIMITED_QUERY:
            return JSONResponse({"detail": {"error": "Rate limit exceeded."}}, 429)
        hits = _hits(app, "content", int(body.get("max_results", 5)))
        return JSONResponse({"query": query, "answer": None, "images": [], "response_time": 0.1,
                             "results": [{**h, "score": 0.9, "raw_content": None} for h in hits]})

    app = _app(Route("/search", search, methods=["POST"]))
    return app
