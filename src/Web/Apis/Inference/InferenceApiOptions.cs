using System.ComponentModel.DataAnnotations;

namespace WebConsole.Web.Apis.Inference;

/// <summary>Limits of inference requests on both REST surfaces (<c>Inference:Api</c>).</summary>
public sealed class InferenceApiOptions
{
    public const string Section = "Inference:Api";

    /// <summary>Most inputs in one request; more is a 400.</summary>
    [Range(1, 1_000_000)]
    public int MaxInputs { get; set; } = 2048;

    /// <summary>Most UTF-8 bytes of all inputs (and the query) together; more is a 413.</summary>
    [Range(1, long.MaxValue)]
    public long MaxInputBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Most bytes of a request body; more is a 413 before the body is parsed.</summary>
    [Range(1, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;
}
