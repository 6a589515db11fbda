using System.Text;

namespace WebConsole.Tests.Shared.Corpus;

/// <summary>
/// A deterministic corpus of varied lines for tokenizer parity: fragments written for this project in many scripts,
/// emoji (ZWJ sequences, skin tones, flags), odd whitespace, digits, punctuation, code and URLs, combined by a fixed
/// linear congruential generator so every run and machine sees the same lines.
/// </summary>
internal static class TokenizerCorpus
{
    private static readonly string[] Fragments =
    [
        // Latin with accents and casing
        "The quick brown fox jumps over the lazy dog", "Café crème brûlée à la française", "naïve coöperation in São Paulo",
        "Über straße größer ÄÖÜ äöü ß", "Ñandú pingüino año señor", "ÅSTRÖM and Øresund bridge", "Łódź Kraków Gdańsk żółw",
        "İstanbul ışık ĞÜŞÇÖ", "Crème de la crème, s'il vous plaît!", "I'm sure they'll say we've done it; you'd agree, isn't it?",
        "HELLO World hello WORLD HeLLo", "Dvořák's Symphony No. 9 in E minor", "façade déjà vu résumé", "Ærøskøbing Þór ðæ",
        "e\u0301 combining acute vs é precomposed", "ﬁne ﬂow ligatures and ｆｕｌｌｗｉｄｔｈ letters", "Ⅻ roman numeral and ½ fraction ²³",
        // Cyrillic and Greek
        "Привет, мир! Как дела?", "Москва — столица России", "Щука съела ёжика", "ΟΔΟΣ και ΣΟΦΙΑ", "Καλημέρα κόσμε, τι κάνεις;",
        "Ἀθῆναι ἐν τῇ Ἑλλάδι", "σίσυφος ΣΊΣΥΦΟΣ ς σ Σ",
        // Arabic and Hebrew
        "مرحبا بالعالم", "اللغة العربية جميلة جداً", "٠١٢٣٤٥٦٧٨٩ أرقام", "שלום עולם", "עִבְרִית עם ניקוד", "mixed עברית and English text",
        // Vietnamese (whole words that Llama 3 keeps whole only because of ignore_merges)
        "Tôi làm việc ở Việt Nam, nhiều điều hợp lý", "jeho ایران",
        // Indic and Thai
        "नमस्ते दुनिया", "हिन्दी भाषा में संख्या १२३", "ভাষা বাংলা", "தமிழ் மொழி", "สวัสดีชาวโลก", "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
        // CJK
        "你好，世界！", "中文分词测试：北京大学生前来应聘", "繁體中文與简体中文", "こんにちは世界", "日本語のテキスト、カタカナとひらがな。",
        "ｶﾀｶﾅ半角", "안녕하세요 세계", "한국어 문장입니다.", "漢字かな交じり文", "𠀀𠀁 rare ideographs 𪜀",
        // Emoji
        "I love pizza 🍕🍕", "👍🏽 thumbs up with skin tone", "👨‍👩‍👧‍👦 family emoji", "🏳️‍🌈 flag and 🇫🇷🇯🇵 regional",
        "❤️ heart with selector", "🧑🏿‍💻 technologist", "😀😃😄😁😆", "✨🎉🎊 party", "©®™ symbols ✓✗",
        // Digits and punctuation
        "3.14159 2,718 1e-10 -42 +7", "Call 555-0199 or +1 (800) 123-4567", "Price: $1,234.56 €99,95 £10 ¥500",
        "2024-05-17T12:34:56Z", "100% of 12345678901234567890", "... !!! ??? ;;; --- ___ ***", "«quotes» „German“ “curly” ‘single’",
        "(parentheses) [brackets] {braces} <angles>", "a/b\\c|d~e^f", "#hashtag @mention &amp; %20",
        // Code and URLs
        "def f(x): return x**2 + 1", "for (int i = 0; i < n; ++i) { sum += a[i]; }", "SELECT * FROM users WHERE id = 42;",
        "const x = { key: 'value', n: 10 };", "https://example.com/path?query=1&other=two#frag", "user.name+tag@example.org",
        "git commit -m \"fix: handle edge-case\"", "<div class=\"main\">Hello</div>", "C:\\Users\\Public\\file.txt", "snake_case camelCase PascalCase",
        // Edge cases: invisible and control characters, astral letters and digits, long runs
        "zero\u200Bwidth and\uFEFFbyte order mark", "next\u0085line and bell\u0007 and lone\rreturn", "tab\t\tand\vvertical\fform",
        "𝐀𝐁𝐂 𝟏𝟐𝟑 math alphanumerics", "keycap 1️⃣ and #️⃣", "Ǆ ǅ ǆ titlecase digraphs", "IT'S WE'LL THEY'RE I'D YOU'VE",
        "Pneumonoultramicroscopicsilicovolcanoconiosis" + "Supercalifragilisticexpialidocious" + "Hippopotomonstrosesquippedaliophobia" + "Antidisestablishmentarianism",
        "                                ", "\n\n\n\n", "a\u0301\u0302\u0303 stacked marks", "٣.١٤ Arabic-Indic digits ۱۲۳",
        // Added/special-token look-alikes
        "[CLS] not really a special token [SEP]", "<s> and </s> in text", "<|endoftext|> marker", "<unk> <pad> <mask>",
    ];

    private static readonly string[] Separators =
    [
        " ", " ", " ", "  ", "   ", "\t", "\n", "\r\n", "\u00A0", " \t ", "\u3000", "\u2009", "", ", ", ". ", " - ", "\n\n",
    ];

    /// <summary>The corpus: <paramref name="count"/> lines, each 1-4 fragments joined by varied whitespace.</summary>
    public static IReadOnlyList<string> Lines(int count = 1200)
    {
        var lines = new List<string>(count);
        var state = 0x2545F491u;
        uint Next()
        {
            state = (state * 1664525u) + 1013904223u;
            return state >> 8;
        }

        // Every fragment appears alone once, so each script is covered on its own too.
        lines.AddRange(Fragments);
        while (lines.Count < count)
        {
            var builder = new StringBuilder();
            var parts = 1 + (int)(Next() % 4);
            var mode = Next() % 10;
            if (mode == 0)
            {
                builder.Append(' ', 1 + (int)(Next() % 3));
            }

            for (var p = 0; p < parts; p++)
            {
                if (p > 0)
                {
                    builder.Append(Separators[Next() % (uint)Separators.Length]);
                }

                var fragment = Fragments[Next() % (uint)Fragments.Length];
                builder.Append(Next() % 7 == 0 ? fragment.ToUpperInvariant() : Next() % 9 == 0 ? fragment.ToLowerInvariant() : fragment);
                if (Next() % 6 == 0)
                {
                    builder.Append(' ').Append(Next() % 100000);
                }
            }

            if (mode == 1)
            {
                builder.Append(' ', 1 + (int)(Next() % 3));
            }
            else if (mode == 2)
            {
                builder.Append('\n');
            }

            lines.Add(builder.ToString());
        }

        return lines;
    }
}
