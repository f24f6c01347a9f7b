"""Conversations for the chat-template fidelity test: every model's template
renders each of them (with and without the generation prompt), so each
template meets single and multi-turn chats, system prompts, tool
definitions, tool calls and results, multi-line, unicode and empty
content, reasoning, template variables (enable_thinking) and role orders
some templates reject (where Jinja2 raises, nomoat must raise too), plus
seeded random chats (random role orders, contents and options).
"""

NOW = 1767225600 + 13 * 3600 + 37 * 60  # a fixed clock for strftime_now: 2026-01-01 13:37 UTC

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Zürich or 東京"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            },
            "required": ["city"],
        },
    },
}

SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web.\nReturns the top results as \"title: url\" lines.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "max_results": {"type": "integer", "minimum": 1, "maximum": 50},
                "threshold": {"type": "number", "default": 0.5},
                "epsilon": {"type": "number", "default": 1e-05},
                "safe": {"type": "boolean", "default": True},
                "tags": {"type": "array", "items": {"type": "string"}},
                "filter": {"type": ["string", "null"], "default": None},
            },
            "required": ["query"],
        },
    },
}


def call(name, arguments, call_id="call_1"):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def user(text):
    return {"role": "user", "content": text}


def assistant(text, **extra):
    m = {"role": "assistant", "content": text}
    m.update(extra)
    return m


def system(text):
    return {"role": "system", "content": text}


def tool(text, call_id="call_1", name=None):
    m = {"role": "tool", "content": text, "tool_call_id": call_id}
    if name:
        m["name"] = name
    return m


UNICODE = "Grüße! 你好，世界。こんにちは 🌍👋🏽 مرحبا e\u0301 café\u00a0naïve ﬁ ß İ Σίσυφος \u3000end"
MULTILINE = "First line.\n\nSecond paragraph,\n  indented.\n\tTabbed.\n"
PADDED = "  \n  Hello with spaces around  \n\n"
SPECIAL = "Quotes ' \" and \\ backslashes, {{ braces }} {% not a tag %} {# nor this #} <|im_end|> </s> [INST]"


def base_conversations():
    """(name, messages, tools, extra) without the generation-prompt choice."""
    weather_calls = [call("get_weather", {"city": "Paris", "unit": "celsius"})]
    two_calls = [call("get_weather", {"city": "Paris"}, "call_1"), call("search", {"query": "Louvre hours", "tags": ["museum", "paris"]}, "call_2")]
    string_args = [call("get_weather", '{"city": "Berlin"}')]
    return [
        ("single_user", [user("Hello!")], None, {}),
        ("system_user", [system("You are a helpful assistant."), user("What is 2+2?")], None, {}),
        ("two_turns", [user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke.")], None, {}),
        ("multi_turn_system", [system("Be brief."), user("Capital of France?"), assistant("Paris."),
                               user("And of Italy?"), assistant("Rome."), user("Spain?")], None, {}),
        ("ends_with_assistant", [user("Write a haiku."), assistant("Autumn moonlight—\na worm digs silently\ninto the chestnut.")], None, {}),
        ("multiline", [system(MULTILINE), user(MULTILINE), assistant(MULTILINE), user("ok")], None, {}),
        ("padded_whitespace", [user(PADDED), assistant(PADDED), user("\n\n")], None, {}),
        ("unicode", [system(UNICODE), user(UNICODE), assistant(UNICODE), user("¿Qué tal? Ça va. Привет!")], None, {}),
        ("empty_content", [user(""), assistant(""), user("")], None, {}),
        ("special_characters", [user(SPECIAL), assistant(SPECIAL), user(SPECIAL)], None, {}),
        ("long_chat", sum([[user("Question %d: what is %d squared?" % (i, i)), assistant("%d squared is %d." % (i, i * i))]
                           for i in range(1, 7)], []) + [user("Thanks!")], None, {}),
        ("system_only", [system("You are a pirate.")], None, {}),
        ("no_messages", [], None, {}),
        ("tools_defined", [user("What's the weather in Paris?")], [WEATHER_TOOL, SEARCH_TOOL], {}),
        ("tools_with_system", [system("Use tools when needed."), user("Weather in Paris?")], [WEATHER_TOOL], {}),
        ("tool_call_round", [user("Weather in Paris?"), assistant("", tool_calls=weather_calls),
                             tool('{"temperature": 21, "condition": "sunny"}', name="get_weather"),
                             assistant("It is 21 °C and sunny in Paris.")], [WEATHER_TOOL], {}),
        ("tool_call_pending", [system("You can call tools."), user("Weather in Paris?"), assistant("", tool_calls=weather_calls),
                               tool('{"temperature": 21}')], [WEATHER_TOOL], {}),
        ("two_tool_calls", [user("Weather in Paris and Louvre hours?"), assistant("Let me check both.", tool_calls=two_calls),
                            tool('{"temperature": 19}', "call_1"), tool("Louvre: 9:00-18:00", "call_2"),
                            assistant("19 °C; the Louvre is open 9:00-18:00."), user("Thanks")], [WEATHER_TOOL, SEARCH_TOOL], {}),
        ("tool_call_string_arguments", [user("Weather in Berlin?"), assistant("", tool_calls=string_args),
                                        tool("cloudy, 12 °C")], [WEATHER_TOOL], {}),
        ("tool_call_null_content", [user("Weather in Berlin?"), assistant(None, tool_calls=string_args),
                                    tool("cloudy, 12 °C"), assistant("Cloudy and 12 °C.")], [WEATHER_TOOL], {}),
        ("tool_call_no_tools_list", [user("Weather in Paris?"), assistant("", tool_calls=weather_calls), tool("sunny")], None, {}),
        ("reasoning_content", [user("What is 17*3?"), assistant("51.", reasoning_content="17*3 = 51."), user("And 17*4?")], None, {}),
        ("think_in_content", [user("What is 6*7?"), assistant("<think>\n6*7 = 42\n</think>\n\nThe answer is 42."),
                              user("Thanks"), assistant("<think>polite</think>You're welcome!")], None, {}),
        ("enable_thinking_false", [user("Quick answer: capital of Japan?")], None, {"enable_thinking": False}),
        ("enable_thinking_true", [user("Think it through: 12*12?")], None, {"enable_thinking": True}),
        ("two_users_in_a_row", [user("Hello"), user("Are you there?")], None, {}),
        ("assistant_first", [assistant("Hi, I am the assistant."), user("Hi")], None, {}),
        ("system_in_middle", [user("Hi"), system("Switch to French."), user("Bonjour")], None, {}),
        ("content_parts", [user([{"type": "text", "text": "Describe this picture."}, {"type": "image"}])], None, {}),
        ("extra_message_keys", [{"role": "user", "content": "Hi", "name": "alice"},
                                {"role": "assistant", "content": "Hello Alice", "name": "bot"}, user("bye")], None, {}),
        ("numeric_content", [user(42), assistant(3.5), user(True)], None, {}),
    ]


PIECES = ["Hello", "world", "?", "!", " ", "  ", "\n", "\n\n", "\t", "\u3000", "\u00a0", "é", "你好", "🌍", "'", '"',
          "\\", "{{ x }}", "{% if %}", "<think>", "</think>", "<tool_response>", "</tool_response>", "<|im_end|>",
          "1.5", "null", "Σ", "ß", "\r\n", "-", "#", "`", "```json\n{}\n```"]


def random_text(rng):
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8)))


def random_message(rng, index):
    role = rng.choice(["user", "user", "assistant", "assistant", "system", "tool"])
    m = {"role": role, "content": random_text(rng)}
    if role == "assistant" and rng.random() < 0.25:
        arguments = {"city": random_text(rng)} if rng.random() < 0.5 else '{"q": "%s"}' % rng.choice(["x", "y z"])
        m["tool_calls"] = [call(rng.choice(["get_weather", "search"]), arguments, "call_%d" % index)]
        if rng.random() < 0.3:
            m["content"] = None
    if role == "assistant" and rng.random() < 0.15:
        m["reasoning_content"] = random_text(rng)
    if role == "tool":
        m["tool_call_id"] = "call_%d" % index
    return m


def random_conversations(count, seed=20260101):
    """Seeded random chats: role orders, contents and options no one chose by hand."""
    import random
    rng = random.Random(seed)
    out = []
    for i in range(count):
        messages = [random_message(rng, k) for k in range(rng.randint(1, 7))]
        if rng.random() < 0.5:  # most real chats alternate user/assistant
            messages = [m if m["role"] not in ("tool", "system") or k == 0 else dict(m, role="user")
                        for k, m in enumerate(messages)]
        case = {"messages": messages,
                "tools": [WEATHER_TOOL, SEARCH_TOOL] if rng.random() < 0.3 else None,
                "add_generation_prompt": rng.random() < 0.5,
                "extra": {"enable_thinking": rng.random() < 0.5} if rng.random() < 0.3 else {}}
        out.append(("random_%02d" % i, case))
    return out


def conversations():
    out = random_conversations(40)
    for name, messages, tools, extra in base_conversations():
        for gen in (False, True):
            case = {"messages": messages, "tools": tools, "add_generation_prompt": gen, "extra": extra}
            out.append((name + ("/gen" if gen else "/nogen"), case))
    return out
