using WebConsole.Inference.Runtime;

namespace WebConsole.Inference;

/// <summary>Settings of the embedded inference host (configuration section <c>Inference</c>).</summary>
public sealed class InferenceOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Inference";

    /// <summary>
    /// Where models run: <c>auto</c> (CUDA when its provider library and a GPU are present, otherwise CPU), <c>cpu</c>
    /// or <c>cuda</c> (start-up fails when CUDA is unavailable).
    /// </summary>
    public InferenceDevice Device { get; set; } = InferenceDevice.Auto;

    /// <summary>
    /// Whether ONNX Runtime's intra-op threads spin after a run waiting for the next one (its default). Spinning shortens
    /// back-to-back runs when nothing else needs the cores; in a server the spinning threads compete with the HTTP,
    /// tokenization and ledger work between batches (<c>Inference:AllowSpinning</c>).
    /// </summary>
    public bool AllowSpinning { get; set; } = true;
}
