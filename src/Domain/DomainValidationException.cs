namespace WebConsole.Domain;

/// <summary>
/// A domain rule was broken. The message is what a client sees, worded as Elasticsearch words it where it has a
/// wording; several broken rules are collected the way Elasticsearch's <c>ValidationException</c> collects them.
/// </summary>
public sealed class DomainValidationException : Exception
{
    /// <summary>One broken rule; the message is the rule's message as is.</summary>
    public DomainValidationException(string message)
        : base(message)
    {
        Errors = [message];
    }

    /// <summary>One broken rule with the exception that revealed it.</summary>
    public DomainValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    /// <summary>Required by convention; prefer a constructor with a message.</summary>
    public DomainValidationException()
        : this("Validation Failed")
    {
    }

    private DomainValidationException(IReadOnlyList<string> errors, string message)
        : base(message)
    {
        Errors = errors;
    }

    /// <summary>Every broken rule, in the order found; one entry for a single-rule failure.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>
    /// Collects several broken rules under Elasticsearch's format <c>Validation Failed: 1: first;2: second;</c>.
    /// </summary>
    public static DomainValidationException FromErrors(IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 0)
        {
            throw new ArgumentException("At least one error is required.", nameof(errors));
        }

        var message = "Validation Failed: " + string.Concat(errors.Select((e, i) => $"{i + 1}: {e};"));
        return new DomainValidationException(errors.ToArray(), message);
    }
}
