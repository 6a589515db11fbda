using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;

namespace WebConsole.Infrastructure.Catalog;

/// <summary>A reference rate limit of the catalog: the limits of the models a selector matches.</summary>
/// <param name="Selector">The models.</param>
/// <param name="Limit">The limits.</param>
public sealed record ReferenceRateLimit(ModelSelector Selector, RateLimit Limit);

/// <summary>
/// The product catalog (<c>catalog.json</c>, embedded in this assembly): the managed service's models and its reference
/// rate limits.
/// </summary>
public sealed partial class CatalogDocument
{
    private const string ResourceName = "WebConsole.Infrastructure.Catalog.catalog.json";

    private CatalogDocument(IReadOnlyList<CatalogModel> models, IReadOnlyList<ReferenceRateLimit> rateLimits)
    {
        Models = models;
        RateLimits = rateLimits;
    }

    /// <summary>The models, in file order.</summary>
    public IReadOnlyList<CatalogModel> Models { get; }

    /// <summary>The reference rate limits, in file order.</summary>
    public IReadOnlyList<ReferenceRateLimit> RateLimits { get; }

    /// <summary>
    /// The default limits of each model family (task type), derived from the reference rows: a family row applies as it
    /// is, a model row lends its limits to its model's task type (the product documents give the same limits to every
    /// model of a kind), and <c>completion</c> follows <c>chat_completion</c> (both are the managed LLMs). The first row
    /// of a family wins. These apply to every model, embedded ones included, that no more specific policy names.
    /// </summary>
    public IReadOnlyList<ReferenceRateLimit> FamilyDefaults()
    {
        var taskTypeOf = Models.ToDictionary(m => m.Id, m => m.TaskType, StringComparer.Ordinal);
        var families = new Dictionary<TaskType, RateLimit>();
        foreach (var reference in RateLimits)
        {
            TaskType? family = reference.Selector.Kind == ModelSelectorKind.Family
                ? TaskTypes.Parse(reference.Selector.Value)
                : taskTypeOf.TryGetValue(reference.Selector.Value, out var taskType) ? taskType : null;
            if (family is { } f)
            {
                families.TryAdd(f, reference.Limit);
            }
        }

        if (families.TryGetValue(TaskType.ChatCompletion, out var chat))
        {
            families.TryAdd(TaskType.Completion, chat);
        }

        return [.. families.OrderBy(f => f.Key).Select(f => new ReferenceRateLimit(ModelSelector.ForFamily(f.Key), f.Value))];
    }

    /// <summary>Reads the embedded catalog.</summary>
    public static CatalogDocument LoadEmbedded()
    {
        using var stream = typeof(CatalogDocument).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing.");
        return Parse(stream);
    }

    /// <summary>Reads a catalog in the format of <c>catalog.json</c>.</summary>
    public static CatalogDocument Parse(Stream json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var models = root.GetProperty("models").EnumerateArray().Select(ParseModel).ToArray();
        var ids = models.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var limits = root.TryGetProperty("rate_limits", out var rateLimits)
            ? rateLimits.EnumerateArray().Select(r => ParseRateLimit(r, ids)).ToArray()
            : [];
        return new CatalogDocument(models, limits);
    }

    private static CatalogModel ParseModel(JsonElement m)
    {
        var card = m.GetProperty("model_card");
        var eol = m.GetProperty("eol_date");
        return CatalogModel.Create(
            id: Text(m, "id"),
            author: Text(m, "author"),
            name: Text(m, "name"),
            taskType: TaskTypes.Parse(Text(m, "task_type")),
            modelCard: new CatalogLink(Text(card, "title"), OptionalText(card, "url")),
            providerTerms: m.GetProperty("provider_terms").EnumerateArray().Select(t => new CatalogLink(Text(t, "title"), OptionalText(t, "url"))),
            inputModalities: Texts(m, "input_modalities"),
            outputModalities: Texts(m, "output_modalities"),
            eolDate: eol.ValueKind == JsonValueKind.Null ? null : DateOnly.ParseExact(eol.GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
            dataRetention: Text(m, "data_retention"),
            usedForTraining: m.GetProperty("used_for_training").GetBoolean(),
            inferenceRegions: Texts(m, "inference_regions"),
            releaseStatus: CatalogModel.ParseReleaseStatus(Text(m, "release_status")),
            stackVersion: Text(m, "stack_version"));
    }

    private static ReferenceRateLimit ParseRateLimit(JsonElement row, HashSet<string> modelIds)
    {
        var appliesTo = Text(row, "applies_to");
        ModelSelector selector;
        if (modelIds.Contains(appliesTo))
        {
            selector = ModelSelector.ForModel(appliesTo);
        }
        else if (FamilyPattern().Match(appliesTo) is { Success: true } match && TaskTypes.TryParse(match.Groups[1].Value, out var family))
        {
            // "managed LLMs (chat_completion)": a family row, named by its task type in parentheses.
            selector = ModelSelector.ForFamily(family);
        }
        else
        {
            throw new InvalidOperationException($"Catalog rate limit applies to [{appliesTo}], which is neither a catalog model nor a task type family.");
        }

        var limit = RateLimit.Create(
            OptionalNumber(row, "requests_per_minute") is { } rpm ? checked((int)rpm) : null,
            OptionalNumber(row, "tokens_per_minute_ingest"),
            OptionalNumber(row, "tokens_per_minute_search"));
        return new ReferenceRateLimit(selector, limit);
    }

    private static string Text(JsonElement element, string name) =>
        element.GetProperty(name).GetString() ?? throw new InvalidOperationException($"Catalog field [{name}] is null.");

    private static string? OptionalText(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string[] Texts(JsonElement element, string name) =>
        element.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static long? OptionalNumber(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    [GeneratedRegex(@"\(([a-z_]+)\)")]
    private static partial Regex FamilyPattern();
}
