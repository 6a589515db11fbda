using System.Text.Json;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Inference.Models;

/// <summary>
/// A model folder in the Hugging Face export layout: <c>config.json</c>, the tokenizer files (<c>tokenizer.json</c>,
/// or <c>vocab.txt</c> / <c>vocab.json</c> + <c>merges.txt</c>, with <c>tokenizer_config.json</c> and
/// <c>special_tokens_map.json</c>), <c>onnx/model.onnx</c> or <c>model.onnx</c>, and for sentence-transformers
/// models <c>modules.json</c>, <c>1_Pooling/config.json</c>, <c>config_sentence_transformers.json</c>.
/// Immutable once read; thread-safe.
/// </summary>
public sealed class ModelFolder
{
    private static readonly string[] TokenizerFiles = ["tokenizer.json", "vocab.txt", "vocab.json"];

    private ModelFolder(string id, string path, string onnxPath, ModelConfig config, SentenceTransformersConfig? sentenceTransformers, ModelRegistration? registration)
    {
        Id = id;
        Path = path;
        OnnxPath = onnxPath;
        Config = config;
        SentenceTransformers = sentenceTransformers;
        Registration = registration;
    }

    /// <summary>The model id it was found under.</summary>
    public string Id { get; }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>The ONNX graph: onnx/model.onnx, else model.onnx.</summary>
    public string OnnxPath { get; }

    /// <summary>config.json (empty when the folder has none).</summary>
    public ModelConfig Config { get; }

    /// <summary>The sentence-transformers files, or null for a plain transformers export.</summary>
    public SentenceTransformersConfig? SentenceTransformers { get; }

    /// <summary>The configuration that registered the folder, when it was registered rather than found in the store.</summary>
    public ModelRegistration? Registration { get; }

    /// <summary>Reads a folder's layout (not the weights or the tokenizer, which load with the session).</summary>
    /// <exception cref="ModelUnavailableException">The folder, its ONNX graph or its tokenizer is missing, or a file is unreadable.</exception>
    public static ModelFolder Open(string id, string path, ModelRegistration? registration = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!Directory.Exists(path))
        {
            throw new ModelUnavailableException(id, $"Model '{id}': the folder {path} does not exist.");
        }

        var onnx = new[] { System.IO.Path.Combine(path, "onnx", "model.onnx"), System.IO.Path.Combine(path, "model.onnx") }.FirstOrDefault(File.Exists)
            ?? throw new ModelUnavailableException(id, $"Model '{id}': {path} has neither onnx/model.onnx nor model.onnx.");
        if (!TokenizerFiles.Any(file => File.Exists(System.IO.Path.Combine(path, file))))
        {
            throw new ModelUnavailableException(id, $"Model '{id}': {path} has no tokenizer ({string.Join(", ", TokenizerFiles)}).");
        }

        try
        {
            var configPath = System.IO.Path.Combine(path, "config.json");
            var config = File.Exists(configPath) ? ModelConfig.Parse(File.ReadAllText(configPath)) : ModelConfig.Empty;
            return new ModelFolder(id, path, onnx, config, SentenceTransformersConfig.Read(path), registration);
        }
        catch (Exception exception) when (exception is JsonException or InvalidDataException or IOException)
        {
            throw new ModelUnavailableException(id, $"Model '{id}': {exception.Message}", exception);
        }
    }

    /// <summary>Loads the folder's tokenizer.</summary>
    /// <exception cref="ModelUnavailableException">The tokenizer files cannot be read.</exception>
    public ITokenizer LoadTokenizer()
    {
        try
        {
            return TokenizerLoader.FromFolder(Path);
        }
        catch (Exception exception) when (exception is JsonException or InvalidDataException or IOException or NotSupportedException or FormatException)
        {
            throw new ModelUnavailableException(Id, $"Model '{Id}': the tokenizer cannot be loaded: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// The longest input in tokens (special tokens included): tokenizer_config.json's model_max_length, capped by the
    /// position table of config.json; 512 when neither says.
    /// </summary>
    public int MaxInputLength(ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return (tokenizer.ModelMaxLength, Config.MaxInputLength) switch
        {
            ({ } fromTokenizer, { } fromPositions) => Math.Min(fromTokenizer, fromPositions),
            ({ } fromTokenizer, null) => fromTokenizer,
            (null, { } fromPositions) => fromPositions,
            _ => 512,
        };
    }
}
