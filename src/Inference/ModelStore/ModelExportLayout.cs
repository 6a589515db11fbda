using System.Globalization;
using System.Text.Json;

namespace WebConsole.Inference.ModelStore;

/// <summary>One file a source takes, and where it goes in the model folder.</summary>
/// <param name="SourcePath">Its path in the source (hub repository or folder), with '/' separators.</param>
/// <param name="TargetPath">Its path in the model folder, with '/' separators.</param>
public readonly record struct ModelFileMapping(string SourcePath, string TargetPath);

/// <summary>
/// The files of a model folder in the Hugging Face export layout that the embedded host reads (see
/// <see cref="Models.ModelFolder"/>): which ones a source takes from a repository or folder, and the manifest it leaves
/// beside them.
/// </summary>
public static class ModelExportLayout
{
    /// <summary>The manifest a source writes into the model folder: where the files came from, with sizes and checksums.</summary>
    public const string ManifestFileName = "webconsole-model.json";

    /// <summary>Where the ONNX graph is saved when the source names another graph (e.g. <c>onnx/model_quantized.onnx</c>).</summary>
    public const string GraphPath = "onnx/model.onnx";

    /// <summary>The configuration, tokenizer and sentence-transformers files taken when present (not the ONNX graph).</summary>
    public static IReadOnlyList<string> Files { get; } =
    [
        "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "added_tokens.json", "vocab.txt", "vocab.json", "merges.txt", "chat_template.jinja", "modules.json",
        "config_sentence_transformers.json", "sentence_bert_config.json", "1_Pooling/config.json",
    ];

    /// <summary>The ONNX graphs a model folder is read from, preferred first.</summary>
    public static IReadOnlyList<string> GraphPaths { get; } = [GraphPath, "model.onnx"];

    /// <summary>The files of which a model folder needs at least one: its tokenizer.</summary>
    public static IReadOnlyList<string> TokenizerFiles { get; } = ["tokenizer.json", "vocab.txt", "vocab.json"];

    /// <summary>The external-data files that may hold a graph's weights (same folder, next to the graph).</summary>
    public static IReadOnlyList<string> ExternalDataPaths(string graphPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(graphPath);
        return [graphPath + "_data", graphPath + ".data"];
    }

    /// <summary>
    /// Picks the files of a model from <paramref name="available"/> (paths with '/' separators): the <see cref="Files"/>
    /// present, ONE ONNX graph (<paramref name="graphPath"/> when given, saved as <see cref="GraphPath"/>; else the first of
    /// <see cref="GraphPaths"/>) and that graph's external-data files, which keep their names (the graph refers to them)
    /// beside the saved graph.
    /// </summary>
    /// <param name="available">The source's files.</param>
    /// <param name="graphPath">The graph to take instead of the default ones, or null.</param>
    /// <param name="where">The source, for messages (<c>hub org/name@main</c>).</param>
    /// <exception cref="ModelDownloadException">The source has no (such) ONNX graph, or no tokenizer.</exception>
    public static IReadOnlyList<ModelFileMapping> Select(IEnumerable<string> available, string? graphPath, string where)
    {
        ArgumentNullException.ThrowIfNull(available);
        var present = new HashSet<string>(available, StringComparer.Ordinal);
        string graph;
        if (graphPath is not null)
        {
            graph = present.Contains(graphPath)
                ? graphPath
                : throw new ModelDownloadException($"{where} has no ONNX graph {graphPath}{OnnxHint(present)}.");
        }
        else
        {
            graph = GraphPaths.FirstOrDefault(present.Contains)
                ?? throw new ModelDownloadException($"{where} has no ONNX graph ({string.Join(" or ", GraphPaths)}){OnnxHint(present)}.");
        }

        if (!TokenizerFiles.Any(present.Contains))
        {
            throw new ModelDownloadException($"{where} has no tokenizer ({string.Join(", ", TokenizerFiles)}).");
        }

        var target = GraphPaths.Contains(graph) ? graph : GraphPath;
        var targetFolder = target.LastIndexOf('/') is var slash and >= 0 ? target[..(slash + 1)] : string.Empty;
        var selection = Files.Where(present.Contains).Select(file => new ModelFileMapping(file, file)).ToList();
        selection.Add(new ModelFileMapping(graph, target));
        foreach (var data in ExternalDataPaths(graph).Where(present.Contains))
        {
            selection.Add(new ModelFileMapping(data, targetFolder + data[(data.LastIndexOf('/') + 1)..]));
        }

        return selection;
    }

    private static string OnnxHint(HashSet<string> present)
    {
        var graphs = present.Where(p => p.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).Take(12).ToList();
        return graphs.Count == 0 ? "; it has no .onnx file at all" : $"; its ONNX graphs: {string.Join(", ", graphs)}";
    }
}

/// <summary>One file as the manifest lists it.</summary>
internal readonly record struct ManifestFile(string Path, long Size, string? Sha256);

/// <summary>Helpers the sources share: the manifest, the disk-space check, paths.</summary>
internal static class ModelSourceFiles
{
    /// <summary>Room kept free beyond the files themselves.</summary>
    public const long DiskMargin = 64L * 1024 * 1024;

    public static long FreeSpace(string folder) => new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;

    /// <exception cref="ModelDownloadException">Less than <paramref name="remainingBytes"/> plus the margin is free.</exception>
    public static void EnsureFreeSpace(string folder, long remainingBytes, Func<string, long> probe, string what)
    {
        var needed = Math.Max(0, remainingBytes) + DiskMargin;
        var available = probe(folder);
        if (available < needed)
        {
            throw new ModelDownloadException(
                $"Not enough disk space for {what}: {MiB(needed)} needed in {folder} ({MiB(remainingBytes)} of files and a {MiB(DiskMargin)} margin), {MiB(available)} available.");
        }
    }

    public static string MiB(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";

    public static string Combine(string folder, string relativePath) => Path.Combine([folder, .. relativePath.Split('/')]);

    public static async Task WriteManifestAsync(
        string folder, Action<Utf8JsonWriter> writeSource, IEnumerable<ManifestFile> files, DateTimeOffset downloadedAt, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, ModelExportLayout.ManifestFileName);
        var temporary = path + ".partial";
        await using (var stream = File.Create(temporary))
        {
            await using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            writer.WriteStartObject();
            writeSource(writer);
            writer.WriteStartArray("files");
            foreach (var file in files)
            {
                writer.WriteStartObject();
                writer.WriteString("path", file.Path);
                writer.WriteNumber("size", file.Size);
                if (file.Sha256 is not null)
                {
                    writer.WriteString("sha256", file.Sha256);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("downloaded_at", downloadedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
            await writer.FlushAsync(cancellationToken);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The sha256 (lowercase hex) of a file.</summary>
    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 17, useAsync: true);
        return Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream, cancellationToken));
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread, in order (unlike <see cref="Progress{T}"/>).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
