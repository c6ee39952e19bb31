"""The aiopinecone benchmark suite: ``python -m benchmarks`` (see ``benchmarks/RESULTS.md``).

Client cost per request (``client_cost``), fleet provisioning (``provision_fleet``), memory of
streamed uploads and chat answers (``upload_memory``, ``stream_memory``), scale with
concurrency (``scale``) and cold start, import and first response (``cold_start``);
``_harness`` holds what they share (the emulator in its own process, CPU and RSS meters,
interleaved rounds, the report writers).
"""
