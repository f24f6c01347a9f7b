#!/usr/bin/python3
"""Writes the tokenizer comparison corpus as a JSON array of strings.

Usage: tokenizer_corpus.py OUTPUT.json

The corpus is deterministic (fixed seed, no dependence on the environment),
so its hash can key cached reference results. Standard library only.
Every string is valid UTF-8 (no lone surrogates): the engines under test
take UTF-8 bytes, and the JavaScript reference takes UTF-16 strings.
"""

import json
import random
import sys

SEED = 20240611

# Short original sentences per script. Kept as plain text so that the
# mixers below can cut and recombine them.
PROSE = {
    "english": [
        "The quick brown fox jumps over the lazy dog.",
        "I can't believe it's already Tuesday; we'll need to hurry.",
        "She said: \"Don't touch that!\" and walked away.",
        "In 1969, humans first walked on the Moon.",
        "Tokenizers split text into pieces that a model can read.",
        "THE MEETING IS AT 10AM, NOT 11AM!!!",
        "They're sure you've seen what I'd done, haven't they?",
        "e-mail me at someone@example.com or visit https://example.org/path?q=1&r=2",
    ],
    "french": [
        "L'été dernier, nous sommes allés à la plage près de Nice.",
        "Où est la bibliothèque ? Elle est fermée aujourd'hui.",
        "Ça coûte douze euros cinquante, s'il vous plaît.",
    ],
    "german": [
        "Die Straßenbahn fährt über die Brücke nach Köln.",
        "Größenverhältnisse ändern sich nicht über Nacht.",
        "Donaudampfschifffahrtsgesellschaftskapitän ist ein langes Wort.",
    ],
    "spanish": [
        "¿Dónde está el niño? ¡Está en el jardín!",
        "La señora compró años de provisiones en mañanas frías.",
    ],
    "polish": ["Zażółć gęślą jaźń, powiedział źle uśmiechnięty żółw."],
    "vietnamese": ["Tiếng Việt có nhiều dấu thanh điệu phức tạp lắm."],
    "turkish": ["İstanbul'da ılık bir sabah, ağaçlar çiçek açmıştı."],
    "greek": ["Η γρήγορη καφέ αλεπού πηδάει πάνω από το τεμπέλικο σκυλί."],
    "russian": [
        "Съешь же ещё этих мягких французских булок, да выпей чаю.",
        "Москва — столица России, а Нева течёт через Петербург.",
        "Привет, как дела? Всё хорошо, спасибо!",
    ],
    "ukrainian": ["Їжак ґречно з'їв щавлю й п'ять груш."],
    "chinese": [
        "我们今天去公园散步，天气非常好。",
        "机器学习模型需要大量的数据进行训练。",
        "你好，世界！这是一个测试句子。",
        "北京是中华人民共和国的首都。",
    ],
    "japanese": [
        "今日は良い天気ですね。散歩に行きましょう。",
        "カタカナとひらがなと漢字が混ざっています。",
        "東京タワーは１９５８年に完成しました。",
    ],
    "korean": [
        "안녕하세요, 만나서 반갑습니다.",
        "한국어 문장은 띄어쓰기가 중요합니다.",
    ],
    "arabic": [
        "مرحبا بالعالم، كيف حالك اليوم؟",
        "اللغة العربية تكتب من اليمين إلى اليسار.",
        "عدد الطلاب ١٢٣ طالباً في المدرسة.",
    ],
    "hebrew": ["שלום עולם, מה שלומך היום?"],
    "hindi": [
        "नमस्ते, आप कैसे हैं? मैं ठीक हूँ।",
        "भारत एक विशाल देश है जिसमें अनेक भाषाएँ बोली जाती हैं।",
        "संख्या १२३४ देवनागरी अंकों में लिखी गई है।",
    ],
    "bengali": ["আমি বাংলায় গান গাই।"],
    "tamil": ["தமிழ் மொழி மிகவும் பழமையானது."],
    "thai": ["ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ"],
    "armenian": ["Բարեւ աշխարհ"],
    "georgian": ["გამარჯობა მსოფლიო"],
    "amharic": ["ሰላም ለዓለም"],
}

EMOJI = [
    "😀", "🙂", "😂", "🤖", "🚀", "❤️", "👍", "👍🏽", "👋🏿", "🇺🇸", "🇯🇵", "🇩🇪", "🏳️‍🌈",
    "👨‍👩‍👧‍👦", "👩‍💻", "🧑🏻‍🚀", "🤷‍♀️", "1️⃣", "#️⃣", "©️", "🫠", "🦀", "🐍", "☕", "✨",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",  # tag sequence (supplementary tag characters)
]

CODE = [
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += v[i];\n}",
    "const x = arr.map((v) => v * 2).filter(Boolean);",
    "#include <vector>\nint main() { std::vector<int> v{1, 2, 3}; return v.size(); }",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "fn main() {\n    let s: &str = \"hi\";\n    println!(\"{s}\");\n}",
    "<div class=\"row\"><span id='a'>&nbsp;x &lt; y</span></div>",
    "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}",
    "if [ -f ~/.bashrc ]; then source ~/.bashrc; fi",
    "x = re.compile(r'^(?:[a-z0-9_-]+)\\.(?P<ext>\\w{2,4})$')",
    "    indented_line = True\n        deeper = [i ** 2 for i in range(10)]\n",
    "/* comment */ // another\n#define MAX(a,b) ((a)>(b)?(a):(b))",
    "public static void main(String[] args) throws IOException {}",
    "a+=1;b-=2;c*=3;d/=4;e%=5;f<<=6;g>>=7;h&=8;i|=9;j^=10;",
    "$ git commit -m \"fix: handle CRLF\" && git push origin main",
    "\tkey:\n\t\t- item1\n\t\t- item2\n",
    "λx.λy.x (Church true) ⊢ ∀a ∈ ℕ: a ≥ 0 ∧ ¬(a < 0)",
    "matrix[i][j] = (i == j) ? 1.0f : 0.0f;",
    "print(f\"{value!r:>10}\")  # right-aligned repr",
    "<?php echo $var; ?>",
    "```python\nprint('hello')\n```",
]

SPECIALS = [
    "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>",
    "<|reserved_special_token_0|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|fim_prefix|>",
    "<think>", "</think>", "<tool_call>", "</tool_call>", "<start_of_turn>", "<end_of_turn>", "<bos>",
    "<eos>", "<pad>", "<mask>", "<unused0>", "[multimodal]", "<start_of_image>", "<s>", "</s>", "<unk>",
    "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<｜tool▁sep｜>",
    "<table>", "<h1>",
]

# Near misses of special tokens: must be tokenized as ordinary text.
NEAR_SPECIALS = [
    "<|im_start", "<|im_start|", "< |im_start|>", "<|IM_START|>", "|im_start|>", "<<|im_end|>>",
    "<s", "s>", "</s", "<start_of_turn", "<|begin_of_text|", "<｜User", "<think", "<|eot_id||>",
]

UNUSUAL = [
    "e\u0301", "a\u0300\u0301\u0302\u0303", "Z\u0351\u0352\u0353\u0354a\u0355l\u0356g\u0357o",
    "\u200f\u05e9\u05dc\u05d5\u05dd\u200e abc", "\u202ereversed\u202c", "no\u00a0break\u00a0space",
    "narrow\u202fnbsp", "zero\u200bwidth\u200bspace", "zw\u200cnj and zw\u200dj", "\ufeffbom at start",
    "word\u2060joiner", "soft\u00adhyphen", "𝐀𝐁𝐂 𝑥𝑦𝑧 𝔸𝔹", "𠀀𠀁𪜀 CJK extension B", "𐌰𐌱𐌲 Gothic",
    "𝄞 music", "private\ue000use\U000f0000", "variation\ufe0f selector \U000e0100", "ſt long s 'ſt",
    "Kelvin \u212a, ﬁ ligature, ＦＵＬＬＷＩＤＴＨ，ｈａｌｆ ｶﾀｶﾅ",
    "\u1100\u1161\u11a8 decomposed hangul", "line\u2028separator\u2029paragraph",
    "next\u0085line", "vertical\u000btab and form\u000cfeed", "ideographic\u3000space", "ogham\u1680space",
    "en\u2002em\u2003thin\u2009hair\u200a", "\u00e9 vs e\u0301 vs \u0065\u0301", "Å vs A\u030a vs \u212b",
    "control\u0001chars\u001f\u007f", "tab\there", "carriage\rreturn", "\u0000nul", "\U0010ffff last plane",
    "ﷺ ﷽", "ǅ titlecase", "İi ıI", "ß ẞ", "µ vs μ", "Ω vs \u2126",
]


def digit_strings(rng):
    out = []
    for length in range(1, 31):
        digits = "".join(rng.choice("0123456789") for _ in range(length))
        out.append(digits)
        out.append("1" * length)
        out.append(" " + digits)
        out.append("x" + digits + "y")
        out.append("v" + digits + " items")
        out.append(digits + "." + digits[: max(1, length // 2)])
        out.append("-" + digits)
        out.append(f"({digits})")
        grouped = f"{int(digits):,}" if digits else digits
        out.append(grouped)
        out.append("١٢٣٤٥٦٧٨٩٠"[: min(10, length)] + " " + "१२३४५"[: min(5, length)])
    for n in [0, 7, 42, 100, 1000, 65535, 3141592653, 2**53, 10**18]:
        out.append(str(n))
        out.append(f"{n}px")
        out.append(f"{n / 7:.6f}")
        out.append(f"{n:e}")
        out.append(f"0x{n:X}")
    out += ["3.14159", "1e-10", "1,234,567.89", "12:30:45", "2024-06-11T08:15:00Z", "+1 (555) 012-3456",
            "v1.2.3-rc.4", "½ ¾ ⅞ ² ³", "Ⅻ Ⅳ", "٣٫١٤", "10%", "$1,000.00", "€5", "¥100", "₹2,50,000"]
    return out


def whitespace_strings():
    out = [""]
    for n in range(1, 21):
        out.append(" " * n)
        out.append("\t" * min(n, 8))
        out.append("\n" * n)
        out.append("a" + " " * n + "b")
        out.append(" " * n + "lead")
        out.append("trail" + " " * n)
        out.append("x\n" + " " * n + "y")
    out += [
        "\r\n", "\r\n\r\n", "a\r\nb", " \n ", "\n \n", "\t \t", " \t\n\r ", "a \n b", "  \n\n  x", "end\n",
        "\n\nstart", "   Hello", "Hello   ", "  Hello  World  ", "\tindent", "\n", "\n\n\n\n\n", "a\n\n\n\nb",
        " ", "  ", "   ", "    ", "a\u00a0\u00a0b", "\u3000\u3000全角", "word \n\t word",
    ] + [" " * n + "\n" * m + "z" for n in range(0, 4) for m in range(1, 4)]
    return out


def edge_strings():
    out = [
        "a", "A", "z", ".", ",", "!", "?", "'", "\"", "`", "~", "_", "-", "\\", "/", "|", "@", "#", "$", "%",
        "^", "&", "*", "(", ")", "[", "]", "{", "}", "<", ">", "=", "+", ";", ":", "Hello", "hello", "HELLO",
        " Hello", " hello", "Hello world", "hello world", "don't", "DON'T", "I'm", "I'M", "we'll", "she'd",
        "it's", "IT'S", "they're", "you've", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "''", "'''",
        "a" * 100, "ab" * 60, "!" * 50, "." * 40, "-" * 80, "=" * 33, "_" * 20, "ha" * 30, "🙂" * 15,
        "supercalifragilisticexpialidocious", "antidisestablishmentarianism", "pneumonoultramicroscopic",
        "camelCaseIdentifier", "snake_case_identifier", "SCREAMING_SNAKE", "kebab-case-word", "PascalCase",
        "https://www.example.com/a/b/c.html#frag", "user.name+tag@sub.example.co.uk", "C:\\Windows\\System32",
        "...", "…", "—", "–", "«guillemets»", "„Anführung“", "“smart quotes”", "‘single’", "¡¿", "•",
        "½", "™", "°C", "±", "×÷", "≠≈≤≥", "→←↑↓", "∑∏∫√∞",
    ]
    return out


def mixed_prose(rng, all_sentences, count):
    """Random mixes of sentences and words across scripts."""
    words = [w for s in all_sentences for w in s.split(" ") if w]
    out = []
    for i in range(count):
        kind = i % 6
        if kind == 0:
            out.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))))
        elif kind == 1:
            out.append(rng.choice(all_sentences) + " " + rng.choice(all_sentences))
        elif kind == 2:
            out.append("".join(rng.choice(words) for _ in range(rng.randint(2, 6))))
        elif kind == 3:
            sep = rng.choice(["\n", "\n\n", "\t", "  ", " - ", ", ", "。", "；"])
            out.append(sep.join(rng.choice(all_sentences) for _ in range(rng.randint(2, 4))))
        elif kind == 4:
            s = rng.choice(all_sentences)
            cut = rng.randint(0, len(s))
            out.append(s[:cut] + rng.choice(EMOJI) + s[cut:])
        else:
            s = rng.choice(all_sentences)
            a, b = sorted(rng.sample(range(len(s) + 1), 2))
            out.append(s[a:b])
    return out


def special_strings(rng, all_sentences):
    out = []
    for sp in SPECIALS:
        out += [sp, sp + "Hello", "Hello" + sp, " " + sp + " ", sp + sp, "x " + sp + "\ny", sp + " world",
                "\n" + sp + "\n", sp + "\n\nText"]
    for sp in NEAR_SPECIALS:
        out += [sp, "a" + sp + "b", " " + sp]
    out += [
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
        "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>",
        "<s>[INST] Tell me a joke [/INST] Why did the chicken cross the road?</s>",
        "<｜begin▁of▁sentence｜><｜User｜>你好<｜Assistant｜><think>\n\n</think>\n\n你好！",
        "<think>Let me reason step by step.</think>The answer is 42.",
        "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>",
        "<table><tr><td>1</td></tr></table>",
    ]
    for _ in range(120):
        parts = []
        for _ in range(rng.randint(2, 5)):
            if rng.random() < 0.4:
                parts.append(rng.choice(SPECIALS))
            else:
                s = rng.choice(all_sentences)
                parts.append(s[: rng.randint(1, len(s))])
        out.append(rng.choice(["", " ", "\n"]).join(parts))
    return out


def unusual_strings(rng, all_sentences):
    out = list(UNUSUAL)
    marks = ["\u0300", "\u0301", "\u0308", "\u0323", "\u0332", "\u20dd", "\u0e49", "\u094d", "\u05b8", "\u064b"]
    invisible = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad", "\u034f"]
    spaces = ["\u00a0", "\u2002", "\u2009", "\u202f", "\u3000", "\u1680", "\u0085", "\u2028"]
    for _ in range(150):
        s = rng.choice(all_sentences)
        chars = list(s)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randint(0, len(chars))
            pool = rng.choice([marks, invisible, spaces, EMOJI])
            chars.insert(pos, rng.choice(pool))
        out.append("".join(chars))
    for _ in range(60):
        # Random code points from many blocks, including supplementary planes.
        cps = []
        for _ in range(rng.randint(1, 12)):
            lo, hi = rng.choice([(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff), (0x590, 0x6ff),
                                 (0x900, 0x97f), (0xe00, 0xe7f), (0x3040, 0x30ff), (0x4e00, 0x9fff),
                                 (0xac00, 0xd7a3), (0x1f300, 0x1f6ff), (0x1d400, 0x1d7ff), (0x20000, 0x2a6df),
                                 (0x10000, 0x1007f), (0xe000, 0xf8ff)])
            cps.append(chr(rng.randint(lo, hi)))
        out.append("".join(cps))
    return out


def emoji_strings(rng):
    out = list(EMOJI)
    out += [e + " " + e for e in EMOJI]
    for _ in range(80):
        n = rng.randint(1, 6)
        sep = rng.choice(["", " ", "  ", "\n", "a", "!"])
        out.append(sep.join(rng.choice(EMOJI) for _ in range(n)))
    out += ["I ❤️ NY", "ok👍", "🚀🚀🚀 launch", "family: 👨‍👩‍👧‍👦!", "🇫🇷🇮🇹🇪🇸", "hi🙂there"]
    return out


def code_strings(rng):
    out = list(CODE)
    for _ in range(100):
        snippet = rng.choice(CODE)
        lines = snippet.split("\n")
        start = rng.randint(0, len(lines) - 1)
        body = "\n".join(lines[start:])
        indent = rng.choice(["", "  ", "    ", "\t", "\t\t"])
        out.append(indent + body.replace("\n", "\n" + indent))
    return out


def long_strings(rng, all_sentences):
    out = []
    for _ in range(12):
        out.append(" ".join(rng.choice(all_sentences) for _ in range(rng.randint(15, 40))))
    out.append("\n".join(CODE))
    out.append("".join(PROSE["chinese"]) * 8)
    return out


def build_corpus():
    rng = random.Random(SEED)
    all_sentences = [s for sentences in PROSE.values() for s in sentences]
    corpus = []
    corpus += all_sentences
    corpus += [s.upper() for s in all_sentences] + [s.lower() for s in all_sentences]
    corpus += [" " + s for s in all_sentences] + [s + "\n" for s in all_sentences]
    corpus += mixed_prose(rng, all_sentences, 700)
    corpus += digit_strings(rng)
    corpus += whitespace_strings()
    corpus += edge_strings()
    corpus += emoji_strings(rng)
    corpus += code_strings(rng)
    corpus += unusual_strings(rng, all_sentences)
    corpus += special_strings(rng, all_sentences)
    corpus += long_strings(rng, all_sentences)
    # Keep the first occurrence of each string, in order.
    seen = set()
    unique = []
    for s in corpus:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: tokenizer_corpus.py OUTPUT.json\n")
        return 2
    corpus = build_corpus()
    for s in corpus:
        s.encode("utf-8")  # raises on lone surrogates
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(corpus, f, ensure_ascii=False, indent=0)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
