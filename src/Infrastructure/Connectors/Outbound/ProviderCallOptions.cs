namespace WebConsole.Infrastructure.Connectors.Outbound;

/// <summary>
/// How calls to one provider endpoint behave: <paramref name="Service"/> names the service in logs and errors,
/// <paramref name="ThrottleKey"/> groups the calls that share one outbound rate (e.g. service, task type and credential
/// hash), <paramref name="RequestsPerMinute"/> is that rate (null or 0: unthrottled) and <paramref name="Timeout"/> bounds
/// each attempt (until the whole body is read for plain answers, between chunks for event streams).
/// </summary>
public sealed record ProviderCallOptions(string Service, string ThrottleKey, int? RequestsPerMinute, TimeSpan Timeout)
{
    /// <summary>The inference endpoint the calls serve, for log lines; null when unknown.</summary>
    public string? InferenceId { get; init; }

    /// <summary>
    /// Extra header names (beyond <see cref="SecretRedaction.CredentialHeaders"/>) whose values are secret: the chain logs
    /// no header, and redacts these values (and the credential headers' values) from what it logs about a call.
    /// </summary>
    public IReadOnlyList<string> SecretHeaders { get; init; } = [];
}
