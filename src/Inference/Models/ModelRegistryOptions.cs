using System.ComponentModel.DataAnnotations;

namespace WebConsole.Inference.Models;

/// <summary>
/// Where models are found (configuration section <c>Inference</c>): the model store folder
/// (<c>Inference:ModelStorePath</c>, one sub-folder per model id) and models registered from any local folder
/// (<c>Inference:Models:&lt;id&gt;:Path</c>, with optional per-model overrides).
/// </summary>
public sealed class ModelRegistryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Inference";

    /// <summary>The model store: the model with id <c>org/name</c> lives in <c>&lt;store&gt;/org/name</c>. Null: no store.</summary>
    public string? ModelStorePath { get; set; }

    /// <summary>Models registered by configuration, by id; they win over a store folder of the same id.</summary>
    public Dictionary<string, ModelRegistration> Models { get; init; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One model registered from a local folder (<c>Inference:Models:&lt;id&gt;</c>).</summary>
public sealed class ModelRegistration
{
    /// <summary>The folder in the Hugging Face export layout.</summary>
    [Required]
    public string Path { get; set; } = string.Empty;

    /// <summary>
    /// Text prepended to queries (input_type SEARCH) by text_embedding; overrides what the folder or the id implies
    /// (see <see cref="EmbeddingPrompts"/>). An empty string turns the prefix off.
    /// </summary>
    public string? QueryPrefix { get; set; }

    /// <summary>Text prepended to documents (input_type INGEST) by text_embedding; overrides like <see cref="QueryPrefix"/>.</summary>
    public string? PassagePrefix { get; set; }

    /// <summary>
    /// Whether text_embedding L2-normalises; null follows the folder: a sentence-transformers model normalises when its
    /// modules.json lists Normalize, any other model normalises.
    /// </summary>
    public bool? Normalize { get; set; }
}
