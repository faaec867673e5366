"""Chat models: one small protocol and its OpenAI-compatible implementation.

:class:`OpenAIChatModel` speaks chat completions (plain and streaming) to any
OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp's server) through
the official ``openai`` client, created on first use. The client's own retry
loop handles 429/5xx and connection errors with exponential backoff; every
failure that is left surfaces as :class:`LLMError` with a one-line reason that
never contains the API key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import SecretStr

from assistant.settings import Settings

Message = dict[str, str]


class LLMError(Exception):
    """The model could not give an answer; ``str(error)`` is a one-line, key-free reason."""


@dataclass
class Completion:
    text: str
    usage: dict[str, int] = field(default_factory=dict)


class ChatModel(Protocol):
    name: str

    def complete(self, messages: list[Message], max_tokens: int) -> Completion: ...

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str | Completion]:
        """Yield text deltas as they arrive, then one final :class:`Completion`."""
        ...


class OpenAIChatModel:
    def __init__(self, settings: Settings, client: Any = None) -> None:
        assert settings.llm_model is not None
        self.name = settings.llm_model
        self.settings = settings
        self._client = client
        self._usage_in_stream = True  # off once the server refuses stream_options (older vLLM, some proxies)

    def _get(self) -> Any:
        if self._client is None:
            self._client = openai_client(self.settings.llm_api_key, self.settings.llm_base_url, self.settings)
        return self._client

    def _where(self) -> str:
        return self.settings.llm_base_url or "the OpenAI API"

    def complete(self, messages: list[Message], max_tokens: int) -> Completion:
        try:
            response = self._get().chat.completions.create(
                model=self.name, messages=messages, max_tokens=max_tokens, temperature=self.settings.llm_temperature
            )
            text = response.choices[0].message.content if response.choices else None
        except Exception as exc:
            raise LLMError(describe_failure(exc, self._where())) from None
        if not text or not text.strip():
            raise LLMError(f"the model at {self._where()} returned an empty answer")
        usage = response.usage
        return Completion(text, _usage(usage))

    def _open_stream(self, messages: list[Message], max_tokens: int) -> Any:
        import openai

        request = {"model": self.name, "messages": messages, "max_tokens": max_tokens,
                   "temperature": self.settings.llm_temperature, "stream": True}
        if self._usage_in_stream:
            try:
                return self._get().chat.completions.create(**request, stream_options={"include_usage": True})
            except openai.BadRequestError as exc:
                if "stream_options" not in str(exc):
                    raise
                self._usage_in_stream = False  # token usage is then estimated
        return self._get().chat.completions.create(**request)

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str | Completion]:
        parts: list[str] = []
        usage: dict[str, int] = {}
        stream: Any = None
        try:
            stream = self._open_stream(messages, max_tokens)
            for event in stream:
                if getattr(event, "usage", None):
                    usage = _usage(event.usage)
                for choice in event.choices or []:
                    delta = choice.delta.content if choice.delta else None
                    if delta:
                        parts.append(delta)
                        yield delta
        except Exception as exc:
            raise LLMError(describe_failure(exc, self._where())) from None
        finally:  # also when our reader stops early (a client left): the model stops writing
            if stream is not None and hasattr(stream, "close"):
                stream.close()
        text = "".join(parts)
        if not text.strip():
            raise LLMError(f"the model at {self._where()} returned an empty answer")
        yield Completion(text, usage)


OPENAI_API_BASE = "https://api.openai.com/v1"


def openai_client(key: SecretStr | None, base_url: str | None, settings: Settings) -> Any:
    """The official client, built on first use; its own retry loop backs off on 429/5xx and dropped connections."""
    import openai

    return openai.OpenAI(
        api_key=key.get_secret_value() if key else "not-needed",  # local servers want no key
        base_url=base_url or OPENAI_API_BASE,  # explicit: the client would otherwise read OPENAI_BASE_URL behind the settings' back
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
    )


def _usage(usage: Any) -> dict[str, int]:
    if usage is None:
        return {}
    return {"prompt_tokens": int(usage.prompt_tokens or 0), "completion_tokens": int(usage.completion_tokens or 0)}


def describe_failure(exc: BaseException, where: str) -> str:
    """One line for any failure of a chat request; built from the error's type, never its text (keys hide there)."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return f"the model at {where} did not answer in time (timeout)"
    if isinstance(exc, openai.APIConnectionError):
        return f"the model at {where} cannot be reached (connection refused or dropped)"
    if isinstance(exc, openai.AuthenticationError):
        return f"the model at {where} refused the API key (401); check ASSISTANT_LLM_API_KEY"
    if isinstance(exc, openai.NotFoundError):
        return f"the model at {where} does not know this model or path (404); check ASSISTANT_LLM_MODEL and ASSISTANT_LLM_BASE_URL"
    if isinstance(exc, openai.RateLimitError):
        return f"the model at {where} is rate-limiting requests (429) even after retries"
    if isinstance(exc, openai.APIStatusError):
        return f"the model at {where} failed with HTTP {exc.status_code} after retries"
    return f"the model at {where} sent a malformed response ({type(exc).__name__})"


def make_chat_model(settings: Settings) -> ChatModel | None:
    return OpenAIChatModel(settings) if settings.llm_enabled else None
