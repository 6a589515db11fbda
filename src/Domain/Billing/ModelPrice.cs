namespace WebConsole.Domain.Billing;

/// <summary>A stored price of a model; prices are never edited in place, a new one starts at a later date.</summary>
public sealed class ModelPrice
{
    private ModelPrice()
    {
    }

    /// <summary>Identifier.</summary>
    public Guid Id { get; private set; }

    /// <summary>The model.</summary>
    public string ModelId { get; private set; } = string.Empty;

    /// <summary>Price of a million input tokens.</summary>
    public decimal InputPerMillion { get; private set; }

    /// <summary>Price of a million output tokens.</summary>
    public decimal OutputPerMillion { get; private set; }

    /// <summary>ISO 4217 currency code.</summary>
    public string Currency { get; private set; } = string.Empty;

    /// <summary>From when the price applies (UTC).</summary>
    public DateTimeOffset EffectiveFrom { get; private set; }

    /// <summary>The price as a value, with the cost arithmetic.</summary>
    public Price Price => Price.Create(ModelId, InputPerMillion, OutputPerMillion, Currency, EffectiveFrom);

    /// <summary>Stores a price.</summary>
    public static ModelPrice Create(Guid id, Price price) => new()
    {
        Id = Guard.NotEmpty(id, "id"),
        ModelId = price.ModelId ?? throw new DomainValidationException("[model_id] must not be empty"),
        InputPerMillion = price.InputPerMillion,
        OutputPerMillion = price.OutputPerMillion,
        Currency = price.Currency,
        EffectiveFrom = price.EffectiveFrom,
    };
}
