using System.Collections.Concurrent;
using WebConsole.Inference.Models;

namespace WebConsole.Infrastructure.Models;

/// <summary>
/// What <see cref="ModelInspector"/> reads from a model folder (it loads the tokenizer, which for a multilingual model
/// takes a while), kept per folder and graph file version so listings stay fast. Singleton; thread-safe.
/// </summary>
public sealed class ModelDescriptions
{
    private readonly ConcurrentDictionary<(string Path, DateTime Written), ModelDescription> _cache = new();

    /// <summary>The description of <paramref name="folder"/>, read once per version of its ONNX graph.</summary>
    /// <exception cref="Inference.Abstractions.ModelUnavailableException">The tokenizer cannot be loaded.</exception>
    public ModelDescription Get(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var key = (folder.Path, File.GetLastWriteTimeUtc(folder.OnnxPath));
        return _cache.GetOrAdd(key, _ => ModelInspector.Inspect(folder));
    }
}
