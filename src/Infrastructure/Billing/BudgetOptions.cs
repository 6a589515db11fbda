using System.ComponentModel.DataAnnotations;

namespace WebConsole.Infrastructure.Billing;

/// <summary>Settings of section <c>Billing:Budgets</c>: how fresh the in-memory budgets and monthly spend are kept.</summary>
public sealed class BudgetOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Billing:Budgets";

    /// <summary>
    /// How old a budget's spend (read from the usage ledger) and the list of budgets may grow before they are read again.
    /// Spending on this node counts at once; this bounds how late other nodes' spending and budget changes are seen.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RefreshInterval <= TimeSpan.Zero || RefreshInterval > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult(
                $"Billing:Budgets:RefreshInterval must be positive and at most one hour, got [{RefreshInterval}].", [nameof(RefreshInterval)]);
        }
    }
}
