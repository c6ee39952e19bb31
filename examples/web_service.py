"""An async web service that shares one aiopinecone client across all handlers.

The client is opened once in the application's lifespan (aiohttp's ``cleanup_ctx``) and closed on
shutdown, so every request reuses the same connection pool.

Run it against the embedded emulator (no Pinecone account needed)::

    python examples/web_service.py --emulator

then ``curl 'http://127.0.0.1:8080/ask?assistant=support&q=How+do+refunds+work'``.
With a real account, set ``PINECONE_API_KEY`` and drop ``--emulator``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from aiohttp import web

import aiopinecone

CLIENT_KEY = web.AppKey("pinecone", aiopinecone.AsyncPinecone)


def build_app(client_factory: Callable[[], aiopinecone.AsyncPinecone]) -> web.Application:
    """Build the web application; ``client_factory`` makes the shared client at startup."""

    async def pinecone_lifespan(app: web.Application) -> AsyncIterator[None]:
        async with client_factory() as client:
            app[CLIENT_KEY] = client
            yield

    async def ask(request: web.Request) -> web.Response:
        assistant = request.query.get("assistant", "")
        question = request.query.get("q", "")
        if not assistant or not question:
            raise web.HTTPBadRequest(text="pass ?assistant=NAME&q=QUESTION")
        try:
            answer = await request.app[CLIENT_KEY].assistants.chat(
                assistant_name=assistant,
                messages=[{"role": "user", "content": question}],
            )
        except aiopinecone.NotFoundError:
            raise web.HTTPNotFound(text=f"no assistant named {assistant!r}") from None
        except aiopinecone.ValidationError as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return web.json_response(
            {
                "answer": answer.message.content,
                "citations": len(answer.citations),
            }
        )

    app = web.Application()
    app.cleanup_ctx.append(pinecone_lifespan)
    app.router.add_get("/ask", ask)
    return app


async def _seed_demo_assistant(url: str, api_key: str) -> None:
    async with aiopinecone.AsyncPinecone(api_key=api_key, host=url) as client:
        await client.assistants.create(name="support", instructions="Answer briefly.", wait=True)
        await client.assistants.upload_file(
            assistant_name="support",
            file=b"Refunds are issued within 14 days of a return. Shipping is free over 50 EUR.",
            file_name="policies.txt",
            wait=True,
        )


async def _serve(port: int, use_emulator: bool) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if use_emulator:
            from aiopinecone.emulator import Emulator

            emulator = await stack.enter_async_context(Emulator(api_keys=("demo-key",)))
            await _seed_demo_assistant(emulator.url, "demo-key")
            app = build_app(
                lambda: aiopinecone.AsyncPinecone(api_key="demo-key", host=emulator.url)
            )
        else:
            app = build_app(aiopinecone.AsyncPinecone)
        runner = web.AppRunner(app)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print(f"serving on http://127.0.0.1:{port}/ask?assistant=support&q=refunds", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--emulator", action="store_true", help="serve against a local emulator")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.emulator))


if __name__ == "__main__":
    main()
