using System.Buffers;
using System.Text.Json;

namespace WebConsole.Inference.Tokenization;

/// <summary>An added token from tokenizer.json.</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool LStrip, bool RStrip, bool Normalized);

/// <summary>
/// The tokenizers pipeline driven by tokenizer.json: added tokens are split out first (raw text, then again after
/// normalization for "normalized" ones), the rest is normalized, pre-tokenized and run through the model, then the
/// post-processor adds special tokens. Behaviour follows the reference (@huggingface/tokenizers) id for id.
/// </summary>
internal sealed class HfTokenizer : ITokenizer
{
    private readonly Normalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly TokenizerModel _model;
    private readonly PostProcessor? _postProcessor;
    private readonly Decoder? _decoder;
    private readonly Dictionary<string, AddedToken> _addedByContent = new(StringComparer.Ordinal);
    private readonly Splitter _rawSplitter;
    private readonly Splitter _normalizedSplitter;
    private readonly string?[] _idToToken;
    private readonly HashSet<string> _specialContents = new(StringComparer.Ordinal);
    private readonly bool _cleanUpSpaces;
    private readonly int _specialCountSingle;
    private readonly int _specialCountPair;

    public HfTokenizer(JsonElement tokenizer, JsonElement? config)
    {
        _model = TokenizerModel.Create(tokenizer.GetProperty("model"));
        _normalizer = tokenizer.Obj("normalizer") is { } n ? Normalizer.Create(n) : null;
        _preTokenizer = tokenizer.Obj("pre_tokenizer") is { } p ? PreTokenizer.Create(p) : null;

        var added = new List<AddedToken>();
        if (tokenizer.Obj("added_tokens") is { } addedTokens)
        {
            foreach (var a in addedTokens.EnumerateArray())
            {
                var special = a.Bool("special") ?? false;
                added.Add(new AddedToken(a.GetProperty("id").GetInt32(), a.GetProperty("content").GetString()!, special,
                    a.Bool("lstrip") ?? false, a.Bool("rstrip") ?? false, a.Bool("normalized") ?? !special));
            }
        }

        var raw = new List<string>();
        var normalized = new List<string>();
        foreach (var token in added)
        {
            _model.Vocab[token.Content] = token.Id;
            if (token.Special)
            {
                _specialContents.Add(token.Content);
            }

            _addedByContent[token.Content] = token;
            if (token.Normalized && _normalizer is not null)
            {
                var content = _normalizer.Normalize(token.Content);
                normalized.Add(content);
                _addedByContent[content] = token;
            }
            else
            {
                raw.Add(token.Content);
            }
        }

        _rawSplitter = new Splitter(raw);
        _normalizedSplitter = new Splitter(normalized);

        if (config is { } c && c.Obj("additional_special_tokens") is { ValueKind: JsonValueKind.Array } extra)
        {
            foreach (var e in extra.EnumerateArray())
            {
                if (TokenContent(e) is { } content)
                {
                    _specialContents.Add(content);
                }
            }
        }

        var size = _model.Vocab.Count == 0 ? 0 : _model.Vocab.Values.Max() + 1;
        _idToToken = new string?[size];
        foreach (var (token, id) in _model.Vocab)
        {
            if (id >= 0 && (_idToToken[id] is null || _addedByContent.ContainsKey(token)))
            {
                _idToToken[id] = token;
            }
        }

        _postProcessor = tokenizer.Obj("post_processor") is { } pp ? PostProcessor.Create(pp, t => TokenToId(t) ?? _model.UnkId ?? 0) : null;
        _decoder = tokenizer.Obj("decoder") is { } d ? Decoder.Create(d, new HashSet<string>(added.Select(a => a.Content), StringComparer.Ordinal)) : null;
        _cleanUpSpaces = config?.Bool("clean_up_tokenization_spaces") ?? true;
        _specialCountSingle = _postProcessor?.Process([], null, true).Tokens.Count ?? 0;
        _specialCountPair = _postProcessor?.Process([], [], true).Tokens.Count ?? 0;

        ModelMaxLength = config is { } cfg && cfg.TryGetProperty("model_max_length", out var max) && max.ValueKind == JsonValueKind.Number
            && max.GetDouble() is > 0 and < 100_000_000 ? (int)max.GetDouble() : null;
        Special = new SpecialTokens(
            Named(config, "bos_token"), Named(config, "eos_token"), Named(config, "pad_token"),
            Named(config, "unk_token") ?? _model.UnkId, Named(config, "cls_token"), Named(config, "sep_token"), Named(config, "mask_token"),
            new HashSet<int>(_specialContents.Select(TokenToId).OfType<int>()));
    }

    public int VocabularySize => _idToToken.Length;

    public SpecialTokens Special { get; }

    public int? ModelMaxLength { get; }

    public int? TokenToId(string token) => _model.Vocab.TryGetValue(token, out var id) ? id : null;

    public string? IdToToken(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    public IReadOnlyList<TokenizedText> EncodeBatch(IReadOnlyList<string> texts, EncodeOptions? options = null)
    {
        var results = new TokenizedText[texts.Count];
        if (texts.Count < 8)
        {
            for (var i = 0; i < texts.Count; i++)
            {
                results[i] = Encode(texts[i], null, options);
            }
        }
        else
        {
            Parallel.For(0, texts.Count, i => results[i] = Encode(texts[i], null, options));
        }

        return results;
    }

    public TokenizedText Encode(string text, string? pair = null, EncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= Default;
        var first = EncodeText(text);
        var second = pair is null ? null : EncodeText(pair);

        var truncated = false;
        var maxLength = options.MaxLength ?? ModelMaxLength;
        if (maxLength is { } max)
        {
            var specials = options.AddSpecialTokens ? (second is null ? _specialCountSingle : _specialCountPair) : 0;
            var budget = Math.Max(0, max - specials);
            if (second is null)
            {
                truncated = Truncate(first, budget, options.Side);
            }
            else if (first.Count + second.Count > budget)
            {
                // Hugging Face's longest_first: the longer sequence gives up tokens until both fit.
                var (n1, n2) = (first.Count, second.Count);
                var swap = n1 > n2;
                if (swap)
                {
                    (n1, n2) = (n2, n1);
                }

                n2 = n1 > budget ? n1 : Math.Max(n1, budget - n1);
                if (n1 + n2 > budget)
                {
                    n1 = budget / 2;
                    n2 = n1 + (budget % 2);
                }

                if (swap)
                {
                    (n1, n2) = (n2, n1);
                }

                truncated = Truncate(first, n1, options.Side) | Truncate(second, n2, options.Side);
            }
        }

        var (tokens, types) = _postProcessor is null
            ? PostProcessor.Concatenate(first, second)
            : _postProcessor.Process(first, second, options.AddSpecialTokens);
        var ids = new int[tokens.Count];
        var offsets = new (int, int)[tokens.Count];
        var strings = new string[tokens.Count];
        var mask = new int[tokens.Count];
        for (var i = 0; i < tokens.Count; i++)
        {
            ids[i] = tokens[i].Id;
            offsets[i] = (tokens[i].Start, tokens[i].End);
            strings[i] = tokens[i].Value;
            mask[i] = 1;
        }

        return new TokenizedText(ids, [.. types], mask, offsets, strings, truncated);
    }

    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var tokens = new List<string>(ids.Count);
        foreach (var id in ids)
        {
            var token = IdToToken(id) ?? _model.UnkToken;
            if (token is null || (skipSpecialTokens && _specialContents.Contains(token)))
            {
                continue;
            }

            tokens.Add(token);
        }

        var text = _decoder is null ? string.Join(' ', tokens) : string.Concat(_decoder.DecodeChain(tokens));
        return _cleanUpSpaces ? Decoder.CleanUp(text) : text;
    }

    private static readonly EncodeOptions Default = new();

    private static bool Truncate(List<Token> tokens, int length, TruncationSide side)
    {
        if (tokens.Count <= length)
        {
            return false;
        }

        if (side == TruncationSide.Right)
        {
            tokens.RemoveRange(length, tokens.Count - length);
        }
        else
        {
            tokens.RemoveRange(0, tokens.Count - length);
        }

        return true;
    }

    private List<Token> EncodeText(string text)
    {
        var output = new List<Token>(text.Length / 3 + 4);
        var sections = _rawSplitter.Split(AlignedText.FromOriginal(text, 0, text.Length));
        ApplyStrips(sections);
        for (var index = 0; index < sections.Count; index++)
        {
            var section = sections[index];
            if (section.Length == 0)
            {
                continue;
            }

            if (_addedByContent.TryGetValue(section.Text, out var added))
            {
                var (s, e) = section.Span(0, section.Length);
                output.Add(new Token(added.Id, added.Content, s, e));
                continue;
            }

            var normalized = _normalizer is null ? section : _normalizer.Normalize(section);
            if (normalized.Length == 0)
            {
                continue;
            }

            var subsections = _normalizedSplitter.Split(normalized);
            ApplyStrips(subsections);
            foreach (var subsection in subsections)
            {
                if (subsection.Length == 0)
                {
                    continue;
                }

                if (_addedByContent.TryGetValue(subsection.Text, out var token))
                {
                    var (s, e) = subsection.Span(0, subsection.Length);
                    output.Add(new Token(token.Id, token.Content, s, e));
                    continue;
                }

                var words = _preTokenizer is null ? [subsection] : _preTokenizer.PreTokenize([subsection], index);
                var first = output.Count;
                foreach (var word in words)
                {
                    _model.Tokenize(word, output);
                }

                if (_model.FuseUnk && _model.UnkId is { } unk)
                {
                    FuseUnknown(output, first, unk);
                }

                // The reference maps token strings back to ids with added tokens first.
                if (_addedByContent.Count > 0)
                {
                    for (var i = first; i < output.Count; i++)
                    {
                        if (_addedByContent.TryGetValue(output[i].Value, out var a) && a.Id != output[i].Id)
                        {
                            output[i] = output[i] with { Id = a.Id };
                        }
                    }
                }
            }
        }

        return output;
    }

    private static void FuseUnknown(List<Token> tokens, int first, int unk)
    {
        for (var i = first; i < tokens.Count - 1;)
        {
            if (tokens[i].Id == unk && tokens[i + 1].Id == unk)
            {
                tokens[i] = tokens[i] with { Value = tokens[i].Value + tokens[i + 1].Value, End = tokens[i + 1].End };
                tokens.RemoveAt(i + 1);
            }
            else
            {
                i++;
            }
        }
    }

    private void ApplyStrips(List<AlignedText> sections)
    {
        for (var i = 0; i < sections.Count; i++)
        {
            if (!_addedByContent.TryGetValue(sections[i].Text, out var added))
            {
                continue;
            }

            if (added.LStrip && i > 0)
            {
                sections[i - 1] = sections[i - 1].TrimEnd(CharClasses.IsJsSpace);
            }

            if (added.RStrip && i < sections.Count - 1)
            {
                sections[i + 1] = sections[i + 1].TrimStart(CharClasses.IsJsSpace);
            }
        }
    }

    private int? Named(JsonElement? config, string key) =>
        config is { } c && c.TryGetProperty(key, out var value) && TokenContent(value) is { } content ? TokenToId(content) : null;

    private static string? TokenContent(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Object => value.Str("content"),
        _ => null,
    };

    /// <summary>Splits text around the longest added-token match at each position (leftmost first).</summary>
    private sealed class Splitter
    {
        private readonly Dictionary<char, string[]> _byFirst;
        private readonly SearchValues<char> _firsts;

        public Splitter(IEnumerable<string> contents)
        {
            _byFirst = contents.Where(c => c.Length > 0).Distinct(StringComparer.Ordinal).GroupBy(c => c[0])
                .ToDictionary(g => g.Key, g => g.OrderByDescending(c => c.Length).ToArray());
            _firsts = SearchValues.Create([.. _byFirst.Keys]);
        }

        public List<AlignedText> Split(AlignedText text)
        {
            var result = new List<AlignedText>(1);
            if (_byFirst.Count == 0)
            {
                result.Add(text);
                return result;
            }

            var s = text.Text;
            var start = 0;
            var i = 0;
            while (i < s.Length)
            {
                var next = s.AsSpan(i).IndexOfAny(_firsts);
                if (next < 0)
                {
                    break;
                }

                i += next;
                var match = _byFirst[s[i]].FirstOrDefault(c => i + c.Length <= s.Length && string.CompareOrdinal(s, i, c, 0, c.Length) == 0);
                if (match is null)
                {
                    i++;
                    continue;
                }

                if (i > start)
                {
                    result.Add(text.Slice(start, i - start));
                }

                result.Add(text.Slice(i, match.Length));
                i += match.Length;
                start = i;
            }

            if (start < s.Length)
            {
                result.Add(text.Slice(start, s.Length - start));
            }

            return result;
        }
    }
}
