using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WebConsole.Domain.Chunking;

/// <summary>
/// Validated chunking settings of an endpoint, built from the raw <c>chunking_settings</c> object with Elasticsearch's
/// rules and messages. Use <see cref="FromDictionary"/> at the REST boundary and the named factories in code.
/// </summary>
public readonly record struct ChunkingSettings
{
    /// <summary>The key that names the strategy.</summary>
    public const string StrategyKey = "strategy";

    /// <summary>The key of the chunk size budget (words).</summary>
    public const string MaxChunkSizeKey = "max_chunk_size";

    /// <summary>The key of the sentence strategy's overlap (0 or 1 sentence).</summary>
    public const string SentenceOverlapKey = "sentence_overlap";

    /// <summary>The key of the word strategy's overlap (words).</summary>
    public const string OverlapKey = "overlap";

    /// <summary>The key of the recursive strategy's named separator list.</summary>
    public const string SeparatorGroupKey = "separator_group";

    /// <summary>The key of the recursive strategy's own separators (regular expressions).</summary>
    public const string SeparatorsKey = "separators";

    private const string Scope = "chunking_settings";

    private static readonly string[] PlaintextSeparators = ["\n\n", "\n"];

    private static readonly string[] MarkdownSeparators =
        ["\n# ", "\n## ", "\n### ", "\n#### ", "\n##### ", "\n###### ", .. PlaintextSeparators];

    private ChunkingSettings(
        ChunkingStrategy strategy,
        int? maxChunkSize,
        int? sentenceOverlap,
        int? overlap,
        SeparatorGroup? separatorGroup,
        IReadOnlyList<string>? separators)
    {
        Strategy = strategy;
        MaxChunkSize = maxChunkSize;
        SentenceOverlap = sentenceOverlap;
        Overlap = overlap;
        SeparatorGroup = separatorGroup;
        Separators = separators;
    }

    /// <summary>The settings of an endpoint created without any: sentence, 250 words, overlap 1.</summary>
    public static ChunkingSettings Default { get; } = new(ChunkingStrategy.Sentence, 250, 1, null, null, null);

    /// <summary>The strategy.</summary>
    public ChunkingStrategy Strategy { get; }

    /// <summary>Chunk size budget in words; null for <see cref="ChunkingStrategy.None"/>.</summary>
    public int? MaxChunkSize { get; }

    /// <summary>Sentences carried into the next chunk (0 or 1); sentence strategy only.</summary>
    public int? SentenceOverlap { get; }

    /// <summary>Words carried into the next chunk; word strategy only.</summary>
    public int? Overlap { get; }

    /// <summary>The named separator list the settings were given, if any; recursive strategy only.</summary>
    public SeparatorGroup? SeparatorGroup { get; }

    /// <summary>The separators (regular expressions) in order, resolved from the group; recursive strategy only.</summary>
    public IReadOnlyList<string>? Separators { get; }

    /// <summary>Sentence strategy.</summary>
    public static ChunkingSettings Sentence(int maxChunkSize, int sentenceOverlap = 1) => FromDictionary(new Dictionary<string, object?>
    {
        [StrategyKey] = "sentence",
        [MaxChunkSizeKey] = maxChunkSize,
        [SentenceOverlapKey] = sentenceOverlap,
    });

    /// <summary>Word strategy.</summary>
    public static ChunkingSettings Word(int maxChunkSize, int overlap) => FromDictionary(new Dictionary<string, object?>
    {
        [StrategyKey] = "word",
        [MaxChunkSizeKey] = maxChunkSize,
        [OverlapKey] = overlap,
    });

    /// <summary>Recursive strategy with a named separator list.</summary>
    public static ChunkingSettings Recursive(int maxChunkSize, SeparatorGroup separatorGroup) => FromDictionary(new Dictionary<string, object?>
    {
        [StrategyKey] = "recursive",
        [MaxChunkSizeKey] = maxChunkSize,
        [SeparatorGroupKey] = ToWireName(separatorGroup),
    });

    /// <summary>Recursive strategy with its own separators.</summary>
    public static ChunkingSettings Recursive(int maxChunkSize, IReadOnlyList<string> separators) => FromDictionary(new Dictionary<string, object?>
    {
        [StrategyKey] = "recursive",
        [MaxChunkSizeKey] = maxChunkSize,
        [SeparatorsKey] = separators,
    });

    /// <summary>No chunking.</summary>
    public static ChunkingSettings None { get; } = new(ChunkingStrategy.None, null, null, null, null, null);

    /// <summary>
    /// Builds settings from a raw object as parsed from JSON (values: numbers, strings, lists, or
    /// <see cref="JsonElement"/>s). Null or empty means <see cref="Default"/>. Broken rules throw
    /// <see cref="DomainValidationException"/> with Elasticsearch's messages.
    /// </summary>
    public static ChunkingSettings FromDictionary(IReadOnlyDictionary<string, object?>? raw)
    {
        if (raw is null || raw.Count == 0)
        {
            return Default;
        }

        if (!raw.TryGetValue(StrategyKey, out var strategyValue))
        {
            throw new DomainValidationException("Can't generate Chunker without ChunkingStrategy provided");
        }

        var strategyName = AsText(strategyValue);
        var strategy = strategyName switch
        {
            "sentence" => ChunkingStrategy.Sentence,
            "word" => ChunkingStrategy.Word,
            "recursive" => ChunkingStrategy.Recursive,
            "none" => ChunkingStrategy.None,
            _ => throw new DomainValidationException($"Invalid chunkingStrategy {strategyName}"),
        };

        var errors = new List<string>();
        var result = strategy switch
        {
            ChunkingStrategy.Sentence => ParseSentence(raw, errors),
            ChunkingStrategy.Word => ParseWord(raw, errors),
            ChunkingStrategy.Recursive => ParseRecursive(raw, errors),
            _ => ParseNone(raw, errors),
        };

        if (errors.Count > 0)
        {
            throw DomainValidationException.FromErrors(errors);
        }

        return result;
    }

    /// <summary>
    /// The settings as the wire object (<c>strategy</c> first); <see cref="FromDictionary"/> reads it back to equal
    /// settings. A recursive strategy given a group is written with the group.
    /// </summary>
    public IReadOnlyDictionary<string, object> ToDictionary()
    {
        var map = new Dictionary<string, object> { [StrategyKey] = ToWireName(Strategy) };
        switch (Strategy)
        {
            case ChunkingStrategy.Sentence:
                map[MaxChunkSizeKey] = MaxChunkSize!.Value;
                map[SentenceOverlapKey] = SentenceOverlap!.Value;
                break;
            case ChunkingStrategy.Word:
                map[MaxChunkSizeKey] = MaxChunkSize!.Value;
                map[OverlapKey] = Overlap!.Value;
                break;
            case ChunkingStrategy.Recursive:
                map[MaxChunkSizeKey] = MaxChunkSize!.Value;
                if (SeparatorGroup is { } group)
                {
                    map[SeparatorGroupKey] = ToWireName(group);
                }
                else
                {
                    map[SeparatorsKey] = Separators!.ToArray();
                }

                break;
        }

        return map;
    }

    /// <summary>The wire name of a strategy.</summary>
    public static string ToWireName(ChunkingStrategy strategy) => strategy switch
    {
        ChunkingStrategy.Sentence => "sentence",
        ChunkingStrategy.Word => "word",
        ChunkingStrategy.Recursive => "recursive",
        ChunkingStrategy.None => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, null),
    };

    /// <summary>The wire name of a separator group.</summary>
    public static string ToWireName(SeparatorGroup group) => group switch
    {
        Chunking.SeparatorGroup.Plaintext => "plaintext",
        Chunking.SeparatorGroup.Markdown => "markdown",
        _ => throw new ArgumentOutOfRangeException(nameof(group), group, null),
    };

    /// <summary>The separators of a named group.</summary>
    public static IReadOnlyList<string> SeparatorsOf(SeparatorGroup group) =>
        group == Chunking.SeparatorGroup.Markdown ? MarkdownSeparators : PlaintextSeparators;

    /// <summary>Value equality, separators compared element by element.</summary>
    public bool Equals(ChunkingSettings other) =>
        Strategy == other.Strategy
        && MaxChunkSize == other.MaxChunkSize
        && SentenceOverlap == other.SentenceOverlap
        && Overlap == other.Overlap
        && SeparatorGroup == other.SeparatorGroup
        && (Separators ?? []).SequenceEqual(other.Separators ?? []);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Strategy);
        hash.Add(MaxChunkSize);
        hash.Add(SentenceOverlap);
        hash.Add(Overlap);
        hash.Add(SeparatorGroup);
        foreach (var separator in Separators ?? [])
        {
            hash.Add(separator);
        }

        return hash.ToHashCode();
    }

    private static ChunkingSettings ParseSentence(IReadOnlyDictionary<string, object?> raw, List<string> errors)
    {
        CheckKeys(raw, "Sentence based", [StrategyKey, MaxChunkSizeKey, SentenceOverlapKey], errors);
        var max = RequiredIntegerBetween(raw, MaxChunkSizeKey, 20, 300, errors);
        var overlap = 1;
        if (raw.TryGetValue(SentenceOverlapKey, out var value) && TryInteger(SentenceOverlapKey, value, errors, out var given))
        {
            if (given is < 0 or > 1)
            {
                errors.Add($"{SentenceOverlapKey}[{given}] must be either 0 or 1");
            }

            overlap = given;
        }

        return new(ChunkingStrategy.Sentence, max, overlap, null, null, null);
    }

    private static ChunkingSettings ParseWord(IReadOnlyDictionary<string, object?> raw, List<string> errors)
    {
        CheckKeys(raw, "Word based", [StrategyKey, MaxChunkSizeKey, OverlapKey], errors);
        var max = RequiredIntegerBetween(raw, MaxChunkSizeKey, 10, 300, errors);
        int? overlap = null;
        if (max is { } size)
        {
            // The overlap is checked against the size only once the size itself is valid, as Elasticsearch does.
            if (!raw.TryGetValue(OverlapKey, out var value) || value is null)
            {
                errors.Add(Missing(OverlapKey));
            }
            else if (TryInteger(OverlapKey, value, errors, out var given))
            {
                if (given < 0)
                {
                    errors.Add($"[{Scope}] Invalid value [{AsDouble(given)}]. [{OverlapKey}] must be a greater than or equal to [{AsDouble(0)}]");
                }
                else if (given > size / 2)
                {
                    errors.Add($"[{Scope}] Invalid value [{AsDouble(given)}]. [{OverlapKey}] must be a less than or equal to [{AsDouble(size / 2)}]");
                }

                overlap = given;
            }
        }

        return new(ChunkingStrategy.Word, max, null, overlap, null, null);
    }

    private static ChunkingSettings ParseRecursive(IReadOnlyDictionary<string, object?> raw, List<string> errors)
    {
        CheckKeys(raw, "Recursive", [StrategyKey, MaxChunkSizeKey, SeparatorGroupKey, SeparatorsKey], errors);
        var max = RequiredIntegerBetween(raw, MaxChunkSizeKey, 10, 300, errors);

        SeparatorGroup? group = null;
        if (raw.TryGetValue(SeparatorGroupKey, out var groupValue) && groupValue is not null)
        {
            var name = AsText(groupValue);
            group = name?.Trim().ToLowerInvariant() switch
            {
                "plaintext" => Chunking.SeparatorGroup.Plaintext,
                "markdown" => Chunking.SeparatorGroup.Markdown,
                _ => null,
            };
            if (group is null)
            {
                errors.Add($"[{Scope}] Invalid value [{name}] received. [{SeparatorGroupKey}] must be one of [markdown, plaintext]");
            }
        }

        List<string>? separators = null;
        if (raw.TryGetValue(SeparatorsKey, out var separatorsValue) && separatorsValue is not null)
        {
            separators = AsStringList(separatorsValue, errors);
        }

        if (separators is not null && raw.ContainsKey(SeparatorGroupKey) && raw[SeparatorGroupKey] is not null)
        {
            errors.Add("Recursive chunking settings can not have both separators and separator_set");
        }
        else if (separators is { Count: 0 })
        {
            errors.Add("Recursive chunking settings can not have an empty list of separators");
        }
        else if (separators is not null)
        {
            foreach (var separator in separators)
            {
                if (!IsValidRegex(separator))
                {
                    errors.Add($"Recursive chunking settings separator [{separator}] is not a valid regular expression");
                }
            }
        }

        IReadOnlyList<string> resolved = group is { } g ? SeparatorsOf(g) : separators is { Count: > 0 } ? separators.ToArray() : PlaintextSeparators;
        var givenGroup = group ?? (separators is null ? Chunking.SeparatorGroup.Plaintext : null);
        return new(ChunkingStrategy.Recursive, max, null, null, givenGroup, resolved);
    }

    private static ChunkingSettings ParseNone(IReadOnlyDictionary<string, object?> raw, List<string> errors)
    {
        // Elasticsearch 9.x words this error "Sentence based" for the none strategy too; clients see that wording.
        CheckKeys(raw, "Sentence based", [StrategyKey], errors);
        return None;
    }

    private static void CheckKeys(IReadOnlyDictionary<string, object?> raw, string kind, string[] validKeys, List<string> errors)
    {
        var unknown = raw.Keys.Where(k => !validKeys.Contains(k, StringComparer.Ordinal)).ToArray();
        if (unknown.Length > 0)
        {
            errors.Add($"{kind} chunking settings can not have the following settings: [{string.Join(", ", unknown)}]");
        }
    }

    private static int? RequiredIntegerBetween(IReadOnlyDictionary<string, object?> raw, string key, int min, int max, List<string> errors)
    {
        if (!raw.TryGetValue(key, out var value) || value is null)
        {
            errors.Add(Missing(key));
            return null;
        }

        if (!TryInteger(key, value, errors, out var given))
        {
            return null;
        }

        if (given <= 0)
        {
            errors.Add($"[{Scope}] Invalid value [{given}]. [{key}] must be a positive integer");
            return null;
        }

        if (given < min)
        {
            errors.Add($"[{Scope}] Invalid value [{AsDouble(given)}]. [{key}] must be a greater than or equal to [{AsDouble(min)}]");
            return null;
        }

        if (given > max)
        {
            errors.Add($"[{Scope}] Invalid value [{AsDouble(given)}]. [{key}] must be a less than or equal to [{AsDouble(max)}]");
            return null;
        }

        return given;
    }

    private static string Missing(string key) => $"[{Scope}] does not contain the required setting [{key}]";

    private static bool TryInteger(string key, object? value, List<string> errors, out int result)
    {
        switch (value)
        {
            case int i:
                result = i;
                return true;
            case long l when l is >= int.MinValue and <= int.MaxValue:
                result = (int)l;
                return true;
            case short s:
                result = s;
                return true;
            case byte b:
                result = b;
                return true;
            case JsonElement { ValueKind: JsonValueKind.Number } element when element.TryGetInt32(out var fromJson):
                result = fromJson;
                return true;
            default:
                errors.Add($"field [{key}] is not of the expected type. The value [{Describe(value)}] cannot be converted to a [Integer]");
                result = 0;
                return false;
        }
    }

    private static List<string>? AsStringList(object value, List<string> errors)
    {
        var items = new List<string>();
        switch (value)
        {
            case string:
                break;
            case JsonElement { ValueKind: JsonValueKind.Array } array:
                foreach (var item in array.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        errors.Add($"field [{SeparatorsKey}] is not of the expected type. The value [{item}] cannot be converted to a [String]");
                        return null;
                    }

                    items.Add(item.GetString()!);
                }

                return items;
            case IEnumerable enumerable:
                foreach (var item in enumerable)
                {
                    var text = item switch
                    {
                        string s => s,
                        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
                        _ => null,
                    };
                    if (text is null)
                    {
                        errors.Add($"field [{SeparatorsKey}] is not of the expected type. The value [{Describe(item)}] cannot be converted to a [String]");
                        return null;
                    }

                    items.Add(text);
                }

                return items;
        }

        errors.Add($"field [{SeparatorsKey}] is not of the expected type. The value [{Describe(value)}] cannot be converted to a [List]");
        return null;
    }

    private static string? AsText(object? value) => value switch
    {
        null => null,
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
        JsonElement e => e.GetRawText(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static string Describe(object? value) => value switch
    {
        null => "null",
        JsonElement e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText(),
        _ => AsText(value) ?? "null",
    };

    // Elasticsearch formats these bounds as Java doubles ("10.0"), and clients may match on the text.
    private static string AsDouble(int value) => value.ToString(CultureInfo.InvariantCulture) + ".0";

    private static bool IsValidRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
