using WebConsole.Domain.Endpoints;

namespace WebConsole.Domain.Usage;

/// <summary>Where a request came in.</summary>
public enum Surface
{
    /// <summary>The Elasticsearch <c>/_inference</c> API.</summary>
    Inference,

    /// <summary>The OpenAI-compatible <c>/v1</c> API.</summary>
    OpenAI,

    /// <summary>A SignalR hub.</summary>
    Hub,

    /// <summary>The portal (playground).</summary>
    Portal,
}

/// <summary>How a metered request ended.</summary>
public enum UsageOutcome
{
    /// <summary>Answered.</summary>
    Succeeded,

    /// <summary>Failed after work was done (tokens may have been spent).</summary>
    Failed,

    /// <summary>Cancelled by the client (e.g. a stream closed early); tokens spent so far are billed.</summary>
    Cancelled,

    /// <summary>
    /// A stream still running: written before its first byte and checkpointed while it runs; a record left in this state
    /// belongs to a server that stopped mid-stream, and its tokens up to the last checkpoint are billed.
    /// </summary>
    InProgress,
}

/// <summary>One metered request: tokens and cost, billed under the dimension <c>Inference</c>.</summary>
public sealed class UsageRecord
{
    /// <summary>The billing dimension of every inference request.</summary>
    public const string InferenceBillingDimension = "Inference";

    /// <summary>Billing precision: costs are kept to nine decimal places, the precision every database stores.</summary>
    public const int CostDecimals = 9;

    private UsageRecord()
    {
    }

    /// <summary>Identifier.</summary>
    public Guid Id { get; private set; }

    /// <summary>The request's id; unique, so recording a request twice is detected.</summary>
    public string RequestId { get; private set; } = string.Empty;

    /// <summary>The organization billed.</summary>
    public Guid OrganizationId { get; private set; }

    /// <summary>The team the request was made for.</summary>
    public Guid TeamId { get; private set; }

    /// <summary>The API key used, if any.</summary>
    public string? ApiKeyId { get; private set; }

    /// <summary>The signed-in user, if any.</summary>
    public Guid? UserId { get; private set; }

    /// <summary>The endpoint's inference id.</summary>
    public string InferenceId { get; private set; } = string.Empty;

    /// <summary>The model that served the request.</summary>
    public string ModelId { get; private set; } = string.Empty;

    /// <summary>The task type.</summary>
    public TaskType TaskType { get; private set; }

    /// <summary>Where the request came in.</summary>
    public Surface Surface { get; private set; }

    /// <summary>Input tokens.</summary>
    public long InputTokens { get; private set; }

    /// <summary>Output tokens.</summary>
    public long OutputTokens { get; private set; }

    /// <summary>Cost, rounded to <see cref="CostDecimals"/> places.</summary>
    public decimal Cost { get; private set; }

    /// <summary>The price of a million input tokens in force when the request was made (0 when the model has no price).</summary>
    public decimal InputPricePerMillion { get; private set; }

    /// <summary>The price of a million output tokens in force when the request was made (0 when the model has no price).</summary>
    public decimal OutputPricePerMillion { get; private set; }

    /// <summary>ISO 4217 currency code of <see cref="Cost"/>.</summary>
    public string Currency { get; private set; } = string.Empty;

    /// <summary>Billing dimension; <c>Inference</c>.</summary>
    public string BillingDimension { get; private set; } = InferenceBillingDimension;

    /// <summary>When the request ended (UTC).</summary>
    public DateTimeOffset OccurredAt { get; private set; }

    /// <summary>How the request ended.</summary>
    public UsageOutcome Outcome { get; private set; }

    /// <summary>Records a request.</summary>
    public static UsageRecord Create(
        Guid id,
        string requestId,
        Guid organizationId,
        Guid teamId,
        string? apiKeyId,
        Guid? userId,
        string inferenceId,
        string modelId,
        TaskType taskType,
        Surface surface,
        long inputTokens,
        long outputTokens,
        decimal cost,
        string currency,
        UsageOutcome outcome,
        DateTimeOffset occurredAt,
        decimal inputPricePerMillion = 0,
        decimal outputPricePerMillion = 0)
    {
        if (!Enum.IsDefined(taskType) || !Enum.IsDefined(surface) || !Enum.IsDefined(outcome))
        {
            throw new DomainValidationException("Unknown task type, surface or outcome");
        }

        return new UsageRecord
        {
            Id = Guard.NotEmpty(id, "id"),
            RequestId = Guard.NotBlank(requestId, "request_id", 128),
            OrganizationId = Guard.NotEmpty(organizationId, "organization_id"),
            TeamId = Guard.NotEmpty(teamId, "team_id"),
            ApiKeyId = string.IsNullOrWhiteSpace(apiKeyId) ? null : apiKeyId,
            UserId = userId,
            InferenceId = Guard.NotBlank(inferenceId, "inference_id", Endpoints.InferenceId.MaxLength),
            ModelId = Guard.NotBlank(modelId, "model_id", 128),
            TaskType = taskType,
            Surface = surface,
            InputTokens = Guard.NotNegative(inputTokens, "input_tokens"),
            OutputTokens = Guard.NotNegative(outputTokens, "output_tokens"),
            Cost = Math.Round(Guard.NotNegative(cost, "cost"), CostDecimals, MidpointRounding.ToEven),
            InputPricePerMillion = Guard.NotNegative(inputPricePerMillion, "input_price_per_million"),
            OutputPricePerMillion = Guard.NotNegative(outputPricePerMillion, "output_price_per_million"),
            Currency = Guard.CurrencyCode(currency),
            BillingDimension = InferenceBillingDimension,
            OccurredAt = Guard.Utc(occurredAt),
            Outcome = outcome,
        };
    }

    /// <summary>
    /// Brings the record up to date as a stream goes on or ends: tokens and cost only grow (a late checkpoint never undoes a
    /// later one), the outcome moves on from <see cref="UsageOutcome.InProgress"/> and then stays.
    /// </summary>
    public void Revise(long inputTokens, long outputTokens, decimal cost, UsageOutcome outcome, DateTimeOffset occurredAt)
    {
        if (!Enum.IsDefined(outcome))
        {
            throw new DomainValidationException("Unknown outcome");
        }

        InputTokens = Math.Max(InputTokens, Guard.NotNegative(inputTokens, "input_tokens"));
        OutputTokens = Math.Max(OutputTokens, Guard.NotNegative(outputTokens, "output_tokens"));
        Cost = Math.Max(Cost, Math.Round(Guard.NotNegative(cost, "cost"), CostDecimals, MidpointRounding.ToEven));
        if (Outcome == UsageOutcome.InProgress)
        {
            Outcome = outcome;
            OccurredAt = Guard.Utc(occurredAt);
        }
    }
}
