using WebConsole.Domain.Endpoints;

namespace WebConsole.Domain.Billing;

/// <summary>
/// A model's price per million tokens from a date on. Chat and completion bill input and output tokens; embeddings
/// and rerank bill input tokens only.
/// </summary>
public readonly record struct Price
{
    private Price(string modelId, decimal inputPerMillion, decimal outputPerMillion, string currency, DateTimeOffset effectiveFrom)
    {
        ModelId = modelId;
        InputPerMillion = inputPerMillion;
        OutputPerMillion = outputPerMillion;
        Currency = currency;
        EffectiveFrom = effectiveFrom;
    }

    /// <summary>The model (catalog id or embedded model id).</summary>
    public string ModelId { get; }

    /// <summary>Price of a million input tokens.</summary>
    public decimal InputPerMillion { get; }

    /// <summary>Price of a million output tokens.</summary>
    public decimal OutputPerMillion { get; }

    /// <summary>ISO 4217 currency code, upper case.</summary>
    public string Currency { get; }

    /// <summary>From when the price applies (UTC).</summary>
    public DateTimeOffset EffectiveFrom { get; }

    /// <summary>Creates a price; amounts must not be negative.</summary>
    public static Price Create(string modelId, decimal inputPerMillion, decimal outputPerMillion, string currency, DateTimeOffset effectiveFrom) =>
        new(
            Guard.NotBlank(modelId, "model_id", 128),
            Guard.NotNegative(inputPerMillion, "input_per_million"),
            Guard.NotNegative(outputPerMillion, "output_per_million"),
            Guard.CurrencyCode(currency),
            Guard.Utc(effectiveFrom));

    /// <summary>The cost of a request, exact (decimal arithmetic, no rounding).</summary>
    public decimal CostOf(TaskType taskType, long inputTokens, long outputTokens)
    {
        Guard.NotNegative(inputTokens, "input_tokens");
        Guard.NotNegative(outputTokens, "output_tokens");
        var cost = inputTokens * InputPerMillion / 1_000_000m;
        if (taskType.BillsOutputTokens())
        {
            cost += outputTokens * OutputPerMillion / 1_000_000m;
        }

        return cost;
    }
}
