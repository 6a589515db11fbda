using System.Text.Json;

namespace WebConsole.Inference.Tokenization;

/// <summary>A tokenizer.json post-processor: adds special tokens and type ids around one or two sequences.</summary>
internal abstract class PostProcessor
{
    public abstract (List<Token> Tokens, List<int> TypeIds) Process(List<Token> first, List<Token>? second, bool addSpecialTokens);

    public static PostProcessor? Create(JsonElement config, Func<string, int> idOf)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var type = config.GetProperty("type").GetString();
        return type switch
        {
            "TemplateProcessing" => new TemplateProcessor(config, idOf),
            "BertProcessing" => new BertProcessor(Special(config.GetProperty("cls")), Special(config.GetProperty("sep")), roberta: false),
            "RobertaProcessing" => new BertProcessor(Special(config.GetProperty("cls")), Special(config.GetProperty("sep")), roberta: true),
            "ByteLevel" => new ByteLevelProcessor(config.Bool("trim_offsets") ?? false),
            "Sequence" => new SequenceProcessor([.. config.GetProperty("processors").EnumerateArray().Select(p => Create(p, idOf)).OfType<PostProcessor>()]),
            _ => throw new NotSupportedException($"tokenizer.json post-processor '{type}' is not supported."),
        };
    }

    public static (List<Token>, List<int>) Concatenate(List<Token> first, List<Token>? second)
    {
        var tokens = new List<Token>(first);
        var types = Enumerable.Repeat(0, first.Count).ToList();
        if (second is not null)
        {
            tokens.AddRange(second);
            types.AddRange(Enumerable.Repeat(1, second.Count));
        }

        return (tokens, types);
    }

    private static Token Special(JsonElement pair) => new(pair[1].GetInt32(), pair[0].GetString()!, 0, 0);
}

internal sealed class BertProcessor(Token cls, Token sep, bool roberta) : PostProcessor
{
    public override (List<Token> Tokens, List<int> TypeIds) Process(List<Token> first, List<Token>? second, bool addSpecialTokens)
    {
        var tokens = new List<Token>(first.Count + (second?.Count ?? 0) + 4);
        if (addSpecialTokens)
        {
            tokens.Add(cls);
        }

        tokens.AddRange(first);
        if (addSpecialTokens)
        {
            tokens.Add(sep);
        }

        var types = Enumerable.Repeat(0, tokens.Count).ToList();
        if (second is not null)
        {
            var before = tokens.Count;
            if (addSpecialTokens && roberta)
            {
                tokens.Add(sep);
            }

            tokens.AddRange(second);
            if (addSpecialTokens)
            {
                tokens.Add(sep);
            }

            // RoBERTa does not use type ids; the reference still marks the pair with 1 here.
            types.AddRange(Enumerable.Repeat(1, tokens.Count - before));
        }

        return (tokens, types);
    }
}

internal sealed class TemplateProcessor : PostProcessor
{
    private readonly List<(Token? Special, string? Sequence, int TypeId)> _single;
    private readonly List<(Token? Special, string? Sequence, int TypeId)> _pair;

    public TemplateProcessor(JsonElement config, Func<string, int> idOf)
    {
        _single = Parse(config.GetProperty("single"), idOf);
        _pair = Parse(config.GetProperty("pair"), idOf);
    }

    public override (List<Token> Tokens, List<int> TypeIds) Process(List<Token> first, List<Token>? second, bool addSpecialTokens)
    {
        var tokens = new List<Token>(first.Count + (second?.Count ?? 0) + 4);
        var types = new List<int>(tokens.Capacity);
        foreach (var (special, sequence, typeId) in second is null ? _single : _pair)
        {
            if (special is { } token)
            {
                if (addSpecialTokens)
                {
                    tokens.Add(token);
                    types.Add(typeId);
                }
            }
            else
            {
                var source = sequence == "A" ? first : second ?? [];
                tokens.AddRange(source);
                types.AddRange(Enumerable.Repeat(typeId, source.Count));
            }
        }

        return (tokens, types);
    }

    private static List<(Token?, string?, int)> Parse(JsonElement items, Func<string, int> idOf)
    {
        var result = new List<(Token?, string?, int)>();
        foreach (var item in items.EnumerateArray())
        {
            if (item.Obj("SpecialToken") is { } special)
            {
                var content = special.GetProperty("id").GetString()!;
                result.Add((new Token(idOf(content), content, 0, 0), null, special.Int("type_id") ?? 0));
            }
            else if (item.Obj("Sequence") is { } sequence)
            {
                result.Add((null, sequence.GetProperty("id").GetString(), sequence.Int("type_id") ?? 0));
            }
        }

        return result;
    }
}

/// <summary>Byte-level post-processing only trims offsets (leading/trailing encoded spaces) when asked to.</summary>
internal sealed class ByteLevelProcessor(bool trimOffsets) : PostProcessor
{
    public override (List<Token> Tokens, List<int> TypeIds) Process(List<Token> first, List<Token>? second, bool addSpecialTokens)
    {
        var (tokens, types) = Concatenate(first, second);
        if (trimOffsets)
        {
            for (var i = 0; i < tokens.Count; i++)
            {
                var t = tokens[i];
                var leading = t.Value.TakeWhile(c => c == 'Ġ').Count();
                var trailing = t.Value.Reverse().TakeWhile(c => c == 'Ġ').Count();
                if (leading + trailing > 0 && leading < t.Value.Length)
                {
                    tokens[i] = t with { Start = Math.Min(t.End, t.Start + leading), End = Math.Max(t.Start + leading, t.End - trailing) };
                }
            }
        }

        return (tokens, types);
    }
}

internal sealed class SequenceProcessor(PostProcessor[] processors) : PostProcessor
{
    public override (List<Token> Tokens, List<int> TypeIds) Process(List<Token> first, List<Token>? second, bool addSpecialTokens)
    {
        // Byte-level steps only adjust offsets; the template-like step decides the layout.
        foreach (var processor in processors.OfType<ByteLevelProcessor>())
        {
            first = processor.Process(first, null, addSpecialTokens).Tokens;
            second = second is null ? null : processor.Process(second, null, addSpecialTokens).Tokens;
        }

        var layout = processors.FirstOrDefault(p => p is not ByteLevelProcessor);
        return layout is null ? Concatenate(first, second) : layout.Process(first, second, addSpecialTokens);
    }
}
