"""The baseline: the smallest FastAPI app, served by uvicorn like the gateway."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/v1/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/ping")
async def health() -> dict[str, str]:
    return {"status": "ok"}
