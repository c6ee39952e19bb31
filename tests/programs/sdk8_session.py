"""A typical session with the official SDK 8.x + ``pinecone-plugin-assistant``, unmodified.

Run by ``tests/test_official_sdk8.py`` in a subprocess whose ``PYTHONPATH`` holds only that SDK
(it cannot share an environment with the 10.x SDK). Hosts come from the plugin's own environment
variables; arguments: the API key, a directory to write the test file in. Prints one JSON object
of what it saw, for the test to check.
"""

import json
import sys
from pathlib import Path
from typing import Any

import pinecone
from pinecone import Pinecone
from pinecone_plugins.assistant.models.chat import Message

key, workdir = sys.argv[1], Path(sys.argv[2])
policy = workdir / "policy.txt"
policy.write_text(
    "Warranty\n\nThe warranty covers parts and labour for two years.\n\n"
    "Returns\n\nReturns are accepted within 30 days of delivery.\n"
)
seen: dict[str, Any] = {"sdk_version": pinecone.__version__}
pc = Pinecone(api_key=key)

created = pc.assistant.create_assistant(
    assistant_name="legacy-eight", instructions="Be brief.", metadata={"v": 8}, timeout=30
)
seen["created"] = [created.name, created.status]
assistant = pc.assistant.Assistant(assistant_name="legacy-eight")

uploaded = assistant.upload_file(file_path=str(policy), metadata={"kind": "policy"}, timeout=30)
seen["uploaded"] = [uploaded.name, uploaded.status]
seen["listed"] = [f.id == uploaded.id for f in assistant.list_files(filter={"kind": "policy"})]

reply = assistant.chat(messages=[Message(role="user", content="How long is the warranty?")])
seen["chat"] = reply.message.content
seen["cited"] = reply.citations[0].references[0].file.name

context = assistant.context(query="When are returns accepted?")
seen["context"] = context.snippets[0].content

result = pc.assistant.evaluation.metrics.alignment(
    question="How long is the warranty?",
    answer="The warranty covers two years.",
    ground_truth_answer="The warranty covers parts and labour for two years.",
)
seen["alignment"] = result.metrics.alignment

# Both delete waits describe once right after the DELETE, then poll every 5 s until a 404.
assistant.delete_file(file_id=uploaded.id, timeout=30)
seen["files_after_delete"] = len(assistant.list_files())
pc.assistant.delete_assistant(assistant_name="legacy-eight", timeout=30)
seen["assistants_after_delete"] = [a.name for a in pc.assistant.list_assistants()]

print(json.dumps(seen))
