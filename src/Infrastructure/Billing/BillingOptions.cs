using System.ComponentModel.DataAnnotations;

namespace WebConsole.Infrastructure.Billing;

/// <summary>Settings of section <c>Billing</c>: the installation's currency, the price cache and the usage ledger.</summary>
public sealed class BillingOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Billing";

    /// <summary>ISO 4217 code of the installation's currency: prices are set and costs reported in it.</summary>
    public string Currency { get; set; } = "USD";

    /// <summary>
    /// How many usage records may wait for the database (queued or being written) before new requests are refused with a
    /// 503 rather than served unbilled.
    /// </summary>
    [Range(1, 10_000_000, ErrorMessage = "Billing:LedgerBufferCapacity must be between 1 and 10000000.")]
    public int LedgerBufferCapacity { get; set; } = 10_000;

    /// <summary>The most records one group commit writes.</summary>
    [Range(1, 10_000, ErrorMessage = "Billing:LedgerMaxBatchSize must be between 1 and 10000.")]
    public int LedgerMaxBatchSize { get; set; } = 500;

    /// <summary>The first wait after a failed write; it doubles up to <see cref="LedgerRetryMaxDelay"/>.</summary>
    public TimeSpan LedgerRetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between two attempts to write while the database is unavailable.</summary>
    public TimeSpan LedgerRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a stopping server keeps trying to write what it still holds when no shutdown deadline is given.</summary>
    public TimeSpan LedgerShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How old the in-memory price list may grow before it is read again (prices set on this node apply at once; this
    /// bounds how late another node's change is seen).
    /// </summary>
    public TimeSpan PriceRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Currency is not { Length: 3 } || !Currency.All(char.IsAsciiLetter))
        {
            yield return new ValidationResult($"Billing:Currency must be a three-letter ISO 4217 code, got [{Currency}].", [nameof(Currency)]);
        }

        if (LedgerRetryInitialDelay <= TimeSpan.Zero || LedgerRetryMaxDelay < LedgerRetryInitialDelay)
        {
            yield return new ValidationResult(
                "Billing:LedgerRetryInitialDelay must be positive and not above Billing:LedgerRetryMaxDelay.", [nameof(LedgerRetryInitialDelay)]);
        }

        if (LedgerShutdownTimeout < TimeSpan.Zero || PriceRefreshInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult(
                "Billing:LedgerShutdownTimeout must not be negative and Billing:PriceRefreshInterval must be positive.", [nameof(PriceRefreshInterval)]);
        }
    }
}
