using WebConsole.Domain.Endpoints;

namespace WebConsole.Domain.Catalog;

/// <summary>Release status of a catalog model.</summary>
public enum ReleaseStatus
{
    /// <summary>"Generally Available".</summary>
    GenerallyAvailable,

    /// <summary>"Preview".</summary>
    Preview,

    /// <summary>"Legacy (EOL Soon)".</summary>
    LegacyEolSoon,
}

/// <summary>A titled link (model card, provider terms).</summary>
/// <param name="Title">Link text.</param>
/// <param name="Url">Absolute URL; null where the source names a document without a link.</param>
public readonly record struct CatalogLink(string Title, string? Url);

/// <summary>
/// A model of the managed inference service's catalog (<c>catalog.json</c>): what it is, who made it, its terms,
/// where it runs and until when.
/// </summary>
public sealed class CatalogModel
{
    /// <summary>How long before the end-of-life date the portal warns.</summary>
    public static readonly TimeSpan EolWarningPeriod = TimeSpan.FromDays(90);

    private CatalogModel()
    {
    }

    /// <summary>Catalog id, e.g. <c>openai-gpt-4.1</c> (the <c>elastic</c> service's <c>model_id</c>).</summary>
    public string Id { get; private set; } = string.Empty;

    /// <summary>Author, e.g. Anthropic.</summary>
    public string Author { get; private set; } = string.Empty;

    /// <summary>Display name.</summary>
    public string Name { get; private set; } = string.Empty;

    /// <summary>The task type the model serves.</summary>
    public TaskType TaskType { get; private set; }

    /// <summary>The model card.</summary>
    public CatalogLink ModelCard { get; private set; }

    /// <summary>Links to the providers' terms.</summary>
    public IReadOnlyList<CatalogLink> ProviderTerms { get; private set; } = [];

    /// <summary>Input modalities (Text, Image, File).</summary>
    public IReadOnlyList<string> InputModalities { get; private set; } = [];

    /// <summary>Output modalities (Text, Embedding).</summary>
    public IReadOnlyList<string> OutputModalities { get; private set; } = [];

    /// <summary>From this day on the model serves no request; null when none is announced.</summary>
    public DateOnly? EolDate { get; private set; }

    /// <summary>Data retention as the catalog states it (days unless stated, e.g. "0", "55 days", "Unknown").</summary>
    public string DataRetention { get; private set; } = string.Empty;

    /// <summary>Whether the provider trains on requests.</summary>
    public bool UsedForTraining { get; private set; }

    /// <summary>Regions where inference runs (US, EU, SG).</summary>
    public IReadOnlyList<string> InferenceRegions { get; private set; } = [];

    /// <summary>Release status.</summary>
    public ReleaseStatus ReleaseStatus { get; private set; }

    /// <summary>The stack version the model appeared with, e.g. 9.3.</summary>
    public string StackVersion { get; private set; } = string.Empty;

    /// <summary>Creates a catalog model.</summary>
    public static CatalogModel Create(
        string id,
        string author,
        string name,
        TaskType taskType,
        CatalogLink modelCard,
        IEnumerable<CatalogLink> providerTerms,
        IEnumerable<string> inputModalities,
        IEnumerable<string> outputModalities,
        DateOnly? eolDate,
        string dataRetention,
        bool usedForTraining,
        IEnumerable<string> inferenceRegions,
        ReleaseStatus releaseStatus,
        string stackVersion)
    {
        var model = new CatalogModel { Id = Guard.NotBlank(id, "id", 128) };
        model.Update(author, name, taskType, modelCard, providerTerms, inputModalities, outputModalities, eolDate, dataRetention, usedForTraining, inferenceRegions, releaseStatus, stackVersion);
        return model;
    }

    /// <summary>Replaces every field but the id (the catalog is re-read at every start).</summary>
    public void Update(
        string author,
        string name,
        TaskType taskType,
        CatalogLink modelCard,
        IEnumerable<CatalogLink> providerTerms,
        IEnumerable<string> inputModalities,
        IEnumerable<string> outputModalities,
        DateOnly? eolDate,
        string dataRetention,
        bool usedForTraining,
        IEnumerable<string> inferenceRegions,
        ReleaseStatus releaseStatus,
        string stackVersion)
    {
        if (!Enum.IsDefined(taskType))
        {
            throw new DomainValidationException($"Unknown task_type [{taskType}]");
        }

        if (!Enum.IsDefined(releaseStatus))
        {
            throw new DomainValidationException($"Unknown release status [{releaseStatus}]");
        }

        Author = Guard.NotBlank(author, "author", 200);
        Name = Guard.Name(name, "name", 200);
        TaskType = taskType;
        ModelCard = new CatalogLink(Guard.NotBlank(modelCard.Title, "model_card.title"), ValidUrl(modelCard.Url));
        ProviderTerms = providerTerms.Select(t => new CatalogLink(Guard.NotBlank(t.Title, "provider_terms.title"), ValidUrl(t.Url))).ToArray();
        InputModalities = inputModalities.Select(m => Guard.NotBlank(m, "input_modalities")).ToArray();
        OutputModalities = outputModalities.Select(m => Guard.NotBlank(m, "output_modalities")).ToArray();
        EolDate = eolDate;
        DataRetention = Guard.NotBlank(dataRetention, "data_retention", 200);
        UsedForTraining = usedForTraining;
        InferenceRegions = inferenceRegions.Select(r => Guard.NotBlank(r, "inference_regions")).ToArray();
        ReleaseStatus = releaseStatus;
        StackVersion = Guard.NotBlank(stackVersion, "stack_version", 32);
    }

    /// <summary>Copies every field but the id from another model (the catalog file's current row).</summary>
    public void UpdateFrom(CatalogModel source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Update(
            source.Author,
            source.Name,
            source.TaskType,
            source.ModelCard,
            source.ProviderTerms,
            source.InputModalities,
            source.OutputModalities,
            source.EolDate,
            source.DataRetention,
            source.UsedForTraining,
            source.InferenceRegions,
            source.ReleaseStatus,
            source.StackVersion);
    }

    /// <summary>Whether the model has reached its end-of-life date (it serves no request from that day on).</summary>
    public bool IsEndOfLife(DateOnly today) => EolDate is { } eol && today >= eol;

    /// <summary>Whether the end of life is within the warning period (90 days) but not yet reached.</summary>
    public bool IsEolSoon(DateOnly today) =>
        EolDate is { } eol && today < eol && eol.DayNumber - today.DayNumber <= (int)EolWarningPeriod.TotalDays;

    /// <summary>The catalog's text of a release status, e.g. "Legacy (EOL Soon)".</summary>
    public static string ToDisplayName(ReleaseStatus status) => status switch
    {
        ReleaseStatus.GenerallyAvailable => "Generally Available",
        ReleaseStatus.Preview => "Preview",
        ReleaseStatus.LegacyEolSoon => "Legacy (EOL Soon)",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>Parses the catalog's text of a release status (case-insensitive).</summary>
    public static ReleaseStatus ParseReleaseStatus(string? text)
    {
        foreach (var status in Enum.GetValues<ReleaseStatus>())
        {
            if (string.Equals(ToDisplayName(status), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return status;
            }
        }

        throw new DomainValidationException($"Unknown release status [{text}]");
    }

    private static string? ValidUrl(string? url)
    {
        if (url is null)
        {
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new DomainValidationException($"Invalid URL [{url}]");
        }

        return url;
    }
}
