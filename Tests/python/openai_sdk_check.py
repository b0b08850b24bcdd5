"""The official openai Python SDK against a live Parley in front of `parley mock-llm`.

Run by OpenAISDKTests (Swift) as: python3 openai_sdk_check.py BASE_URL API_KEY
Prints one line per check and exits non-zero if any failed.
"""
import sys

import openai

base_url, api_key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=30)
failures = []


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + (f": {detail}" if detail and not condition else ""))
    if not condition:
        failures.append(name)


def expect_error(name, error_type, call):
    try:
        call()
    except error_type as error:
        check(name, True)
        return error
    except Exception as error:  # noqa: BLE001 - any other type is the failure being reported
        check(name, False, f"raised {type(error).__name__}: {error}")
        return None
    check(name, False, "no error raised")
    return None


def user(text):
    return [{"role": "user", "content": text}]


WORDS = ["Lorem", "ipsum", "dolor", "sit", "amet,", "consectetur", "adipiscing", "elit."]


def reply(tokens):
    """The mock's reply of `tokens` tokens, as MockScript.replyTokens builds it."""
    return "".join(WORDS[i % len(WORDS)] if i == 0 else " " + WORDS[i % len(WORDS)] for i in range(tokens))



# Models
ids = [model.id for model in client.models.list().data]
check("models.list", ids[:2] == ["mock-1", "mock-2"], ids)
check("models.retrieve", client.models.retrieve("mock-2").id == "mock-2")

# Chat, not streamed
completion = client.chat.completions.create(model="mock-1", messages=user("hi mock:tokens=5"))
check("chat content", completion.choices[0].message.content == reply(5), completion.choices[0].message.content)
check("chat finish_reason", completion.choices[0].finish_reason == "stop")
check("chat usage", completion.usage is not None and completion.usage.completion_tokens == 5, completion.usage)

raw = client.chat.completions.with_raw_response.create(model="mock-1", messages=user("retry me mock:tokens=2 mock:fault=500 mock:fault_times=1"))
check("500 then success is retried", raw.headers.get("x-parley-attempts") == "2", dict(raw.headers))
check("served-by header", raw.headers.get("x-parley-deployment") == "mock/mock-1", dict(raw.headers))
check("retried answer", raw.parse().choices[0].message.content == "Lorem ipsum")

# Chat, streamed, with usage
text, usage, chunks = "", None, 0
for chunk in client.chat.completions.create(model="mock-1", messages=user("stream mock:tokens=8"), stream=True,
                                            stream_options={"include_usage": True}):
    chunks += 1
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
    if chunk.usage:
        usage = chunk.usage
check("stream text", text == reply(8), text)
check("stream chunks", chunks >= 9, chunks)
check("stream usage", usage is not None and usage.completion_tokens == 8 and usage.prompt_tokens > 0, usage)

# Extra fields an OpenAI client may send pass through to an OpenAI-compatible upstream
passed = client.chat.completions.create(model="mock-1", messages=user("extra mock:tokens=1"), seed=7,
                                        extra_body={"vendor_option": {"a": 1}})
check("unknown fields accepted", passed.choices[0].message.content == "Lorem")

# Embeddings
embeddings = client.embeddings.create(model="mock-1", input=["first", "second"])
check("embeddings count", len(embeddings.data) == 2)
check("embeddings vectors", all(len(item.embedding) == 8 for item in embeddings.data))
# The built-in embedding model, when the test serves one (the SDK asks for base64 by default and decodes it).
if len(sys.argv) > 3:
    local = client.embeddings.create(model=sys.argv[3], input=["How long is the warranty?", "The warranty lasts two years."])
    check("local embeddings", [len(item.embedding) for item in local.data] == [384, 384])
    norms = [sum(value * value for value in item.embedding) for item in local.data]
    check("local embeddings are unit vectors", all(abs(norm - 1) < 1e-3 for norm in norms))
    similarity = sum(a * b for a, b in zip(local.data[0].embedding, local.data[1].embedding))
    check("local embeddings carry meaning", similarity > 0.5)
    check("local embeddings usage", local.usage.prompt_tokens > 0)

# A stream cut mid-way: a clean error after the text that arrived, never a hang
received = ""


def read_cut_stream():
    global received
    for chunk in client.chat.completions.create(model="mock-1", messages=user("cut mock:tokens=20 mock:fault=cut"), stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            received += chunk.choices[0].delta.content


expect_error("stream cut raises APIError", openai.APIError, read_cut_stream)
check("stream cut keeps what arrived", received == reply(10), received)

# The SDK's own error types
bad_key = openai.OpenAI(base_url=base_url, api_key="sk-wrong", max_retries=0, timeout=30)
expect_error("401 AuthenticationError", openai.AuthenticationError, lambda: bad_key.models.list())
not_found = expect_error("unknown model NotFoundError", openai.NotFoundError,
                         lambda: client.chat.completions.create(model="no-such-model", messages=user("x")))
check("unknown model code", not_found is not None and not_found.code == "model_not_found")
bad = expect_error("bad parameter BadRequestError", openai.BadRequestError,
                   lambda: client.chat.completions.create(model="mock-1", messages=user("x"), temperature=7))
check("bad parameter names it", bad is not None and bad.param == "temperature")
expect_error("empty messages BadRequestError", openai.BadRequestError,
             lambda: client.chat.completions.create(model="mock-1", messages=[]))
limited = expect_error("429 RateLimitError", openai.RateLimitError,
                       lambda: client.chat.completions.create(model="mock-2", messages=user("x mock:fault=429 mock:retry_after=60")))
check("429 carries Retry-After", limited is not None and limited.response.headers.get("retry-after") == "60")

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
