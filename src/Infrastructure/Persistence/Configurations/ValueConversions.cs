using System.Text.Json;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;

namespace WebConsole.Infrastructure.Persistence.Configurations;

/// <summary>Converters and comparers of the value objects and lists, stored as text on every provider.</summary>
internal static class ValueConversions
{
    /// <summary>Length of the columns that hold enum names.</summary>
    public const int EnumLength = 32;

    /// <summary>Costs are stored in units of 10^-9 on SQLite, so SUM over INTEGER is exact there.</summary>
    public const decimal CostScale = 1_000_000_000m;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static readonly ValueConverter<IReadOnlyList<string>, string> StringList = new(
        v => JsonSerializer.Serialize(v, Json),
        v => JsonSerializer.Deserialize<string[]>(v, Json) ?? Array.Empty<string>());

    public static readonly ValueComparer<IReadOnlyList<string>> StringListComparer = new(
        (a, b) => (a ?? Array.Empty<string>()).SequenceEqual(b ?? Array.Empty<string>()),
        v => v.Aggregate(0, (hash, item) => HashCode.Combine(hash, item)),
        v => v.ToArray());

    public static readonly ValueConverter<IReadOnlyList<CatalogLink>, string> LinkList = new(
        v => JsonSerializer.Serialize(v.Select(l => new StoredLink(l.Title, l.Url)), Json),
        v => (JsonSerializer.Deserialize<StoredLink[]>(v, Json) ?? Array.Empty<StoredLink>()).Select(l => new CatalogLink(l.Title, l.Url)).ToArray());

    public static readonly ValueComparer<IReadOnlyList<CatalogLink>> LinkListComparer = new(
        (a, b) => (a ?? Array.Empty<CatalogLink>()).SequenceEqual(b ?? Array.Empty<CatalogLink>()),
        v => v.Aggregate(0, (hash, item) => HashCode.Combine(hash, item)),
        v => v.ToArray());

    public static readonly ValueConverter<CatalogLink, string> Link = new(
        v => JsonSerializer.Serialize(new StoredLink(v.Title, v.Url), Json),
        v => ToLink(JsonSerializer.Deserialize<StoredLink>(v, Json)));

    public static readonly ValueConverter<InferenceId, string> InferenceIdText = new(
        v => v.Value,
        v => InferenceId.Parse(v));

    public static readonly ValueConverter<ModelSelector, string> ModelSelectorText = new(
        v => v.ToString(),
        v => ModelSelector.Parse(v));

    public static readonly ValueConverter<ChunkingSettings, string> ChunkingSettingsJson = new(
        v => SerializeChunking(v),
        v => DeserializeChunking(v));

    public static readonly ValueConverter<decimal, long> ScaledCost = new(
        v => (long)decimal.Round(v * CostScale, 0, MidpointRounding.ToEven),
        v => v / CostScale);

    private static CatalogLink ToLink(StoredLink? link) => link is null ? default : new CatalogLink(link.Title, link.Url);

    private static string SerializeChunking(ChunkingSettings settings) => JsonSerializer.Serialize(settings.ToDictionary(), Json);

    private static ChunkingSettings DeserializeChunking(string json)
    {
        using var document = JsonDocument.Parse(json);
        var raw = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
        return ChunkingSettings.FromDictionary(raw);
    }

    private sealed record StoredLink(string Title, string? Url);
}
