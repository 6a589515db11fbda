namespace WebConsole.Inference.Abstractions;

/// <summary>Tokens a request consumed, counted with the model's own tokenizer (billing and rate limits use them).</summary>
/// <param name="InputTokens">Tokens read: every input (and query) as the model saw it, special tokens included.</param>
/// <param name="OutputTokens">Tokens generated (zero for embeddings and rerank).</param>
public readonly record struct UsageDetails(int InputTokens, int OutputTokens)
{
    /// <summary>Input plus output tokens.</summary>
    public int TotalTokens => InputTokens + OutputTokens;

    /// <summary>Adds two usages.</summary>
    public static UsageDetails operator +(UsageDetails left, UsageDetails right) =>
        new(left.InputTokens + right.InputTokens, left.OutputTokens + right.OutputTokens);

    /// <summary>Adds two usages.</summary>
    public static UsageDetails Add(UsageDetails left, UsageDetails right) => left + right;
}
