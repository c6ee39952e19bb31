"""The aiopinecone benchmark suite: ``python -m benchmarks`` (see ``benchmarks/RESULTS.md``).

Client cost per request (``client_cost``), fleet provisioning (``provision_fleet``), memory of
streamed uploads and chat answers (``upload_memory``, ``stream_memory``) and scale with
concurrency (``scale``); ``_harness`` holds what they share (the emulator in its own process,
CPU and RSS meters, interleaved rounds, the report writers).
"""
