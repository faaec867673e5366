"""`assistant serve`: the assistant over HTTP, speaking OpenAI's chat-completions protocol, with a web page.

FastAPI on uvicorn: FastAPI because it is the ASGI stack most Python services (and LlamaIndex users) already
run, with request parsing, OpenAPI docs and CORS from well-kept code; uvicorn shuts down gracefully on SIGTERM
(in-flight requests finish). Answering is synchronous work (numpy, SQLite, Chroma), so each request borrows
one :class:`~assistant.Assistant` from a small pool and runs in a worker thread; the event loop only moves
bytes. A streamed answer runs one step at a time and stops, releasing its assistant, when the client goes.
Only ``assistant serve`` imports this module (FastAPI loads here, not for the other commands).

Safety: binds to 127.0.0.1 unless told otherwise, and any other address needs an API key (compared in constant
time, never logged); bodies and questions are size-limited; no endpoint reads a path from the request.
"""

from __future__ import annotations

import hmac
import json
import queue
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from importlib import resources
from typing import Any

from anyio import CancelScope, to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from assistant.errors import AssistantError, ConfigError, StoreError
from assistant.interface.openai_format import MODEL, BadRequest, Chunks, completion, conversation
from assistant.types import Answer

MAX_BODY_BYTES = 1_000_000
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_binding(host: str, api_key: str | None) -> None:
    """Refuse, in one line, to serve beyond this machine without a key."""
    if host not in LOOPBACK and not api_key:
        raise ConfigError(f"refusing to serve on {host} without an API key: set --api-key (or ASSISTANT_API_KEY), or bind to 127.0.0.1")


class Pool:
    """Assistants for worker threads, made on first need (each opens the store for itself)."""

    def __init__(self, size: int, overrides: dict[str, Any]) -> None:
        self.size, self.overrides = size, overrides
        self.idle: queue.Queue[Any] = queue.Queue()
        self.made = 0
        self.lock = threading.Lock()

    @contextmanager
    def borrow(self) -> Iterator[Any]:
        from assistant.api import Assistant

        with self.lock:
            make = self.idle.empty() and self.made < self.size
            self.made += make
        bot = Assistant(**self.overrides) if make else self.idle.get()
        try:
            yield bot
        finally:
            self.idle.put(bot)

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get().close()


def create_app(overrides: dict[str, Any] | None = None, *, api_key: str | None = None, workers: int = 2,
               cors_origins: tuple[str, ...] = (), max_question_chars: int = 4000) -> Any:
    pool = Pool(workers, dict(overrides or {}))

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield
        pool.close()

    app = FastAPI(title="assistant", docs_url="/docs", redoc_url=None, lifespan=lifespan)
    app.state.pool = pool
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"], allow_headers=["*"])

    def error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)

    def failure(exc: Exception) -> JSONResponse:
        if isinstance(exc, BadRequest):
            return error(400, str(exc), "invalid_request_error")
        if isinstance(exc, StoreError):
            return error(503, str(exc), "store_unavailable", "store_unavailable")
        if isinstance(exc, AssistantError):
            return error(400 if isinstance(exc, ConfigError) else 500, str(exc), "assistant_error")
        return error(500, f"internal error ({type(exc).__name__}); see the server's log", "server_error")

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        if request.url.path.startswith("/v1/") and api_key:
            given = request.headers.get("authorization", "")
            scheme, _, token = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
                return error(401, "missing or wrong API key: send `Authorization: Bearer KEY`", "invalid_request_error", "invalid_api_key")
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > MAX_BODY_BYTES):
            return error(413, f"request body over {MAX_BODY_BYTES} bytes", "invalid_request_error", "request_too_large")
        try:
            return await call_next(request)
        except Exception as exc:  # never a traceback to the client
            return failure(exc)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail), "invalid_request_error")

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error(400, f"invalid request: {exc.errors()[:1]}", "invalid_request_error")

    async def body(request: Request) -> dict[str, Any]:
        raw = b""
        async for part in request.stream():
            raw += part
            if len(raw) > MAX_BODY_BYTES:
                raise BadRequest(f"request body over {MAX_BODY_BYTES} bytes")
        try:
            data = json.loads(raw or b"null")
        except ValueError:
            raise BadRequest("the body is not JSON") from None
        if not isinstance(data, dict):
            raise BadRequest("the body must be a JSON object")
        return data

    def answer_now(question: str, turns: list[tuple[str, str]], k: int | None) -> Answer:
        with pool.borrow() as bot:
            return _final(_events(bot, question, turns, k, stream=False))

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        try:
            data = await body(request)
            question, turns = conversation(data.get("messages"), max_question_chars)
            k = _top_k(data)
        except BadRequest as exc:
            return error(400, str(exc), "invalid_request_error")
        if not data.get("stream"):
            try:
                answer = await to_thread.run_sync(answer_now, question, turns, k)
            except Exception as exc:
                return failure(exc)
            return JSONResponse(completion(answer, answer.to_dict()))
        return _Stream(_sse(pool, question, turns, k, failure), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/v1/ask")
    async def ask(request: Request) -> Any:
        data = await body(request)
        question, _ = conversation([{"role": "user", "content": data.get("question")}], max_question_chars)
        answer = await to_thread.run_sync(answer_now, question, [], _top_k(data))
        return JSONResponse(answer.to_dict())

    @app.get("/v1/models")
    async def models() -> Any:
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "assistant"}]}

    def read(what: str) -> Any:
        with pool.borrow() as bot:
            if what == "documents":
                return [d.to_dict() for d in bot.documents()]
            info = bot.status().to_dict()
            return info | {"answers": "llm" if bot.chat_model is not None else "extractive", "model": MODEL}

    @app.get("/v1/documents")
    async def documents() -> Any:
        return JSONResponse(await to_thread.run_sync(read, "documents"))

    @app.get("/v1/status")
    async def status() -> Any:
        return JSONResponse(await to_thread.run_sync(read, "status"))

    @app.get("/healthz")
    async def healthz() -> Any:
        return {"status": "ok"}

    web = resources.files("assistant.interface") / "web"

    @app.get("/", response_class=HTMLResponse)
    async def page() -> Any:
        return HTMLResponse(web.joinpath("index.html").read_text(encoding="utf-8"))

    app.mount("/static", StaticFiles(directory=str(web)), name="static")
    return app


class _Stream(StreamingResponse):
    """Closes its events when the response ends however it ends: a client that left stops the answer at once."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()  # type: ignore[attr-defined]


def _top_k(data: dict[str, Any]) -> int | None:
    k = data.get("top_k", data.get("k"))
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 100):
        raise BadRequest("`top_k` must be an integer from 1 to 100")
    return k


def _events(bot: Any, question: str, turns: list[tuple[str, str]], k: int | None, *, stream: bool) -> Iterator[str | Answer]:
    """The answer's events, in the conversation the messages carried."""
    if not turns:
        return bot.answer_events(question, k, stream=stream)
    talk = bot.chat()
    talk.turns.extend(Answer(q, a, [], [], False, "extractive") for q, a in turns)
    return talk.stream(question, k) if stream else iter([talk.ask(question, k)])


def _final(events: Iterator[str | Answer]) -> Answer:
    for event in events:
        if isinstance(event, Answer):
            return event
    raise AssertionError("an answer stream ended without its answer")


async def _sse(pool: Pool, question: str, turns: list[tuple[str, str]], k: int | None, failure: Any) -> AsyncIterator[str]:
    """Server-sent events of one streamed answer. Each step runs in a worker thread; when the client goes away
    the generator is closed there, which closes the model's stream, and the assistant returns to the pool."""
    chunks = Chunks()
    with pool.borrow() as bot:
        events = _events(bot, question, turns, k, stream=True)
        streamed = ""
        try:
            yield _event(chunks.chunk({"role": "assistant", "content": ""}))
            while True:
                event = await to_thread.run_sync(next, events, None)
                if event is None:
                    break
                if isinstance(event, Answer):
                    for chunk in chunks.final(event, streamed, event.to_dict()):
                        yield _event(chunk)
                    break
                streamed += event
                yield _event(chunks.chunk({"content": event}))
        except Exception as exc:  # the stream has started: the error travels as an event
            yield _event(json.loads(failure(exc).body))
        finally:
            with CancelScope(shield=True):
                await to_thread.run_sync(getattr(events, "close", lambda: None))
    yield "data: [DONE]\n\n"


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def serve(host: str, port: int, overrides: dict[str, Any], *, api_key: str | None, cors_origins: tuple[str, ...], workers: int,
          max_question_chars: int) -> None:
    import uvicorn

    check_binding(host, api_key)
    app = create_app(overrides, api_key=api_key, workers=workers, cors_origins=cors_origins, max_question_chars=max_question_chars)

    def stopped(*_: Any) -> None:  # uvicorn re-raises SIGTERM after its graceful shutdown: then exit 0, not "killed"
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stopped)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=30)
    except KeyboardInterrupt:  # Ctrl-C: uvicorn finished the requests in flight
        pass
