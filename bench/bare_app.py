"""The ceiling under the ceiling: a bare FastAPI app answering 1 KB of JSON through orjson.

``python bench/bare_app.py --port P --workers 2`` serves it the way ``hojre serve --workers 2``
serves Hojre (src/hojre/cli.py): uvicorn with its default loop and HTTP parser (uvloop,
httptools), its access log on, no proxy headers, no server header. bench/run.py measures its
``GET /`` with the same wrk settings beside ``/web/ping``: what is left between them is Hojre's
per-request plumbing (middleware, the access log's redaction, dispatch).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson
from fastapi import FastAPI
from starlette.responses import Response

# About 1 KB once serialised: an envelope around a short list, like a small v1 answer.
PAYLOAD = {
    "status": "success",
    "message": "pong",
    "data": [
        {"id": i, "title": f"item {i}", "city": 1000 + i, "liked": i * 3, "viewed": i * 11}
        for i in range(16)
    ],
}

app = FastAPI()


@app.get("/")
async def root() -> Response:
    # Serialised per request, as an endpoint renders its answer.
    return Response(orjson.dumps(PAYLOAD), media_type="application/json")


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    uvicorn.run(
        "bare_app:app",
        app_dir=str(Path(__file__).resolve().parent),
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=True,
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
