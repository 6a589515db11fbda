using System.Text;
using System.Text.Json;

namespace WebConsole.Inference.Tokenization;

/// <summary>A tokenizer.json decoder: a chain of steps over token strings, joined at the end.</summary>
internal abstract class Decoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    public static Decoder? Create(JsonElement config, IReadOnlySet<string> addedTokens)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var type = config.GetProperty("type").GetString();
        return type switch
        {
            "ByteLevel" => new ByteLevelDecoder(addedTokens),
            "WordPiece" => new WordPieceDecoder(config.Str("prefix") ?? "##", config.Bool("cleanup") ?? false),
            "Metaspace" => new MetaspaceDecoder(config.Str("replacement") ?? "\u2581"),
            "BPEDecoder" => new BpeDecoder(config.Str("suffix") ?? string.Empty),
            "Replace" => new ReplaceDecoder(Pattern.Create(config.GetProperty("pattern")), config.Str("content") ?? string.Empty),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(config.Str("content") ?? " ", config.Int("start") ?? 0, config.Int("stop") ?? 0),
            "Sequence" => new SequenceDecoder([.. config.GetProperty("decoders").EnumerateArray().Select(d => Create(d, addedTokens)).OfType<Decoder>()]),
            _ => throw new NotSupportedException($"tokenizer.json decoder '{type}' is not supported."),
        };
    }

    /// <summary>The reference's clean-up of spaces before punctuation and contractions.</summary>
    public static string CleanUp(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);
}

internal sealed class SequenceDecoder(Decoder[] decoders) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (var decoder in decoders)
        {
            tokens = decoder.DecodeChain(tokens);
        }

        return tokens;
    }
}

internal sealed class ByteLevelDecoder(IReadOnlySet<string> addedTokens) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>();
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            if (addedTokens.Contains(token))
            {
                Flush();
                result.Add(token);
                continue;
            }

            foreach (var c in token)
            {
                bytes.Add(ByteLevelPreTokenizer.CharToByte.TryGetValue(c, out var b) ? b : (byte)0);
            }
        }

        Flush();
        return result;

        void Flush()
        {
            if (bytes.Count > 0)
            {
                result.Add(Encoding.UTF8.GetString([.. bytes]));
                bytes.Clear();
            }
        }
    }
}

internal sealed class WordPieceDecoder(string prefix, bool cleanup) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (i != 0)
            {
                token = prefix.Length > 0 && token.StartsWith(prefix, StringComparison.Ordinal) ? token[prefix.Length..] : " " + token;
            }

            result.Add(cleanup ? CleanUp(token) : token);
        }

        return result;
    }
}

internal sealed class MetaspaceDecoder(string replacement) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            var text = tokens[i].Replace(replacement, " ", StringComparison.Ordinal);
            result.Add(i == 0 && text.StartsWith(' ') ? text[1..] : text);
        }

        return result;
    }
}

internal sealed class BpeDecoder(string suffix) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens) =>
        suffix.Length == 0
            ? tokens
            : [.. tokens.Select((t, i) => t.Replace(suffix, i == tokens.Count - 1 ? string.Empty : " ", StringComparison.Ordinal))];
}

internal sealed class ReplaceDecoder(Pattern pattern, string content) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens) =>
        [.. tokens.Select(t => pattern.Regex.Replace(t, content.Replace("$", "$$", StringComparison.Ordinal)))];
}

internal sealed class ByteFallbackDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
                && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                bytes.Add(b);
                continue;
            }

            if (bytes.Count > 0)
            {
                result.Add(Encoding.UTF8.GetString([.. bytes]));
                bytes.Clear();
            }

            result.Add(token);
        }

        if (bytes.Count > 0)
        {
            result.Add(Encoding.UTF8.GetString([.. bytes]));
        }

        return result;
    }
}

internal sealed class FuseDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

internal sealed class StripDecoder(string content, int start, int stop) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var c = content.Length > 0 ? content[0] : ' ';
        var result = new List<string>(tokens.Count);
        foreach (var token in tokens)
        {
            var startCut = 0;
            for (var i = 0; i < start && i < token.Length && token[i] == c; i++)
            {
                startCut = i + 1;
            }

            var stopCut = token.Length;
            for (var i = 0; i < stop; i++)
            {
                var index = token.Length - i - 1;
                if (index < 0 || token[index] != c)
                {
                    break;
                }

                stopCut = index;
            }

            result.Add(stopCut > startCut ? token[startCut..stopCut] : string.Empty);
        }

        return result;
    }
}
