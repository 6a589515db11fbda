using System.ComponentModel.DataAnnotations;

namespace WebConsole.Inference.ModelStore;

/// <summary>
/// Where models are downloaded from (configuration section <c>Inference:Hub</c>): a Hugging Face-compatible hub, with
/// the retry and timeout policy of its transfers.
/// </summary>
public sealed class HubOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Inference:Hub";

    /// <summary>The hub's address (a mirror works too); the API and the file URLs are relative to it.</summary>
    [Required]
    [Url]
    public string BaseUrl { get; set; } = "https://huggingface.co";

    /// <summary>
    /// An access token for private or gated repositories, sent as <c>Authorization: Bearer</c> to the hub only (not to
    /// the storage it redirects to) and never logged. Null: anonymous.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>How many times one request is tried when the connection drops, the hub answers 5xx or stops sending.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The pause before the first retry; it doubles with each further retry (at most 30 s).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the hub may stay silent: until it answers a request, and between two reads of a body. A long transfer
    /// that keeps receiving data never times out.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);
}
