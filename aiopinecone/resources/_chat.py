"""Chat, OpenAI-style chat completions and context retrieval (streams: ``_streams``).

A streamed call sends the request and waits for the response head before it returns, so a bad
request or a missing assistant raises at the ``await``. The returned stream is an async iterator
and an async context manager: leaving ``async with``, calling :meth:`ChatStream.aclose`,
exhausting it, breaking out of the loop once the stream object is dropped, or cancelling the
task that reads it all release the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

from ..exceptions import ValidationError
from ._common import Resource, Timeout, json_filter

if TYPE_CHECKING:
    from .._admission import TokenCharge
    from .._core import Core
    from .._retry import RetryPolicy
    from .._sse import SSEEvent
    from ..models.chat import ChatCompletion, ChatResponse, ContextOptions, Message, Usage
    from ..models.context import ContextResponse
    from ._streams import ChatCompletionStream, ChatStream, S

# The chat area (its models, the body checks, the streams and the SSE parser) is imported
# inside the methods: `import aiopinecone` does not load it ("Import weight" in
# docs/architecture.md). After the first call such an import is a dictionary lookup.

__all__ = ["ChatMixin"]


def _charge(core: Core, body: dict[str, Any]) -> TokenCharge | None:
    """The call's input tokens for the governor's token budget (None: no governor)."""
    if core.admission is None:
        return None
    from .._admission import TokenCharge
    from .._governor._tokens import text_tokens

    return TokenCharge(text_tokens(body))


def _spent(charge: TokenCharge | None, usage: Usage | None) -> None:
    """Settle the charge with the answer's count (``None``: no count, keep the estimate)."""
    if charge is not None:
        charge.settle(None if usage is None else usage.prompt_tokens)


class _Counted(Protocol):
    """An answer that reports the input tokens it counted."""

    @property
    def usage(self) -> Usage | None: ...


_Answer = TypeVar("_Answer", bound=_Counted)


# -- the mixin ---------------------------------------------------------------------------------


class ChatMixin(Resource):
    """``pc.assistants`` chat, chat completions and context methods."""

    async def _charged(
        self,
        model: type[_Answer],
        assistant_name: str,
        path: str,
        *,
        op: str,
        body: dict[str, Any],
        retry: RetryPolicy | None,
        timeout: Timeout,
    ) -> _Answer:
        """POST ``body`` and parse the answer; its token charge is settled with the answer's
        count (or its estimate, when no count came)."""
        charge = _charge(self._core, body)
        try:
            response = await self._router.request(
                assistant_name,
                "POST",
                path,
                op=op,
                json=body,
                idempotent=True,
                retry=retry,
                timeout=timeout,
                tokens=charge,
            )
            answer = self._core.parse(response, model)
            _spent(charge, answer.usage)
        finally:
            _spent(charge, None)
        return answer

    async def _charged_stream(
        self,
        cls: type[S],
        parse: Callable[[SSEEvent], Any],
        assistant_name: str,
        path: str,
        *,
        op: str,
        body: dict[str, Any],
        retry: RetryPolicy | None,
        read_timeout: float | None,
    ) -> S:
        """POST ``body`` for a streamed answer; the stream settles the token charge."""
        from ._streams import open_stream

        charge = _charge(self._core, body)
        return await open_stream(
            cls,
            self._router.stream(
                assistant_name,
                path,
                op=op,
                json=body,
                retry=retry,
                read_timeout=read_timeout,
                tokens=charge,
            ),
            parse,
            self._core.redactor,
            charge,
        )

    @overload
    async def chat(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = ...,
        temperature: float | None = ...,
        filter: Mapping[str, Any] | None = ...,
        json_response: bool | None = ...,
        include_highlights: bool | None = ...,
        context_options: ContextOptions | Mapping[str, Any] | None = ...,
        stream: Literal[False] = ...,
        read_timeout: float | None = ...,
        retry: RetryPolicy | None = ...,
        timeout: Timeout = ...,
    ) -> ChatResponse: ...

    @overload
    async def chat(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = ...,
        temperature: float | None = ...,
        filter: Mapping[str, Any] | None = ...,
        json_response: bool | None = ...,
        include_highlights: bool | None = ...,
        context_options: ContextOptions | Mapping[str, Any] | None = ...,
        stream: Literal[True],
        read_timeout: float | None = ...,
        retry: RetryPolicy | None = ...,
        timeout: Timeout = ...,
    ) -> ChatStream: ...

    async def chat(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = None,
        temperature: float | None = None,
        filter: Mapping[str, Any] | None = None,
        json_response: bool | None = None,
        include_highlights: bool | None = None,
        context_options: ContextOptions | Mapping[str, Any] | None = None,
        stream: bool = False,
        read_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> ChatResponse | ChatStream:
        """Chat with an assistant; the answer comes with structured citations.

        ``messages``: the conversation, each a :class:`~aiopinecone.models.Message` or a
        mapping ``{"role": "user" | "assistant", "content": "..."}`` (role defaults to
        ``user``). ``model`` (server default ``gpt-4o``), ``temperature``, ``filter`` (metadata
        filter on the files used), ``json_response`` (not with ``stream``),
        ``include_highlights`` and ``context_options`` (``top_k``, ``snippet_size``; from
        2025-10 ``multimodal``, ``include_binary_content``) are sent only when given.

        Returns a :class:`~aiopinecone.models.ChatResponse`, or with ``stream=True`` an open
        :class:`ChatStream` (use it as ``async with``, or iterate it to the end). A stream has
        no total timeout; ``read_timeout`` seconds of silence (default: the client's stream read
        timeout) end it with :class:`~aiopinecone.RequestTimeoutError`. ``timeout`` is the total
        timeout of a non-streamed call.
        """
        from ..models.chat import ChatResponse
        from ._chat_body import (
            check_context_options,
            check_flag,
            check_messages,
            check_model,
            check_read_timeout,
            check_temperature,
        )

        core = self._core
        self._check_name(assistant_name)
        body: dict[str, Any] = {"messages": check_messages(messages, core.api_version)}
        if model is not None:
            body["model"] = check_model(model)
        if temperature is not None:
            body["temperature"] = check_temperature(temperature)
        if filter is not None:
            body["filter"] = json_filter(filter)
        if json_response is not None:
            body["json_response"] = check_flag(json_response, "json_response")
        if include_highlights is not None:
            body["include_highlights"] = check_flag(include_highlights, "include_highlights")
        if context_options is not None:
            options = check_context_options(context_options, core.api_version)
            if options:
                body["context_options"] = options
        path = f"/chat/{assistant_name}"
        if check_flag(stream, "stream"):
            if json_response:
                raise ValidationError("json_response=True cannot be combined with stream=True")
            body["stream"] = True
            from ._streams import ChatStream, chat_chunk

            return await self._charged_stream(
                ChatStream,
                chat_chunk,
                assistant_name,
                path,
                op="chat",
                body=body,
                retry=retry,
                read_timeout=check_read_timeout(read_timeout),
            )
        return await self._charged(
            ChatResponse,
            assistant_name,
            path,
            op="chat",
            body=body,
            retry=retry,
            timeout=timeout,
        )

    @overload
    async def chat_completions(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = ...,
        temperature: float | None = ...,
        filter: Mapping[str, Any] | None = ...,
        stream: Literal[False] = ...,
        read_timeout: float | None = ...,
        retry: RetryPolicy | None = ...,
        timeout: Timeout = ...,
    ) -> ChatCompletion: ...

    @overload
    async def chat_completions(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = ...,
        temperature: float | None = ...,
        filter: Mapping[str, Any] | None = ...,
        stream: Literal[True],
        read_timeout: float | None = ...,
        retry: RetryPolicy | None = ...,
        timeout: Timeout = ...,
    ) -> ChatCompletionStream: ...

    async def chat_completions(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = None,
        temperature: float | None = None,
        filter: Mapping[str, Any] | None = None,
        stream: bool = False,
        read_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> ChatCompletion | ChatCompletionStream:
        """Chat through the OpenAI-compatible interface (citations inline in the text).

        Returns a :class:`~aiopinecone.models.ChatCompletion`, or with ``stream=True`` an open
        :class:`ChatCompletionStream` of :class:`~aiopinecone.models.ChatCompletionChunk`.
        Arguments as for :meth:`chat`.
        """
        from ..models.chat import ChatCompletion
        from ._chat_body import (
            check_flag,
            check_messages,
            check_model,
            check_read_timeout,
            check_temperature,
        )

        core = self._core
        self._check_name(assistant_name)
        body: dict[str, Any] = {"messages": check_messages(messages, core.api_version)}
        if model is not None:
            body["model"] = check_model(model)
        if temperature is not None:
            body["temperature"] = check_temperature(temperature)
        if filter is not None:
            body["filter"] = json_filter(filter)
        path = f"/chat/{assistant_name}/chat/completions"
        if check_flag(stream, "stream"):
            body["stream"] = True
            from ._streams import ChatCompletionStream, completion_chunk

            return await self._charged_stream(
                ChatCompletionStream,
                completion_chunk,
                assistant_name,
                path,
                op="chat_completions",
                body=body,
                retry=retry,
                read_timeout=check_read_timeout(read_timeout),
            )
        return await self._charged(
            ChatCompletion,
            assistant_name,
            path,
            op="chat_completions",
            body=body,
            retry=retry,
            timeout=timeout,
        )

    async def context(
        self,
        *,
        assistant_name: str,
        query: str | None = None,
        messages: Sequence[Message | Mapping[str, str]] | None = None,
        filter: Mapping[str, Any] | None = None,
        top_k: int | None = None,
        snippet_size: int | None = None,
        multimodal: bool | None = None,
        include_binary_content: bool | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> ContextResponse:
        """The snippets the assistant retrieves for ``query`` (or ``messages``), best first.

        Exactly one of ``query`` and ``messages``. ``top_k`` (1-64, default 16),
        ``snippet_size`` (512-8192 tokens, default 2048); from 2025-10 ``multimodal`` (image
        snippets too) and ``include_binary_content`` (their base64 data).
        """
        from ..models.context import ContextResponse
        from ._chat_body import check_messages, retrieval_options

        core = self._core
        self._check_name(assistant_name)
        if (query is None) == (messages is None):
            raise ValidationError("pass exactly one of query= or messages=")
        body: dict[str, Any] = {}
        if query is not None:
            if not isinstance(query, str) or not query.strip():
                raise ValidationError(f"query must be a non-empty string, got {query!r}")
            body["query"] = query
        else:
            body["messages"] = check_messages(messages, core.api_version)
        if filter is not None:
            body["filter"] = json_filter(filter)
        body.update(
            retrieval_options(
                core.api_version,
                where="",
                top_k=top_k,
                snippet_size=snippet_size,
                multimodal=multimodal,
                include_binary_content=include_binary_content,
            )
        )
        return await self._charged(
            ContextResponse,
            assistant_name,
            f"/chat/{assistant_name}/context",
            op="context",
            body=body,
            retry=retry,
            timeout=timeout,
        )
